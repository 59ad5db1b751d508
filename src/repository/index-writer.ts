/**
 * `moss index` (spec §4.14): a `stone.index` for a folder tree of `.stone` files that Rust moss
 * reads. One package per name (the higher release, then the higher build release, §9 #38), sorted
 * by name, each with its SHA-256, size and path relative to the index.
 *
 * Only files that changed are hashed again (os-tools #868): the previous `stone.index` already
 * holds the hash, size and metadata of every file it lists, and a file whose size is the same and
 * whose mtime and ctime are both older than that index has not been touched since.
 */
import fs from "node:fs";
import path from "node:path";
import type { PackageEntry } from "../db/index.ts";
import { MossError } from "../errors.ts";
import { sha256File } from "../hash/sha256.ts";
import { FileType, metaRecordsFor, packageFromMeta, PayloadKind, StoneReader, writeStone, type PackageMeta } from "../stone/index.ts";
import { INDEX_FILE, readIndex } from "./refresh.ts";

export class IndexError extends MossError {
  constructor(code: string, message: string) {
    super(code, message);
    this.name = "IndexError";
  }
}

/** A u16 counts the payloads of a stone: no index can hold more packages. */
export const MAX_INDEX_PACKAGES = 0xffff;

export interface IndexedFile {
  /** Relative to the index's directory, `/`-separated. */
  uri: string;
  meta: PackageMeta;
  /** Taken from the previous index instead of hashing the file again. */
  reused: boolean;
}

export interface IndexOptions {
  /** How many `.stone` files were found, before any is read. */
  onStart?: (files: number) => void;
  onFile?: (file: IndexedFile) => void;
}

/** Every `.stone` below `dir`, sorted. */
function stoneFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.name.endsWith(".stone") && entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name))
    .sort();
}

function previousIndex(outDir: string): { byUri: Map<string, PackageEntry>; writtenAt: number } {
  const file = path.join(outDir, INDEX_FILE);
  try {
    const writtenAt = fs.statSync(file).mtimeMs;
    return { byUri: new Map(readIndex(file).map((e) => [e.meta.uri ?? "", e])), writtenAt };
  } catch {
    return { byUri: new Map(), writtenAt: 0 };
  }
}

function indexFile(file: string, uri: string, previous: ReturnType<typeof previousIndex>): IndexedFile {
  const stat = fs.statSync(file);
  const known = previous.byUri.get(uri);
  if (known && known.meta.downloadSize === stat.size && Math.max(stat.mtimeMs, stat.ctimeMs) < previous.writtenAt) {
    return { uri, meta: known.meta, reused: true };
  }
  const hash = sha256File(file);
  const reader = StoneReader.open(file);
  let meta: PackageMeta;
  try {
    if (reader.header.fileType !== FileType.Binary) throw new IndexError("INDEX_NOT_PACKAGE", `${file}: not a package stone`);
    const metas = reader.records(PayloadKind.Meta).metas;
    if (metas.length === 0) throw new IndexError("INDEX_NO_META", `${file}: meta payload missing`);
    meta = packageFromMeta(metas[0]!, { file });
  } finally {
    reader.close();
  }
  return { uri, meta: { ...meta, uri, hash, downloadSize: stat.size }, reused: false };
}

/** Writes `<outDir>/stone.index` for the stones below `inputDir`; the packages it lists. */
export async function writeIndex(inputDir: string, outDir: string, opts: IndexOptions = {}): Promise<PackageMeta[]> {
  for (const [dir, what] of [[inputDir, "index directory"], [outDir, "output directory"]] as const) {
    if (!fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw new IndexError("INDEX_DIR", `${what} ${dir} does not exist`);
  }
  const previous = previousIndex(outDir);
  const files = stoneFiles(inputDir);
  opts.onStart?.(files.length);
  const indexed = files.map((file) => {
    const one = indexFile(file, path.relative(outDir, file).split(path.sep).join("/"), previous);
    opts.onFile?.(one);
    return one;
  });

  const byName = new Map<string, PackageMeta>();
  for (const { meta } of indexed) {
    const other = byName.get(meta.name);
    if (!other || meta.release > other.release || (meta.release === other.release && meta.buildRelease > other.buildRelease)) {
      byName.set(meta.name, meta);
    } else if (meta.release === other.release && meta.buildRelease === other.buildRelease) {
      throw new IndexError("INDEX_DUPLICATE", `package ${meta.name} has two files with the same release ${meta.release}: ${other.uri} and ${meta.uri}`);
    }
  }
  const packages = [...byName.values()].sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
  if (packages.length > MAX_INDEX_PACKAGES) throw new IndexError("INDEX_TOO_LARGE", `${packages.length} packages: an index holds at most ${MAX_INDEX_PACKAGES}`);
  await writeStone(path.join(outDir, INDEX_FILE), { fileType: FileType.Repository, metas: packages.map((p) => metaRecordsFor(p)) });
  return packages;
}
