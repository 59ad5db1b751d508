/**
 * Walks the framing of a zstd body as it streams past (RFC 8878 §3.1): frame headers, block
 * headers and skippable frames, without decoding anything. Bun's decoder stops quietly at an
 * incomplete frame, at bytes that are no frame at all, and at a frame that declares a content
 * size of 128 MiB or more without delivering it; this refuses all three before the bytes reach it.
 */
import { ZstdError } from "./errors.ts";

const ZSTD_MAGIC = 0xfd2fb528;
/** Skippable frames use the magic numbers 0x184D2A50…0x184D2A5F. */
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;
const BLOCK_TYPE_RLE = 1;
const BLOCK_TYPE_RESERVED = 3;

type Mode = "frame" | "block" | "skippable" | "checksum";

export class FrameWalker {
  private mode: Mode = "frame";
  /** Bytes of a header read so far; headers are at most 18 bytes, so one at a time is cheap. */
  private head: number[] = [];
  /** Bytes of block content (or a skippable frame, or a checksum) still to pass. */
  private skip = 0;
  private lastBlock = false;
  private hasChecksum = false;
  private declared = 0;
  private offset = 0;

  /** `maxContentSize`: what the frames may declare in total (the payload's plain size). */
  constructor(private readonly maxContentSize: number) {}

  update(chunk: Uint8Array): void {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.skip > 0) {
        const count = Math.min(this.skip, chunk.length - pos);
        this.skip -= count;
        pos += count;
        if (this.skip === 0) this.skipped();
        continue;
      }
      this.head.push(chunk[pos++]!);
      this.parseHead();
    }
    this.offset += chunk.length;
  }

  /** The body is over: it must end between frames. */
  finish(): void {
    if (this.mode !== "frame" || this.head.length > 0 || this.skip > 0) {
      throw new ZstdError(`the body ends inside a zstd frame (after ${this.offset} bytes)`);
    }
  }

  private parseHead(): void {
    const head = this.head;
    if (this.mode === "block") {
      if (head.length < 3) return;
      const header = head[0]! | (head[1]! << 8) | (head[2]! << 16);
      const type = (header >> 1) & 3;
      if (type === BLOCK_TYPE_RESERVED) throw new ZstdError("zstd block of the reserved type");
      this.lastBlock = (header & 1) === 1;
      this.skip = type === BLOCK_TYPE_RLE ? 1 : header >>> 3;
      this.head = [];
      if (this.skip === 0) this.skipped();
      return;
    }
    if (head.length < 4) return;
    const magic = (head[0]! | (head[1]! << 8) | (head[2]! << 16) | (head[3]! << 24)) >>> 0;
    if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) {
      if (head.length < 8) return;
      this.skip = (head[4]! | (head[5]! << 8) | (head[6]! << 16) | (head[7]! << 24)) >>> 0;
      this.mode = "skippable";
      this.head = [];
      if (this.skip === 0) this.skipped();
      return;
    }
    if (magic !== ZSTD_MAGIC) throw new ZstdError(`not a zstd frame (magic 0x${magic.toString(16).padStart(8, "0")})`);
    if (head.length < 5) return;
    const descriptor = head[4]!;
    const singleSegment = (descriptor & 0x20) !== 0;
    const dictionaryBytes = [0, 1, 2, 4][descriptor & 3]!;
    const sizeBytes = [singleSegment ? 1 : 0, 2, 4, 8][descriptor >> 6]!;
    const sizeAt = 5 + (singleSegment ? 0 : 1) + dictionaryBytes;
    if (head.length < sizeAt + sizeBytes) return;
    if (sizeBytes > 0) {
      let size = 0;
      for (let i = sizeBytes - 1; i >= 0; i--) size = size * 256 + head[sizeAt + i]!;
      if (sizeBytes === 2) size += 256;
      this.declared += size;
      if (this.declared > this.maxContentSize) {
        throw new ZstdError(`a zstd frame declares ${size} bytes of content, more than the ${this.maxContentSize} expected`);
      }
    }
    this.hasChecksum = (descriptor & 0x04) !== 0;
    this.mode = "block";
    this.head = [];
  }

  /** The bytes counted in `skip` have passed. */
  private skipped(): void {
    if (this.mode === "block" && this.lastBlock && this.hasChecksum) {
      this.mode = "checksum";
      this.skip = 4;
    } else if (this.mode !== "block" || this.lastBlock) {
      this.mode = "frame";
    }
  }
}
