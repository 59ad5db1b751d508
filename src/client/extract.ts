/**
 * `moss extract` (spec §4.11): a stone's files laid out under `<DIR>/<meta id>/usr`, every byte
 * verified. Unlike Rust (which borrows `./.moss` and can wipe a host's store) everything happens
 * in a private directory inside DIR, and the finished tree replaces the old one by rename.
 */
import fs from "node:fs";
import path from "node:path";
import { checkLayoutAgainstIndex } from "../stone/consistency.ts";
import { StoneError } from "../stone/errors.ts";
import { metaId, packageFromMeta } from "../stone/package-meta.ts";
import { StoneReader } from "../stone/reader.ts";
import { unpackToStore } from "../store/index.ts";
import { blitVfs } from "../transaction/blit.ts";
import { buildVfs } from "../vfs/index.ts";
import { planTree } from "./tree-plan.ts";

export interface ExtractOptions {
  onProgress?: (plainBytes: number, plainSize: number) => void;
}

export type ExtractResult =
  | { path: string; skipped: true; reason: string }
  | { path: string; skipped: false; destination: string; entries: number; seconds: number };

export async function extractStone(stonePath: string, outputDir: string, opts: ExtractOptions = {}): Promise<ExtractResult> {
  using reader = StoneReader.open(stonePath);
  const records = reader.records();
  const meta = records.metas[0];
  if (!meta) throw new StoneError("STONE_MISSING_META", "Missing metadata", { file: stonePath });
  if (records.layout.length === 0) return { path: stonePath, skipped: true, reason: "No layout records found, skipping." };
  const id = metaId(packageFromMeta(meta, { file: stonePath, payload: "meta" }));
  if (id.includes("/") || id === "." || id === ".." || id.includes("\0")) {
    throw new StoneError("STONE_RECORD", `package id "${id}" cannot be a directory name`, { file: stonePath });
  }
  // The package alone must be well-formed (no duplicates, nothing below its own symlinks): these
  // checks name the exact record, before a byte is unpacked.
  planTree(records.layout, stonePath);
  checkLayoutAgainstIndex(records.layout, records.index, stonePath);

  fs.mkdirSync(outputDir, { recursive: true });
  const destination = path.join(fs.realpathSync(outputDir), id);
  const work = fs.mkdtempSync(path.join(path.dirname(destination), ".moss-extract-"));
  try {
    // The same path as an install: a private content store, the VFS, the blit.
    const store = { assetsDir: path.join(work, "assets"), tempDir: path.join(work, "content") };
    await unpackToStore(stonePath, store, { onProgress: opts.onProgress });
    const vfs = buildVfs(records.layout.map((record) => ({ packageId: id, record })), { describe: () => id });
    const tree = path.join(work, "tree");
    fs.mkdirSync(tree, { mode: 0o755 });
    const blit = blitVfs(vfs, tree, store.assetsDir, { strategy: "hardlink" });
    fs.rmSync(destination, { recursive: true, force: true });
    fs.renameSync(tree, destination);
    // Rust counts the package's entries; the implicit /usr directory is not one of them.
    const entries = blit.entries - 1;
    return { path: stonePath, skipped: false, destination, entries, seconds: blit.seconds };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
