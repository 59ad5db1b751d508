/**
 * Streams a content payload (stone §6.5, §11): compressed bytes are hashed (XXH3-64) on their way
 * into the zstd decoder, and the plain stream is cut at each index record's end, every file hashed
 * (XXH3-128) and checked as it completes. Memory: the decoder window plus ~1 MiB chunks, whatever
 * the package size. A sink must not publish anything before this resolves: the payload checksum
 * is only known once the last byte has been read.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { READ_CHUNK_SIZE } from "../constants.ts";
import { CHUNK_BUFFER_SIZE, returnChunkBuffer, takeChunkBuffer } from "../chunk-buffers.ts";
import { createXxh3_128, createXxh3_64, type StreamingHasher, type Xxh3_64Hasher } from "../hash/xxh3.ts";
import { zstdDecodeStream } from "../zstd/index.ts";
import { StoneError } from "./errors.ts";
import { hex64, located, type PayloadEntry, type StoneReader } from "./reader.ts";
import { Compression, type IndexRecord } from "./types.ts";

export interface ContentSink {
  beginFile(record: IndexRecord, ordinal: number): void | Promise<void>;
  /** `chunk` is a view into a reused buffer: valid until the call (or its promise) completes, never after. */
  write(chunk: Uint8Array): void | Promise<void>;
  /** Called once the file's bytes are complete and its digest matched. */
  endFile(record: IndexRecord, ordinal: number): void | Promise<void>;
}

export interface ContentStreamOptions {
  /** Where a non-contiguous index spills the plain content (stone §11 fallback). Default: os.tmpdir(). */
  spillDir?: string;
  onProgress?: (plainBytes: number, plainSize: number) => void;
}

export interface ContentSummary {
  plainBytes: number;
  files: number;
  /** `split` cut the stream on the fly; `spill` went through a temporary file. */
  strategy: "split" | "spill" | "none";
}

/** A sink that only verifies: `inspect --check`. */
export const DISCARD_SINK: ContentSink = { beginFile() {}, write() {}, endFile() {} };

export async function streamContent(
  reader: StoneReader,
  index: IndexRecord[],
  sink: ContentSink = DISCARD_SINK,
  opts: ContentStreamOptions = {},
): Promise<ContentSummary> {
  const payload = reader.contentPayload;
  const where = { file: reader.fileName, payload: payload ? reader.describe(payload) : "content" };
  if (!payload) {
    if (index.length > 0) throw new StoneError("STONE_INDEX", `${index.length} index records but no content payload`, where);
    return { plainBytes: 0, files: 0, strategy: "none" };
  }
  if (payload.header.compression !== Compression.None && payload.header.compression !== Compression.Zstd) {
    throw new StoneError("STONE_UNSUPPORTED", `unknown compression ${payload.header.compression}`, where);
  }
  using storedHasher = await createXxh3_64();
  try {
    const contiguous = isContiguous(index);
    const plain = plainChunks(reader, payload, storedHasher);
    const summary = contiguous
      ? await splitOnTheFly(plain, index, payload, sink, opts)
      : await splitThroughSpill(plain, index, payload, sink, opts);
    checkStoredChecksum(storedHasher, payload);
    return summary;
  } catch (error) {
    // Report the root cause: a body whose checksum is wrong explains every later symptom.
    const cause = located(error, where);
    if (cause.code !== "STONE_CHECKSUM" && !(await storedChecksumMatches(reader, payload))) {
      throw new StoneError("STONE_CHECKSUM", "checksum mismatch in the content body", where, { cause });
    }
    throw cause;
  }
}

/** Index records that tile the content from 0 without gaps or overlaps, in order. */
export function isContiguous(index: IndexRecord[]): boolean {
  let expected = 0;
  for (const record of index) {
    if (record.start !== expected) return false;
    expected = record.end;
  }
  return true;
}

async function* storedChunks(reader: StoneReader, payload: PayloadEntry, hasher: StreamingHasher): AsyncGenerator<Uint8Array> {
  const end = payload.bodyOffset + payload.header.storedSize;
  // One buffer, reused: the decoder is done with a chunk before it pulls the next (zstd/index.ts),
  // and so is splitting when the body is stored plain; so once the last is pulled, it is free.
  const buffer = takeChunkBuffer();
  try {
    for (let pos = payload.bodyOffset; pos < end; pos += CHUNK_BUFFER_SIZE) {
      const length = Math.min(CHUNK_BUFFER_SIZE, end - pos);
      const chunk = reader.source.readInto(pos, length === buffer.length ? buffer : buffer.subarray(0, length));
      hasher.update(chunk);
      yield chunk;
    }
  } finally {
    returnChunkBuffer(buffer);
  }
}

function plainChunks(reader: StoneReader, payload: PayloadEntry, hasher: StreamingHasher): AsyncIterable<Uint8Array> {
  const stored = storedChunks(reader, payload, hasher);
  if (payload.header.compression === Compression.None) return stored;
  return (async function* () {
    try {
      yield* zstdDecodeStream(stored, { maxContentSize: payload.header.plainSize });
    } catch (error) {
      if (error instanceof StoneError) throw error;
      throw new StoneError("STONE_DECOMPRESS", `zstd: ${(error as Error).message}`);
    }
  })();
}

