/**
 * Writes `.stone` v1 files that Rust moss accepts (stone §12). Record payloads are encoded in
 * memory (they are small); the content payload is streamed file by file through one zstd frame,
 * its compressed bytes hashed and written as they come, and the payload header is filled in last.
 * The file appears under its final name only once complete (temp + fsync + rename).
 */
import fs from "node:fs";
import path from "node:path";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { WRITER_DEFAULT_LEVEL, WRITER_WINDOW_LOG } from "../constants.ts";
import { createXxh3_128, createXxh3_64, xxh3_64 } from "../hash/xxh3.ts";
import { createZstdEncoder, zstdEncodeSync } from "../zstd/index.ts";
import { ByteBuilder } from "./cursor.ts";
import { StoneError } from "./errors.ts";
import { encodeContainerHeader, encodePayloadHeader, HEADER_SIZE, PAYLOAD_HEADER_SIZE } from "./headers.ts";
import { encodeAttributeRecord } from "./records/attribute.ts";
import { encodeIndexRecord } from "./records/index-entry.ts";
import { encodeLayoutRecord } from "./records/layout.ts";
import { encodeMetaRecord } from "./records/meta.ts";
import { Compression, PayloadKind, payloadKindName, type AttributeRecord, type IndexRecord, type LayoutRecord, type MetaRecord } from "./types.ts";

/** One unique file's bytes, known by its XXH3-128 digest before it is written. */
export interface ContentFile {
  digest: string;
  size: number;
  /** The bytes, read lazily so a large package is never held in memory. */
  chunks(): AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
}

export interface StoneDocument {
  fileType: number;
  /** One meta payload per entry: one for a package, one per package for an index or manifest. */
  metas: MetaRecord[][];
  layout?: LayoutRecord[];
  attributes?: AttributeRecord[];
  /** Unique files in the order they are to be stored; duplicates by digest are dropped. */
  content?: ContentFile[];
}

export interface WriteOptions {
  /** zstd level; Rust uses 18. */
  level?: number;
  /** zstd windowLog of the content frame; ours bounds it (27), Rust uses 31. */
  windowLog?: number;
  /** `none` stores bodies uncompressed (compression 1); readers must accept both. */
  compression?: "zstd" | "none";
}

export interface WriteSummary {
  path: string;
  size: number;
  payloads: number;
  contentPlainSize: number;
}

export async function writeStone(outPath: string, doc: StoneDocument, opts: WriteOptions = {}): Promise<WriteSummary> {
  const tempPath = path.join(path.dirname(outPath), `.${path.basename(outPath)}.${process.pid}.tmp`);
  const fd = fs.openSync(tempPath, "w", 0o644);
  try {
    const out = new PositionedFile(fd, HEADER_SIZE);
    let payloads = 0;
    const inPayload = async (kind: number, write: () => unknown) => {
      try {
        await write();
      } catch (error) {
        throw error instanceof StoneError ? error.locate({ payload: `payload ${payloads} (${payloadKindName(kind)})` }) : error;
      }
      payloads++;
    };
    const addRecords = <T>(kind: number, records: T[], encode: (out: ByteBuilder, record: T) => void) =>
      inPayload(kind, () => writeRecordPayload(out, kind, records.length, encodeAll(records, encode), opts));
    for (const meta of doc.metas) await addRecords(PayloadKind.Meta, meta, encodeMetaRecord);
    if (doc.layout?.length) await addRecords(PayloadKind.Layout, doc.layout, encodeLayoutRecord);
    if (doc.attributes?.length) await addRecords(PayloadKind.Attributes, doc.attributes, encodeAttributeRecord);
    let contentPlainSize = 0;
    const files = uniqueByDigest(doc.content ?? []);
    if (files.length > 0) {
      await addRecords(PayloadKind.Index, indexFor(files), encodeIndexRecord);
      await inPayload(PayloadKind.Content, async () => (contentPlainSize = await writeContentPayload(out, files, opts)));
    }
    out.writeAt(0, encodeContainerHeader({ numPayloads: payloads, fileType: doc.fileType }));
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fs.renameSync(tempPath, outPath);
    return { path: outPath, size: out.end, payloads, contentPlainSize };
  } catch (error) {
    try { fs.closeSync(fd); } catch { /* already closed */ }
    fs.rmSync(tempPath, { force: true });
    throw error instanceof StoneError ? error.locate({ file: outPath }) : error;
  }
}

