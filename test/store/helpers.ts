/** Packages and stores for the store tests, built in temp dirs. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { xxh3_128Hex, xxh3_64 } from "../../src/hash/xxh3.ts";
import { ByteBuilder } from "../../src/stone/cursor.ts";
import { encodeContainerHeader, encodePayloadHeader } from "../../src/stone/headers.ts";
import { encodeIndexRecord } from "../../src/stone/records/index-entry.ts";
import { encodeLayoutRecord } from "../../src/stone/records/layout.ts";
import { encodeMetaRecord } from "../../src/stone/records/meta.ts";
import {
  Compression, FileType, LayoutEntryType, metaRecordsFor, PayloadKind, StoneReader, writeStone,
  type IndexRecord, type LayoutRecord, type PackageInput,
} from "../../src/stone/index.ts";
import { assetPath, type StoreDirs } from "../../src/store/index.ts";

const made: string[] = [];

export function tempRoot(prefix = "moss-store-"): string {
  const dir = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), prefix));
  made.push(dir);
  return dir;
}

export function removeTempRoots(): void {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

export function storeIn(root: string): StoreDirs {
  return { assetsDir: path.join(root, ".moss", "assets"), tempDir: path.join(root, ".moss", "cache", "content") };
}

export function packageInput(name: string): PackageInput {
  return {
    name, version: "1.0", release: 1, buildRelease: 1, architecture: "x86_64", summary: `${name} for tests`,
    description: "store test package", sourceId: name, homepage: "https://example.org",
  };
}

const utf8 = new TextEncoder();
export const bytesOf = (content: string | Uint8Array) => (typeof content === "string" ? utf8.encode(content) : content);

/** A binary stone of `files` (path under /usr → bytes), written by the project's writer. */
export async function makePackage(out: string, name: string, files: Record<string, string | Uint8Array>, opts: { compression?: "zstd" | "none" } = {}): Promise<string> {
  const layout: LayoutRecord[] = [];
  const content = new Map<string, { digest: string; size: number; chunks(): Iterable<Uint8Array> }>();
  for (const [target, value] of Object.entries(files)) {
    const bytes = bytesOf(value);
    const digest = await xxh3_128Hex(bytes);
    layout.push({ uid: 0, gid: 0, mode: 0o100644, tag: 0, entryType: LayoutEntryType.Regular, digest, target });
    if (!content.has(digest)) content.set(digest, { digest, size: bytes.length, chunks: () => [bytes] });
  }
  const file = path.join(out, `${name}-1.0-1-1-x86_64.stone`);
  await writeStone(file, { fileType: FileType.Binary, metas: [metaRecordsFor(packageInput(name))], layout, content: [...content.values()] }, { level: 3, compression: opts.compression });
  return file;
}

/**
 * A stone assembled by hand with uncompressed payloads, for shapes the writer refuses to make:
 * an index that repeats a digest or is out of order, or index records without a content payload.
 */
export function handMadeStone(file: string, name: string, opts: { content?: Uint8Array; index: IndexRecord[]; layout: LayoutRecord[] }): string {
  const payload = (kind: number, records: number, body: Uint8Array) => [
    encodePayloadHeader({ storedSize: body.length, plainSize: body.length, checksum: xxh3_64(body), numRecords: records, version: 1, kind, compression: Compression.None }),
    body,
  ];
  const encode = <T>(records: T[], each: (out: ByteBuilder, record: T) => void) => {
    const out = new ByteBuilder();
    for (const record of records) each(out, record);
    return out.finish();
  };
  const meta = metaRecordsFor(packageInput(name));
  const parts = [
    ...payload(PayloadKind.Meta, meta.length, encode(meta, encodeMetaRecord)),
    ...payload(PayloadKind.Layout, opts.layout.length, encode(opts.layout, encodeLayoutRecord)),
    ...payload(PayloadKind.Index, opts.index.length, encode(opts.index, encodeIndexRecord)),
    ...(opts.content ? payload(PayloadKind.Content, 0, opts.content) : []),
  ];
  const header = encodeContainerHeader({ numPayloads: opts.content ? 4 : 3, fileType: FileType.Binary });
  fs.writeFileSync(file, Buffer.concat([header, ...parts]));
  return file;
}

export function regular(target: string, digest: string): LayoutRecord {
  return { uid: 0, gid: 0, mode: 0o100644, tag: 0, entryType: LayoutEntryType.Regular, digest, target };
}

export function indexOf(stonePath: string): IndexRecord[] {
  using reader = StoneReader.open(stonePath);
  return reader.records().index;
}

/** Every file below `dir`, relative paths, sorted. */
export function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((entry) => !entry.isDirectory())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)))
    .sort();
}

export function directoriesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((entry) => entry.isDirectory())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)))
    .sort();
}

/** Digests whose asset is absent, of the wrong size or hashes to something else. */
export async function badAssets(assetsDir: string, index: IndexRecord[]): Promise<string[]> {
  const bad: string[] = [];
  for (const record of index) {
    const file = assetPath(assetsDir, record.digest);
    const bytes = fs.existsSync(file) ? new Uint8Array(fs.readFileSync(file)) : undefined;
    if (!bytes || bytes.length !== record.end - record.start || (await xxh3_128Hex(bytes)) !== record.digest) bad.push(record.digest);
  }
  return bad;
}

export const distinctDigests = (index: IndexRecord[]) => new Set(index.map((record) => record.digest));
