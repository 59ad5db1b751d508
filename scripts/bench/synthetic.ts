/**
 * Large synthetic packages for the memory benchmark and its test guard: file contents come from a
 * seeded PRNG, chunk by chunk, so a GiB of content is never held in memory (it is generated
 * twice: once to learn each file's digest for the index, once while the writer streams it).
 *
 * The bytes mix three kinds of segment, so zstd sees something like a real package:
 * text (words drawn from a skewed vocabulary, ~4–5× compressible), binary tables (small
 * little-endian integers and zero runs, ~2–3×) and random bytes (already-compressed data, 1×).
 */
import fs from "node:fs";
import { createXxh3_128 } from "../../src/hash/xxh3.ts";
import { metaRecordsFor, StoneReader, writeStone, type ContentFile, type LayoutRecord } from "../../src/stone/index.ts";
import { LayoutEntryType } from "../../src/stone/types.ts";

const MiB = 1 << 20;
const CHUNK = MiB;

export interface SyntheticFile {
  /** Relative to `/usr`. */
  target: string;
  size: number;
  seed: number;
}

export interface SyntheticStoneOptions {
  plainBytes: number;
  /** zstd windowLog of the content frame: 27 is our writer's default, 31 the Rust writer's. */
  windowLog: number;
  level?: number;
  seed?: number;
}

export interface SyntheticStone {
  path: string;
  plainSize: number;
  storedSize: number;
  fileSize: number;
  files: (SyntheticFile & { digest: string })[];
  contentBody: { offset: number; size: number };
  frame: FrameHeader;
}

/**
 * Files of varied sizes adding up to exactly `plainBytes`: four large ones (19, 11, 7 and 5 % of
 * the total: 50–200 MiB for a GiB), a third in 256 KiB–8 MiB files, the rest in small files of
 * up to 64 KiB, one of them empty. Shuffled so the large files are not stored back to back.
 */
export function planSyntheticFiles(plainBytes: number, seed = 1): SyntheticFile[] {
  const random = xorshift(seed * 7919 + 17);
  const sizes: number[] = [0];
  let left = plainBytes;
  const take = (size: number) => {
    size = Math.max(0, Math.min(size, left));
    if (size > 0) sizes.push(size);
    left -= size;
  };
  for (const share of [0.19, 0.11, 0.07, 0.05]) take(Math.floor(plainBytes * share));
  const mediumUntil = left - Math.floor(plainBytes * 0.33);
  while (left > mediumUntil && left > 0) take(256 * 1024 + (random() % (8 * MiB - 256 * 1024)));
  while (left > 0) take(1 + (random() % (64 * 1024)));
  for (let i = sizes.length - 1; i > 0; i--) {
    const j = random() % (i + 1);
    [sizes[i], sizes[j]] = [sizes[j]!, sizes[i]!];
  }
  return sizes.map((size, i) => ({
    target: `share/synthetic/d${String(i % 64).padStart(2, "0")}/f${String(i).padStart(5, "0")}.bin`,
    size,
    seed: seed * 1_000_003 + i,
  }));
}

/** A file's bytes in fresh 1 MiB chunks (fresh, because a stream consumer may keep them queued). */
export function* syntheticChunks(file: SyntheticFile): Generator<Uint8Array> {
  const generator = new SegmentGenerator(file.seed);
  for (let done = 0; done < file.size; done += CHUNK) {
    const chunk = new Uint8Array(Math.min(CHUNK, file.size - done));
    generator.fill(chunk);
    yield chunk;
  }
}

/** Writes a binary package of synthetic content with writeStone, digests computed in a first pass. */
export async function writeSyntheticStone(outPath: string, opts: SyntheticStoneOptions): Promise<SyntheticStone> {
  const plan = planSyntheticFiles(opts.plainBytes, opts.seed ?? 1);
  const files: SyntheticStone["files"] = [];
  using hasher = await createXxh3_128();
  for (const file of plan) {
    hasher.reset();
    for (const chunk of syntheticChunks(file)) hasher.update(chunk);
    files.push({ ...file, digest: hasher.digestHex() });
  }
  const layout: LayoutRecord[] = files.map((file) => ({
    uid: 0, gid: 0, mode: 0o100644, tag: 0, entryType: LayoutEntryType.Regular, digest: file.digest, target: file.target,
  }));
  const content: ContentFile[] = files.map((file) => ({ digest: file.digest, size: file.size, chunks: () => syntheticChunks(file) }));
  const metas = [metaRecordsFor({
    name: "synthetic-content", version: "1.0", release: 1, buildRelease: 1, architecture: "x86_64",
    summary: "Synthetic content for memory measurements", description: "Seeded pseudo-random text, tables and noise.",
    sourceId: "synthetic-content", homepage: "https://example.invalid/", licenses: ["MIT"],
  })];
  const summary = await writeStone(outPath, { fileType: 1, metas, layout, content }, { level: opts.level ?? 3, windowLog: opts.windowLog });
  return { ...describeContent(outPath), files, fileSize: summary.size };
}

