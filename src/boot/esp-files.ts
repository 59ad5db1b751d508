/**
 * Files on the ESP and XBOOTLDR (boot-management §4.1, §5.2, §5.3 "Ours"). Paths are matched
 * case-insensitively against what is there (FAT is case-insensitive, and another tool may have
 * made `efi/BOOT/`); a file is only written when its content differs; every write goes to a
 * `<stem>..TmpWrite` sibling (the name Rust uses, so either tool can clean it up), is fsynced,
 * renamed over the destination and the directory fsynced: the old file or the new one is there
 * at every instant, never a truncated one.
 */
import fs from "node:fs";
import path from "node:path";
import { fsyncPath } from "../linux/index.ts";
import { readTextIfAny } from "./tolerant-fs.ts";

export const TEMP_SUFFIX = "..TmpWrite";
const COMPARE_CHUNK = 1 << 20;

/** `base` joined with `relative`, each component spelled as it already exists there (any case). */
export function resolveCase(base: string, relative: string): string {
  let at = base;
  for (const part of relative.split("/").filter(Boolean)) {
    let names: string[] = [];
    try {
      names = fs.readdirSync(at);
    } catch {
      // Not there yet: everything below keeps the wanted spelling.
    }
    const lower = part.toLowerCase();
    at = path.join(at, names.includes(part) ? part : names.find((n) => n.toLowerCase() === lower) ?? part);
  }
  return at;
}

/** The temporary name a write to `dest` goes through: its extension replaced by `.TmpWrite` after a dot. */
export function tempPathFor(dest: string): string {
  const name = path.basename(dest);
  const dot = name.lastIndexOf(".");
  return path.join(path.dirname(dest), `${dot > 0 ? name.slice(0, dot) : name}${TEMP_SUFFIX}`);
}

export function isTempName(name: string): boolean {
  return name.endsWith(TEMP_SUFFIX);
}

/** Whether `dest` already holds exactly these bytes (a missing or unreadable file does not). */
export function holdsFile(dest: string, source: string): boolean {
  let a: number | undefined;
  let b: number | undefined;
  try {
    const destStat = fs.statSync(dest);
    const sourceStat = fs.statSync(source);
    if (!destStat.isFile() || destStat.size !== sourceStat.size) return false;
    if (destStat.dev === sourceStat.dev && destStat.ino === sourceStat.ino) return true;
    a = fs.openSync(dest, "r");
    b = fs.openSync(source, "r");
    const left = Buffer.allocUnsafe(COMPARE_CHUNK);
    const right = Buffer.allocUnsafe(COMPARE_CHUNK);
    for (let offset = 0; offset < destStat.size; offset += COMPARE_CHUNK) {
      const got = fs.readSync(a, left, 0, COMPARE_CHUNK, offset);
      const other = fs.readSync(b, right, 0, COMPARE_CHUNK, offset);
      if (got !== other || !left.subarray(0, got).equals(right.subarray(0, got))) return false;
      if (got === 0) break;
    }
    return true;
  } catch {
    return false;
  } finally {
    if (a !== undefined) fs.closeSync(a);
    if (b !== undefined) fs.closeSync(b);
  }
}

export function holdsText(dest: string, text: string): boolean {
  return readTextIfAny(dest) === text;
}

/** Write `dest` from a file or a text through its temporary name; directories are made as needed. */
export function replaceFile(dest: string, content: { file: string } | { text: string }): void {
  const dir = path.dirname(dest);
  fs.mkdirSync(dir, { recursive: true });
  const temp = tempPathFor(dest);
  if ("file" in content) fs.copyFileSync(content.file, temp);
  else fs.writeFileSync(temp, content.text);
  fsyncPath(temp);
  fs.renameSync(temp, dest);
  fsyncPath(dir);
}

/** Remove a file or a directory tree, and make the removal durable in its parent. */
export function removePath(target: string): void {
  fs.rmSync(target, { recursive: true, force: true });
  try {
    fsyncPath(path.dirname(target));
  } catch {
    // The parent went too (a tree removed with its directory): nothing left to flush.
  }
}

export interface SpaceInfo {
  free: number;
  blockSize: number;
  /** The filesystem's device: two directories with one dev share their space. */
  dev: number;
}

/** The filesystem holding `dir`, or the nearest directory above it that exists (a partition not written to yet). */
export function spaceOf(dir: string): SpaceInfo {
  let at = dir;
  while (!fs.existsSync(at)) at = path.dirname(at);
  const stats = fs.statfsSync(at);
  return { free: stats.bavail * stats.bsize, blockSize: stats.bsize, dev: fs.statSync(at).dev };
}

/** Bytes a file of `size` takes in blocks of `blockSize`. */
export function onDisk(size: number, blockSize: number): number {
  return Math.ceil(size / blockSize) * blockSize;
}

/** Size of a file, or of everything below a directory; 0 for nothing. */
export function sizeOnDisk(target: string, blockSize: number): number {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(target);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return onDisk(st.size, blockSize);
  let total = 0;
  for (const name of fs.readdirSync(target)) total += sizeOnDisk(path.join(target, name), blockSize);
  return total;
}
