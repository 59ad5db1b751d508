/**
 * Packs a directory tree (standing for `/usr`) into a binary `.stone`, as boulder does after a
 * build: layout records for every directory, file and symlink below the root, and one content
 * entry per unique digest, largest first (stone §6.3, §12). Files are hashed and later stored in
 * 1 MiB reads, so a package of any size passes through bounded memory.
 */
import fs from "node:fs";
import path from "node:path";
import { READ_CHUNK_SIZE } from "../constants.ts";
import { createXxh3_128, type StreamingHasher } from "../hash/xxh3.ts";
import { StoneError } from "./errors.ts";
import { metaRecordsFor, type PackageInput } from "./package-records.ts";
import { FileType, LayoutEntryType, type LayoutRecord } from "./types.ts";
import { writeStone, type ContentFile, type WriteSummary } from "./writer.ts";

export interface PackTreeOptions {
  /** zstd level of every payload. */
  level?: number;
  /** zstd windowLog of the content frame. */
  windowLog?: number;
  /** Keep each entry's uid/gid instead of 0:0; packages are built as root, so the default is 0:0. */
  keepOwnership?: boolean;
}

export interface PackSummary extends WriteSummary {
  regularFiles: number;
  symlinks: number;
  directories: number;
  /** Regular files left after deduplication by digest. */
  uniqueFiles: number;
}

export async function packTree(dir: string, pkg: PackageInput, outPath: string, opts: PackTreeOptions = {}): Promise<PackSummary> {
  const rootStat = fs.statSync(dir, { throwIfNoEntry: false });
  if (!rootStat?.isDirectory()) throw new StoneError("STONE_IO", `cannot pack ${dir}: not a directory`);
  const hasher = await createXxh3_128();
  // One read buffer for the whole walk: a fresh 1 MiB per file costs more than hashing small files.
  const buffer = Buffer.allocUnsafe(READ_CHUNK_SIZE);
  const layout: LayoutRecord[] = [];
  const content = new Map<string, ContentFile>();
  const counts = { regularFiles: 0, symlinks: 0, directories: 0 };
  walk(dir, "", (entry) => {
    const uid = opts.keepOwnership ? entry.stat.uid : 0;
    const gid = opts.keepOwnership ? entry.stat.gid : 0;
    const record = { uid, gid, mode: entry.stat.mode, tag: 0, target: entry.target };
    if (entry.stat.isDirectory()) {
      layout.push({ ...record, entryType: LayoutEntryType.Directory });
      counts.directories++;
    } else if (entry.stat.isSymbolicLink()) {
      layout.push({ ...record, entryType: LayoutEntryType.Symlink, source: utf8Name(fs.readlinkSync(entry.path, { encoding: "buffer" }), entry.path) });
      counts.symlinks++;
    } else if (entry.stat.isFile()) {
      const digest = hashFile(entry.path, hasher, buffer);
      layout.push({ ...record, entryType: LayoutEntryType.Regular, digest });
      if (!content.has(digest)) content.set(digest, contentFile(entry.path, digest, entry.stat.size));
      counts.regularFiles++;
    } else {
      throw new StoneError("STONE_UNSUPPORTED", `cannot pack ${entry.path}: it is a ${specialKind(entry.stat)}; packages hold only regular files, symlinks and directories`);
    }
  });
  // Rust boulder stores unique files largest first; the digest breaks ties so output is reproducible.
  const ordered = [...content.values()].sort((a, b) => b.size - a.size || (a.digest < b.digest ? -1 : 1));
  const summary = await writeStone(
    outPath,
    { fileType: FileType.Binary, metas: [metaRecordsFor(pkg)], layout, content: ordered },
    { level: opts.level, windowLog: opts.windowLog },
  );
  return { ...summary, ...counts, uniqueFiles: ordered.length };
}

interface TreeEntry {
  path: string;
  /** Relative to the tree root, `/`-separated, no leading slash. */
  target: string;
  stat: fs.Stats;
}

/** Depth first, parents before children, names in byte order: the same tree always packs the same. */
function walk(dir: string, prefix: string, visit: (entry: TreeEntry) => void): void {
  const names = fs.readdirSync(dir, { encoding: "buffer" }).sort(Buffer.compare);
  for (const raw of names) {
    const name = utf8Name(raw, path.join(dir, raw.toString()));
    const entryPath = path.join(dir, name);
    const target = prefix + name;
    const stat = fs.lstatSync(entryPath);
    visit({ path: entryPath, target, stat });
    if (stat.isDirectory()) walk(entryPath, `${target}/`, visit);
  }
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** Layout paths are UTF-8 text; a name that is not would be silently mangled, so refuse it. */
function utf8Name(raw: Uint8Array, where: string): string {
  try {
    return strictUtf8.decode(raw);
  } catch {
    throw new StoneError("STONE_UTF8", `cannot pack ${where}: a name or link target is not valid UTF-8`);
  }
}

function hashFile(filePath: string, hasher: StreamingHasher, buffer: Buffer): string {
  hasher.reset();
  const fd = fs.openSync(filePath, "r");
  try {
    for (let count; (count = fs.readSync(fd, buffer, 0, buffer.length, null)) > 0; ) hasher.update(buffer.subarray(0, count));
  } finally {
    fs.closeSync(fd);
  }
  return hasher.digestHex();
}

/**
 * The writer hashes every file again as it stores it and fails on any difference, so a file that
 * changed after the walk cannot produce a package whose digests lie.
 */
function contentFile(filePath: string, digest: string, size: number): ContentFile {
  return {
    digest,
    size,
    *chunks() {
      const fd = fs.openSync(filePath, "r");
      try {
        let position = 0;
        while (position < size) {
          // A fresh buffer per chunk: the zstd encoder may still hold the previous one.
          const chunk = Buffer.allocUnsafe(Math.min(READ_CHUNK_SIZE, size - position));
          const count = fs.readSync(fd, chunk, 0, chunk.length, position);
          if (count === 0) return;
          position += count;
          yield chunk.subarray(0, count);
        }
        // One byte past the expected end proves whether the file grew.
        const probe = Buffer.alloc(1);
        if (fs.readSync(fd, probe, 0, 1, position) > 0) yield probe;
      } finally {
        fs.closeSync(fd);
      }
    },
  };
}

function specialKind(stat: fs.Stats): string {
  if (stat.isCharacterDevice()) return "character device";
  if (stat.isBlockDevice()) return "block device";
  if (stat.isFIFO()) return "fifo";
  if (stat.isSocket()) return "socket";
  return "file of unknown type";
}