/** Where a stone's content body lies, and its (first) zstd frame header. */
export function describeContent(stonePath: string): Omit<SyntheticStone, "files" | "fileSize"> {
  using reader = StoneReader.open(stonePath);
  const payload = reader.contentPayload;
  if (!payload) throw new Error(`${stonePath} has no content payload`);
  const head = reader.source.read(payload.bodyOffset, Math.min(18, payload.header.storedSize));
  return {
    path: stonePath,
    plainSize: payload.header.plainSize,
    storedSize: payload.header.storedSize,
    contentBody: { offset: payload.bodyOffset, size: payload.header.storedSize },
    frame: readFrameHeader(head),
  };
}

export interface FrameHeader {
  singleSegment: boolean;
  /** The window the decoder must hold: the content size for a single-segment frame. */
  windowSize: number;
  contentSize: number | null;
  checksum: boolean;
}

/** RFC 8878 §3.1.1.1: the Frame_Header_Descriptor, Window_Descriptor and Frame_Content_Size. */
export function readFrameHeader(bytes: Uint8Array): FrameHeader {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== 0xfd2fb528) throw new Error("not a zstd frame");
  const descriptor = bytes[4]!;
  const fcsFlag = descriptor >> 6;
  const singleSegment = (descriptor & 0x20) !== 0;
  const dictBytes = [0, 1, 2, 4][descriptor & 3]!;
  let pos = 5;
  let windowSize = 0;
  if (!singleSegment) {
    const wd = bytes[pos++]!;
    const windowLog = 10 + (wd >> 3);
    windowSize = 2 ** windowLog + (2 ** windowLog / 8) * (wd & 7);
  }
  pos += dictBytes;
  const fcsBytes = [singleSegment ? 1 : 0, 2, 4, 8][fcsFlag]!;
  let contentSize: number | null = null;
  if (fcsBytes === 1) contentSize = bytes[pos]!;
  else if (fcsBytes === 2) contentSize = view.getUint16(pos, true) + 256;
  else if (fcsBytes === 4) contentSize = view.getUint32(pos, true);
  else if (fcsBytes === 8) contentSize = Number(view.getBigUint64(pos, true));
  if (singleSegment) windowSize = contentSize!;
  return { singleSegment, windowSize, contentSize, checksum: (descriptor & 4) !== 0 };
}

/** Copies a stone's content body (its zstd frames) to a `.zst` file the zstd CLI can read. */
export function extractContentBody(stonePath: string, zstPath: string): void {
  const { contentBody } = describeContent(stonePath);
  const input = fs.openSync(stonePath, "r");
  const output = fs.openSync(zstPath, "w");
  try {
    const buffer = Buffer.alloc(4 * MiB);
    for (let done = 0; done < contentBody.size; ) {
      const count = fs.readSync(input, buffer, 0, Math.min(buffer.length, contentBody.size - done), contentBody.offset + done);
      fs.writeSync(output, buffer, 0, count);
      done += count;
    }
  } finally {
    fs.closeSync(input);
    fs.closeSync(output);
  }
}

/** Hash a file on disk in 1 MiB reads, as the test's independent check of extracted files. */
export async function hashFile(filePath: string): Promise<{ size: number; digest: string }> {
  using hasher = await createXxh3_128();
  const fd = fs.openSync(filePath, "r");
  const buffer = new Uint8Array(4 * MiB);
  let size = 0;
  try {
    for (let count; (count = fs.readSync(fd, buffer, 0, buffer.length, null)) > 0; size += count) hasher.update(buffer.subarray(0, count));
  } finally {
    fs.closeSync(fd);
  }
  return { size, digest: hasher.digestHex() };
}