async function splitOnTheFly(
  plain: AsyncIterable<Uint8Array>, index: IndexRecord[], payload: PayloadEntry, sink: ContentSink, opts: ContentStreamOptions,
): Promise<ContentSummary> {
  const { plainSize } = payload.header;
  using fileHasher = await createXxh3_128();
  let ordinal = 0;
  let left = -1; // bytes still owed to the open file; -1 when none is open
  let total = 0;

  const openNext = async () => {
    // Empty files own no bytes: close them as soon as they are reached.
    while (ordinal < index.length && index[ordinal]!.end === index[ordinal]!.start) {
      await completeFile(index[ordinal]!, ordinal, fileHasher, sink, true);
      ordinal++;
    }
    if (ordinal >= index.length) return false;
    fileHasher.reset();
    await sink.beginFile(index[ordinal]!, ordinal);
    left = index[ordinal]!.end - index[ordinal]!.start;
    return true;
  };

  for await (const chunk of plain) {
    total += chunk.length;
    if (total > plainSize) throw new StoneError("STONE_PLAIN_SIZE", `content decompresses to more than the ${plainSize} bytes its header says`);
    let offset = 0;
    while (offset < chunk.length) {
      if (left < 0 && !(await openNext())) {
        throw new StoneError("STONE_INDEX", `content has bytes past the last index record (end ${index.at(-1)?.end ?? 0})`);
      }
      const take = Math.min(left, chunk.length - offset);
      const piece = chunk.subarray(offset, offset + take);
      fileHasher.update(piece);
      const pending = sink.write(piece);
      if (pending) await pending;
      offset += take;
      left -= take;
      if (left === 0) {
        await completeFile(index[ordinal]!, ordinal, fileHasher, sink, false);
        ordinal++;
        left = -1;
      }
    }
    opts.onProgress?.(total, plainSize);
  }
  if (left > 0) throw new StoneError("STONE_INDEX", `content ends inside index record ${ordinal} (${left} bytes short)`);
  if (await openNext()) throw new StoneError("STONE_INDEX", `content ends before index record ${ordinal}`);
  if (total !== plainSize) throw new StoneError("STONE_PLAIN_SIZE", `content decompressed to ${total} bytes, but the header says ${plainSize}`);
  return { plainBytes: total, files: index.length, strategy: "split" };
}

/** The fallback for an index in any order: decompress to a temporary file, then read each range. */
async function splitThroughSpill(
  plain: AsyncIterable<Uint8Array>, index: IndexRecord[], payload: PayloadEntry, sink: ContentSink, opts: ContentStreamOptions,
): Promise<ContentSummary> {
  const { plainSize } = payload.header;
  for (const [i, record] of index.entries()) {
    if (record.end > plainSize) throw new StoneError("STONE_INDEX", `index record ${i} ends at ${record.end}, past the content's ${plainSize} bytes`);
  }
  const dir = fs.mkdtempSync(path.join(opts.spillDir ?? os.tmpdir(), ".stone-content-"));
  const spillPath = path.join(dir, "content");
  const fd = fs.openSync(spillPath, "w+", 0o600);
  try {
    let total = 0;
    for await (const chunk of plain) {
      total += chunk.length;
      if (total > plainSize) throw new StoneError("STONE_PLAIN_SIZE", `content decompresses to more than the ${plainSize} bytes its header says`);
      fs.writeSync(fd, chunk);
      opts.onProgress?.(total, plainSize);
    }
    if (total !== plainSize) throw new StoneError("STONE_PLAIN_SIZE", `content decompressed to ${total} bytes, but the header says ${plainSize}`);
    using fileHasher = await createXxh3_128();
    const buffer = new Uint8Array(READ_CHUNK_SIZE);
    for (const [ordinal, record] of index.entries()) {
      fileHasher.reset();
      await sink.beginFile(record, ordinal);
      for (let pos = record.start; pos < record.end; ) {
        const count = fs.readSync(fd, buffer, 0, Math.min(buffer.length, record.end - pos), pos);
        const piece = buffer.slice(0, count);
        fileHasher.update(piece);
        const pending = sink.write(piece);
        if (pending) await pending;
        pos += count;
      }
      await completeFile(record, ordinal, fileHasher, sink, record.end === record.start);
    }
    return { plainBytes: total, files: index.length, strategy: "spill" };
  } finally {
    fs.closeSync(fd);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function completeFile(record: IndexRecord, ordinal: number, hasher: StreamingHasher, sink: ContentSink, empty: boolean) {
  if (empty) {
    hasher.reset();
    await sink.beginFile(record, ordinal);
  }
  const digest = hasher.digestHex();
  if (digest !== record.digest) {
    throw new StoneError("STONE_DIGEST", `file ${ordinal} [${record.start}, ${record.end}) hashes to ${digest}, but the index says ${record.digest}`);
  }
  await sink.endFile(record, ordinal);
}

function checkStoredChecksum(hasher: Xxh3_64Hasher, payload: PayloadEntry) {
  const actual = hasher.digestBigInt();
  if (actual !== payload.header.checksum) {
    throw new StoneError("STONE_CHECKSUM", `checksum mismatch: header says ${hex64(payload.header.checksum)}, body hashes to ${hex64(actual)}`);
  }
}

/** Only on the failure path: hash the whole stored body again to tell corruption from a bad index. */
async function storedChecksumMatches(reader: StoneReader, payload: PayloadEntry): Promise<boolean> {
  using hasher = await createXxh3_64();
  const end = payload.bodyOffset + payload.header.storedSize;
  for (let pos = payload.bodyOffset; pos < end; pos += READ_CHUNK_SIZE) {
    hasher.update(reader.source.read(pos, Math.min(READ_CHUNK_SIZE, end - pos)));
  }
  return hasher.digestBigInt() === payload.header.checksum;
}
