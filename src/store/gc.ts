/**
 * Garbage collection of the content store and the download cache (spec §7.2 steps 3–4, §7.3).
 * Everything not in the keep set goes: stray `.part` files, files a crash left behind, and
 * files under a name that is right but in the wrong place; then the directories left empty.
 * Unlike Rust (§9 item 19) the actual files found are removed, so nothing escapes the sweep.
 */
import { assetName, assetPathIn, assetsV2Dir, downloadsV1Dir } from "./paths.ts";
import { sweep, type SweepResult } from "./sweep.ts";
import { SWEPT_STAMP } from "./writers.ts";

export type CollectResult = SweepResult;

/**
 * Delete every file under `<assetsDir>/v2` that is not the asset of a kept digest. `keep` holds
 * XXH3-128 digests as the layout records carry them (32 hex digits; shortened names work too).
 */
export function collectAssets(assetsDir: string, keep: Set<string>): CollectResult {
  const v2Dir = assetsV2Dir(assetsDir);
  const keptNames = new Set<string>();
  for (const digest of keep) keptNames.add(assetName(digest));
  // The stamp of writers.ts stays true after a sweep that removed every stray part: keeping it
  // spares the next command a full walk, and it is not an asset to count as removed.
  const stamp = `${v2Dir}/${SWEPT_STAMP}`;
  return sweep(v2Dir, (file, name) => file === stamp || (keptNames.has(name) && assetPathIn(v2Dir, name) === file));
}

/** Delete every file under `<cacheDir>/downloads/v1` that is not the download of a kept SHA-256. */
export function collectDownloads(cacheDir: string, keepHashes: Set<string>): CollectResult {
  const v1Dir = downloadsV1Dir(cacheDir);
  return sweep(v1Dir, (file, name) =>
    keepHashes.has(name) && name.length >= 5 && `${v1Dir}/${name.slice(0, 5)}/${name.slice(-5)}/${name}` === file);
}