// ---- the generator ---------------------------------------------------------------------------

/** xorshift32: tiny, fast and good enough to pick segments and words. */
function xorshift(seed: number): () => number {
  let state = (seed >>> 0) || 0x9e3779b9;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>>= 0);
  };
}

const VOCABULARY = buildVocabulary(4096);

/** Words of 1–12 letters, with the short ones first (they are drawn most often). */
function buildVocabulary(count: number): { bytes: Uint8Array; starts: Uint32Array; lengths: Uint8Array } {
  const random = xorshift(0x5eed);
  const starts = new Uint32Array(count);
  const lengths = new Uint8Array(count);
  const bytes = new Uint8Array(count * 12);
  let pos = 0;
  for (let i = 0; i < count; i++) {
    const length = 1 + Math.min(11, Math.floor((i / count) * 8) + (random() % 5));
    starts[i] = pos;
    lengths[i] = length;
    for (let j = 0; j < length; j++) bytes[pos++] = 97 + (random() % 26);
  }
  return { bytes, starts, lengths };
}

const KIND_TEXT = 0;
const KIND_TABLE = 1;
const KIND_NOISE = 2;

/**
 * The PRNG (xorshift32) is inlined into each loop with its state in a local: calling a closure
 * per draw made generation 3–8× slower.
 */
class SegmentGenerator {
  private state: number;
  private kind = KIND_TEXT;
  private left = 0;

  constructor(seed: number) {
    this.state = (seed >>> 0) || 0x9e3779b9;
  }

  fill(chunk: Uint8Array): void {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.left === 0) this.startSegment();
      const end = Math.min(chunk.length, pos + this.left);
      if (this.kind === KIND_TEXT) this.text(chunk, pos, end);
      else if (this.kind === KIND_TABLE) this.table(chunk, pos, end);
      else this.noise(chunk, pos, end);
      this.left -= end - pos;
      pos = end;
    }
  }

  private draw(): number {
    let s = this.state;
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (this.state = s >>> 0);
  }

  /** Segments of 4–68 KiB: 50 % text, 30 % tables, 20 % noise. */
  private startSegment(): void {
    const roll = this.draw() % 10;
    this.kind = roll < 5 ? KIND_TEXT : roll < 8 ? KIND_TABLE : KIND_NOISE;
    this.left = 4096 + (this.draw() % 65536);
  }

  private text(out: Uint8Array, pos: number, end: number): void {
    const { bytes, starts, lengths } = VOCABULARY;
    let s = this.state;
    while (pos < end) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      const r = s >>> 0;
      // Cubing skews the draw towards the first (short, frequent) words, as in real text.
      const pick = (r & 0xfff) / 4096;
      const word = (pick * pick * pick * 4096) | 0;
      const start = starts[word]!;
      const length = Math.min(lengths[word]!, end - pos);
      for (let i = 0; i < length; i++) out[pos + i] = bytes[start + i]!;
      pos += length;
      if (pos < end) out[pos++] = (r >>> 12) % 11 === 0 ? 10 : (r >>> 12) % 17 === 0 ? 46 : 32;
    }
    this.state = s >>> 0;
  }

  private table(out: Uint8Array, pos: number, end: number): void {
    let s = this.state;
    while (pos < end) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      const r = s >>> 0;
      if ((r & 63) === 0) {
        const run = Math.min(end - pos, 16 + ((r >>> 6) & 255));
        out.fill(0, pos, pos + run);
        pos += run;
        continue;
      }
      // A little-endian u32 with a small value: one or two busy bytes, then zeros.
      out[pos++] = r >>> 8;
      if (pos < end) out[pos++] = (r >>> 6) & 1 ? r >>> 16 : 0;
      if (pos < end) out[pos++] = 0;
      if (pos < end) out[pos++] = 0;
    }
    this.state = s >>> 0;
  }

  private noise(out: Uint8Array, pos: number, end: number): void {
    while (pos < end && (out.byteOffset + pos) % 4 !== 0) out[pos++] = this.draw();
    const words = (end - pos) >> 2;
    const view = new Uint32Array(out.buffer, out.byteOffset + pos, words);
    let s = this.state;
    for (let i = 0; i < words; i++) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      view[i] = s;
    }
    this.state = s >>> 0;
    pos += words * 4;
    while (pos < end) out[pos++] = this.draw();
  }
}
