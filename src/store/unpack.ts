/**
 * Cache step of a transaction (spec §3.6, stone §11): a downloaded `.stone` becomes assets in the
 * content store. Unlike Rust, the content is split on the fly instead of through a temp file, no
 * asset is published before the payload's checksum matched, and a failure leaves no `.part`.
 */
import { createXxh3_128 } from "../hash/xxh3.ts";
import {
  checkLayoutAgainstIndex, isContiguous, packageFromMeta, StoneError, StoneReader, streamContent,
  type IndexRecord, type LayoutRecord, type PackageMeta,
} from "../stone/index.ts";
import { checkExistingAsset } from "./asset-check.ts";
import { AssetWriter, makeAssetDirectory } from "./asset-writer.ts";
import { StoreError, storeIoError } from "./errors.ts";
import { assetName, assetPathIn, assetsV2Dir } from "./paths.ts";
import fs from "node:fs";

export interface StoreDirs {
  /** `/.moss/assets` */
  assetsDir: string;
  /** `<cache>/content`: where a package whose index is out of order spills its plain content. */
  tempDir: string;
}

export interface UnpackOptions {
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

  const { toWrite, reused } = await planAssets(assetsV2Dir(store.assetsDir), index);
  result.reused = reused;
  // Every asset is already there and verified: the content is not needed at all.
  if (toWrite.size === 0) return result;

  if (!isContiguous(index)) ensureDir(store.tempDir);
  const writer = new AssetWriter(toWrite);
  try {
    const summary = await streamContent(reader, index, writer, { spillDir: store.tempDir, onProgress: opts.onProgress });
    writer.publish();
    result.written = writer.written;
    result.plainBytes = summary.plainBytes;
    return result;
  } catch (error) {
    writer.discard();
    throw error;
  }
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
async function planAssets(v2Dir: string, index: IndexRecord[]) {
  const toWrite = new Map<string, string>();
  const seen = new Set<string>();
  const madeByUs = new Map<string, boolean>();
  let reused = 0;
  using hasher = await createXxh3_128();
  for (const record of index) {
    if (seen.has(record.digest)) continue;
    seen.add(record.digest);
    const target = assetPathIn(v2Dir, assetName(record.digest));
    const dir = target.slice(0, target.lastIndexOf("/"));
    let fresh = madeByUs.get(dir);
    if (fresh === undefined) madeByUs.set(dir, (fresh = makeAssetDirectory(dir)));
    if (!fresh && checkExistingAsset(target, record.end - record.start, record.digest, hasher) === "ok") reused++;
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
