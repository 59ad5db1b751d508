/** The content store (CAS of XXH3-128 named assets) and the download cache: paths, unpack, verification, GC. */
export { assetName, assetPath, assetsV2Dir, downloadPath } from "./paths.ts";
export { unpackToStore, type StoreDirs, type UnpackOptions, type UnpackResult } from "./unpack.ts";
export { unpackAll, UnpackFeed, unpackThreads, type UnpackAllOptions, type UnpackCounts, type UnpackedPackage } from "./unpack-pool.ts";
export { verifyAsset, type AssetState } from "./asset-check.ts";
export { collectAssets, collectDownloads, type CollectResult } from "./gc.ts";
export { cleanLeftovers } from "./leftovers.ts";
export { StoreError, type StoreErrorCode } from "./errors.ts";
