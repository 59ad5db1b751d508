/**
 * Cache step of a transaction (spec §3.6, stone §11): a downloaded `.stone` becomes assets in the
 * content store. Unlike Rust, the content is split on the fly instead of through a temp file, no
 * asset is published before the payload's checksum matched, and a failure leaves no `.part`.
 */
import fs from "node:fs";
import { createXxh3_128 } from "../hash/xxh3.ts";
import {
  checkLayoutAgainstIndex, isContiguous, packageFromMeta, StoneError, StoneReader, streamContent,
  type IndexRecord, type LayoutRecord, type PackageMeta,
} from "../stone/index.ts";
import { checkExistingAsset } from "./asset-check.ts";
import { AssetWriter } from "./asset-writer.ts";
import { AssetsDir } from "./assets-dir.ts";
import { StoreError, storeIoError } from "./errors.ts";
import { assetName, assetsV2Dir, relativeAssetPath } from "./paths.ts";
import { beginWriting, endWriting } from "./writers.ts";

export interface StoreDirs {
  /** `/.moss/assets` */
  assetsDir: string;
  /** `<cache>/content`: where a package whose index is out of order spills its plain content. */
  tempDir: string;
}

export interface UnpackOptions {
  /** Plain content bytes done out of the total; reported complete at once when nothing needs decoding. */
  onProgress?: (plainBytes: number, plainSize: number) => void;
}

export interface UnpackResult {
  meta: PackageMeta;
  layout: LayoutRecord[];
  index: IndexRecord[];
  /** Distinct assets written by this unpack. */
  written: number;
  /** Distinct assets already in the store with the right bytes. */
  reused: number;
  /** Plain content bytes decompressed: 0 when every asset was already in the store. */
  plainBytes: number;
}

/**
 * Put every file of the package at `stonePath` into the store, or nothing: the records are read
 * and checked, assets already present are hashed and kept when right, the rest are streamed out
 * of the content payload into `.part` files and renamed into place only once the payload's
 * checksum matched. On any error the `.part` files of this call are deleted and the error
 * (StoneError for the package, StoreError for the store) is rethrown.
 */
export async function unpackToStore(stonePath: string, store: StoreDirs, opts: UnpackOptions = {}): Promise<UnpackResult> {
  using reader = StoneReader.open(stonePath);
  const records = reader.records();
  const metaRecords = records.metas[0];
  if (!metaRecords) throw new StoneError("STONE_MISSING_META", "Missing metadata", { file: stonePath });
  const meta = packageFromMeta(metaRecords, { file: stonePath, payload: "meta" });
  const { layout, index } = records;
  // A layout entry without content would only fail later, at blit time, far from its cause.
  checkLayoutAgainstIndex(layout, index, stonePath);
  const result: UnpackResult = { meta, layout, index, written: 0, reused: 0, plainBytes: 0 };
  if (index.length === 0) return result;
  if (!reader.contentPayload) throw new StoreError("STORE_MISSING_CONTENT", `${stonePath}: Missing content payload`);

  using assets = new AssetsDir(assetsV2Dir(store.assetsDir));
  const { toWrite, reused } = await planAssets(assets, index);
  result.reused = reused;
  // Every asset is already there and verified: the content is not needed at all.
  if (toWrite.size === 0) {
    const { plainSize } = reader.contentPayload.header;
    opts.onProgress?.(plainSize, plainSize);
    return result;
  }

  if (!isContiguous(index)) ensureDir(store.tempDir);
  const writer = new AssetWriter(toWrite, assets);
  // Marked as a writer while any `.part` of ours may exist; a marker left by a crash makes the
  // next command sweep the store for parts (writers.ts).
  beginWriting(assets.v2Dir);
  try {
    const summary = await streamContent(reader, index, writer, { spillDir: store.tempDir, onProgress: opts.onProgress });
    writer.publish();
    result.written = writer.written;
    result.plainBytes = summary.plainBytes;
  } catch (error) {
    writer.discard();
    endWriting(assets.v2Dir);
    throw error;
  }
  endWriting(assets.v2Dir);
  return result;
}

/**
 * Which assets to write: every distinct digest whose asset is missing, or is there with other
 * bytes (hashed again, as Rust does: a damaged store repairs itself on the next install).
 *
 * Each asset's directory is made here, and making it doubles as the existence test: nearly every
 * asset has a leaf directory of its own (2^24 of them), so a leaf this call had to create cannot
 * hold the asset yet, and no stat is needed. Directories left empty by a failed unpack are
 * collected by the asset GC.
 */
async function planAssets(assets: AssetsDir, index: IndexRecord[]) {
  const toWrite = new Map<string, string>();
  const seen = new Set<string>();
  const madeByUs = new Map<string, boolean>();
  let reused = 0;
  using hasher = await createXxh3_128();
  for (const record of index) {
    if (seen.has(record.digest)) continue;
    seen.add(record.digest);
    const target = relativeAssetPath(assetName(record.digest));
    const cut = target.lastIndexOf("/");
    const dir = cut < 0 ? "" : target.slice(0, cut);
    let fresh = madeByUs.get(dir);
    if (fresh === undefined) madeByUs.set(dir, (fresh = assets.makeLeafFor(target)));
    if (!fresh && checkExistingAsset(assets.absolute(target), record.end - record.start, record.digest, hasher) === "ok") reused++;
    else toWrite.set(record.digest, target);
  }
  return { toWrite, reused };
}

function ensureDir(dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw storeIoError("cannot create directory", dir, error);
  }
}
