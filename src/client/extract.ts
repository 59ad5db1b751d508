/**
 * `moss extract` (spec §4.11): a stone's files laid out under `<DIR>/<meta id>/usr`, every byte
 * verified. Unlike Rust (which borrows `./.moss` and can wipe a host's store) everything happens
 * in a private directory inside DIR, and the finished tree replaces the old one by rename.
 */
import fs from "node:fs";
import path from "node:path";
import { EMPTY_FILE_DIGEST } from "../constants.ts";
import { MossError } from "../errors.ts";
import { checkLayoutAgainstIndex } from "../stone/consistency.ts";
import { streamContent } from "../stone/content.ts";
import { StoneError } from "../stone/errors.ts";
import { metaId, packageFromMeta } from "../stone/package-meta.ts";
import { StoneReader } from "../stone/reader.ts";
import { planTree, type PlannedEntry } from "./tree-plan.ts";

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
  const plan = planTree(records.layout, stonePath);
  checkLayoutAgainstIndex(records.layout, records.index, stonePath);

  fs.mkdirSync(outputDir, { recursive: true });
  const destination = path.join(fs.realpathSync(outputDir), id);
  const work = fs.mkdtempSync(path.join(path.dirname(destination), ".moss-extract-"));
  try {
    const assets = path.join(work, "assets");
    fs.mkdirSync(assets);
    await streamContent(reader, records.index, assetSink(assets), { spillDir: work, onProgress: opts.onProgress });
    const started = performance.now();
    const tree = path.join(work, "tree");
    const entries = blit(plan, tree, assets);
    fs.rmSync(destination, { recursive: true, force: true });
    fs.renameSync(tree, destination);
    return { path: stonePath, skipped: false, destination, entries, seconds: (performance.now() - started) / 1000 };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** Each verified file becomes `assets/<digest>`; the directory is private, so no `.part` dance. */
function assetSink(assets: string) {
  let fd = -1;
  return {
    beginFile(record: { digest: string }) {
      fd = fs.openSync(path.join(assets, record.digest), "w", 0o600);
    },
    write(chunk: Uint8Array) {
      let done = 0;
      while (done < chunk.length) done += fs.writeSync(fd, chunk, done);
    },
    endFile() {
      fs.closeSync(fd);
      fd = -1;
    },
  };
}

/** Create the planned tree; returns the entries made, the root excluded (spec §3.11). */
function blit(plan: PlannedEntry[], tree: string, assets: string): number {
  fs.mkdirSync(tree, { mode: 0o755 });
  const assetModes = new Map<string, number>();
  const directoryModes: [string, number][] = [];
  let made = 0;
  for (const entry of plan) {
    const target = path.join(tree, entry.path);
    const mode = (entry.record?.mode ?? 0o40755) & 0o7777;
    try {
      if (entry.kind === "directory") {
        // Writable while we fill it; the layout's mode is applied once its children exist.
        fs.mkdirSync(target, { mode: 0o755 });
        directoryModes.push([target, mode]);
      } else if (entry.kind === "symlink") {
        fs.symlinkSync(entry.record!.source!, target);
      } else {
        const digest = entry.record!.digest!;
        const blitMode = mode & ~0o222;
        if (digest === EMPTY_FILE_DIGEST) {
          fs.closeSync(fs.openSync(target, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY, blitMode));
          fs.chmodSync(target, blitMode);
        } else {
          fs.linkSync(path.join(assets, digest), target);
          // All links share one inode: its permissions are the union of every use (Rust's rule).
          assetModes.set(digest, (assetModes.get(digest) ?? 0) | blitMode);
        }
      }
    } catch (error) {
      throw new MossError("BLIT", `blit: /${entry.path}: ${(error as Error).message}`, { cause: error });
    }
    if (entry.path !== "usr") made++;
  }
  for (const [digest, mode] of assetModes) fs.chmodSync(path.join(assets, digest), mode);
  for (const [directory, mode] of directoryModes.reverse()) fs.chmodSync(directory, mode);
  return made;
}