/** Index records for files stored back to back in this order. */
export function indexFor(files: ContentFile[]): IndexRecord[] {
  let start = 0;
  return files.map((file) => {
    const record = { start, end: start + file.size, digest: file.digest };
    start = record.end;
    return record;
  });
}

function uniqueByDigest(files: ContentFile[]): ContentFile[] {
  const seen = new Set<string>();
  return files.filter((file) => !seen.has(file.digest) && seen.add(file.digest));
}

function encodeAll<T>(records: T[], encode: (out: ByteBuilder, record: T) => void): Uint8Array {
  const out = new ByteBuilder();
  for (const record of records) encode(out, record);
  return out.finish();
}

function writeRecordPayload(out: PositionedFile, kind: number, numRecords: number, plain: Uint8Array, opts: WriteOptions) {
  const zstd = opts.compression !== "none";
  const body = zstd
    ? zstdEncodeSync(plain, { level: opts.level ?? WRITER_DEFAULT_LEVEL, windowLog: Math.min(opts.windowLog ?? WRITER_WINDOW_LOG, WRITER_WINDOW_LOG), pledgedSize: plain.length })
    : plain;
  out.append(encodePayloadHeader({
    storedSize: body.length, plainSize: plain.length, checksum: xxh3_64(body), numRecords,
    version: 1, kind, compression: zstd ? Compression.Zstd : Compression.None,
  }));
  out.append(body);
}

async function writeContentPayload(out: PositionedFile, files: ContentFile[], opts: WriteOptions): Promise<number> {
  const headerAt = out.end;
  out.end += PAYLOAD_HEADER_SIZE;
  const plainSize = files.reduce((sum, file) => sum + file.size, 0);
  using storedHasher = await createXxh3_64();
  using fileHasher = await createXxh3_128();
  const bodyStart = out.end;
  const zstd = opts.compression !== "none";

  // Every file is hashed again as it is stored: a file that changed since it was indexed
  // would otherwise yield a package whose digests lie.
  async function* plainChunks() {
    for (const [ordinal, file] of files.entries()) {
      fileHasher.reset();
      let size = 0;
      for await (const chunk of file.chunks()) {
        fileHasher.update(chunk);
        size += chunk.length;
        yield chunk;
      }
      const digest = fileHasher.digestHex();
      if (size !== file.size || digest !== file.digest) {
        throw new StoneError("STONE_DIGEST", `file ${ordinal} of the content changed while packing: expected ${file.size} bytes hashing to ${file.digest}, read ${size} bytes hashing to ${digest}`);
      }
    }
  }
  const sink = new Writable({
    write(chunk: Uint8Array, _encoding, done) {
      storedHasher.update(chunk);
      out.append(chunk);
      done();
    },
  });
  const source = Readable.from(plainChunks(), { objectMode: false });
  if (zstd) {
    const level = opts.level ?? WRITER_DEFAULT_LEVEL;
    await pipeline(source, createZstdEncoder({ level, windowLog: opts.windowLog ?? WRITER_WINDOW_LOG, pledgedSize: plainSize }), sink);
  } else {
    await pipeline(source, sink);
  }
  out.writeAt(headerAt, encodePayloadHeader({
    storedSize: out.end - bodyStart, plainSize, checksum: storedHasher.digestBigInt(), numRecords: 0,
    version: 1, kind: PayloadKind.Content, compression: zstd ? Compression.Zstd : Compression.None,
  }));
  return plainSize;
}

class PositionedFile {
  constructor(private readonly fd: number, public end: number) {}

  append(bytes: Uint8Array): void {
    this.writeAt(this.end, bytes);
    this.end += bytes.length;
  }

  writeAt(position: number, bytes: Uint8Array): void {
    let done = 0;
    while (done < bytes.length) done += fs.writeSync(this.fd, bytes, done, bytes.length - done, position + done);
  }
}
