/**
 * The double-buffered zstd decoder on Bun's native handle (src/zstd/stream-decoder.ts): output
 * identical to a one-shot decode across frame and buffer boundaries, producer buffers reusable,
 * errors typed, and an abandoned decode leaves nothing running.
 */
import { describe, expect, test } from "bun:test";
import zlib from "node:zlib";
import { ZSTD_CHUNK_SIZE } from "../../src/constants.ts";
import { zstdDecodeStream, zstdEncodeSync, ZstdError } from "../../src/zstd/index.ts";
import { decodeZstdStream } from "../../src/zstd/stream-decoder.ts";
import { CHUNK_BUFFER_SIZE, dropSpareChunkBuffers, returnChunkBuffer, takeChunkBuffer } from "../../src/chunk-buffers.ts";

/** Deterministic, partly compressible bytes. */
function bytes(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    out[i] = i % 7 === 0 ? x & 0xff : (i >> 9) & 0xff;
  }
  return out;
}

/** Feed `body` in `size`-byte pieces through ONE buffer that is overwritten for every piece. */
function* throughOneBuffer(body: Uint8Array, size: number): Generator<Uint8Array> {
  const buffer = new Uint8Array(size);
  for (let pos = 0; pos < body.length; pos += size) {
    const piece = body.subarray(pos, Math.min(pos + size, body.length));
    buffer.fill(0xee);
    buffer.set(piece);
    yield buffer.subarray(0, piece.length);
  }
}

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<{ data: Uint8Array; sizes: number[] }> {
  const parts: Uint8Array[] = [];
  const sizes: number[] = [];
  for await (const chunk of chunks) {
    parts.push(chunk.slice()); // a yielded chunk is only valid until the next: keep a copy
    sizes.push(chunk.length);
  }
  return { data: Buffer.concat(parts), sizes };
}

const encode = (plain: Uint8Array, windowLog = 20) => zstdEncodeSync(plain, { level: 3, windowLog, pledgedSize: plain.length });

describe("decodeZstdStream", () => {
  test("decodes several frames fed through one reused input buffer, in chunks of at most 1 MiB", async () => {
    const plains = [bytes(3 * ZSTD_CHUNK_SIZE + 12345, 1), bytes(0, 2), bytes(ZSTD_CHUNK_SIZE, 3), bytes(777, 4)];
    const body = Buffer.concat(plains.map((p) => encode(p)));
    for (const pieceSize of [4096, 65536, ZSTD_CHUNK_SIZE]) {
      const { data, sizes } = await collect(decodeZstdStream(throughOneBuffer(body, pieceSize)));
      expect(Math.max(...sizes)).toBeLessThanOrEqual(ZSTD_CHUNK_SIZE);
      expect(Buffer.compare(data, Buffer.concat(plains))).toBe(0);
    }
    // One byte at a time: every write starts with the decoder wanting input.
    const small = bytes(20_000, 11);
    const { data } = await collect(decodeZstdStream(throughOneBuffer(encode(small), 1)));
    expect(Buffer.compare(data, small)).toBe(0);
  });

  test("an output of exactly one buffer, and a highly compressible one, come out whole", async () => {
    for (const plain of [bytes(ZSTD_CHUNK_SIZE, 9), new Uint8Array(40 * ZSTD_CHUNK_SIZE)]) {
      const { data } = await collect(decodeZstdStream([encode(plain)]));
      expect(data.length).toBe(plain.length);
      expect(Bun.hash.xxHash3(data)).toBe(Bun.hash.xxHash3(plain));
    }
  });

  test("corrupt input is a ZstdError, not a crash", async () => {
    const body = encode(bytes(2 * ZSTD_CHUNK_SIZE, 5));
    // zstd without its optional checksum decodes flipped literals silently (the stone digests catch
    // those); bytes that make the block headers and sequences impossible must fail here.
    body.fill(0xff, 12, 64);
    const error = await collect(decodeZstdStream([body])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ZstdError);
  });

  test("a frame whose window exceeds windowLogMax is refused", async () => {
    const plain = bytes(3 * ZSTD_CHUNK_SIZE, 6);
    const body = zstdEncodeSync(plain, { level: 1, windowLog: 22 });
    const error = await collect(decodeZstdStream([body], { windowLogMax: 20 })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ZstdError);
    expect(String((error as Error).message)).toMatch(/too much memory/i);
  });

  test("a caller that stops early leaves the decoder closed and the process healthy", async () => {
    const body = encode(bytes(8 * ZSTD_CHUNK_SIZE, 7));
    for (let round = 0; round < 50; round++) {
      for await (const chunk of decodeZstdStream([body])) {
        expect(chunk.length).toBeGreaterThan(0);
        break;
      }
    }
    const { data } = await collect(decodeZstdStream([body]));
    expect(data.length).toBe(8 * ZSTD_CHUNK_SIZE);
  });
});

describe("zstdDecodeStream (framing walked first)", () => {
  test("a body cut inside a frame is refused although the decoder would stop quietly", async () => {
    const body = encode(bytes(2 * ZSTD_CHUNK_SIZE, 8));
    async function* cut() { yield body.subarray(0, body.length - 10); }
    const error = await collect(zstdDecodeStream(cut(), { maxContentSize: 2 * ZSTD_CHUNK_SIZE })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ZstdError);
  });

  test("agrees with node:zlib's own one-shot decoder", async () => {
    const plain = bytes(5 * ZSTD_CHUNK_SIZE + 3, 10);
    const body = encode(plain, 23);
    async function* source() { yield* throughOneBuffer(body, 100_000); }
    const { data } = await collect(zstdDecodeStream(source(), { maxContentSize: plain.length }));
    expect(Buffer.compare(data, zlib.zstdDecompressSync(body))).toBe(0);
  });
});

describe("chunk buffers kept between decodes", () => {
  test("a buffer handed back is the next one taken; views and odd sizes are never kept", () => {
    const buffer = takeChunkBuffer();
    expect(buffer.length).toBe(CHUNK_BUFFER_SIZE);
    returnChunkBuffer(buffer);
    expect(takeChunkBuffer()).toBe(buffer);
    returnChunkBuffer(buffer.subarray(0, 10));
    returnChunkBuffer(new Uint8Array(100));
    expect(takeChunkBuffer()).not.toBe(buffer);
    dropSpareChunkBuffers();
  });

  test("decodes running at once in one thread, and one after them on their buffers, each get their own bytes", async () => {
    const bodies = [bytes(3 * ZSTD_CHUNK_SIZE + 123, 1), bytes(2 * ZSTD_CHUNK_SIZE + 7, 2), bytes(4 * ZSTD_CHUNK_SIZE + 99, 3)];
    const frames = bodies.map((body) => encode(body));
    const decode = async (frame: Uint8Array): Promise<Uint8Array> => {
      const parts: Uint8Array[] = [];
      for await (const chunk of decodeZstdStream(throughOneBuffer(frame, 64 * 1024))) parts.push(chunk.slice());
      return Buffer.concat(parts);
    };
    const [first, second] = await Promise.all([decode(frames[0]!), decode(frames[1]!)]);
    const third = await decode(frames[2]!);
    expect(Buffer.compare(first, bodies[0]!)).toBe(0);
    expect(Buffer.compare(second, bodies[1]!)).toBe(0);
    expect(Buffer.compare(third, bodies[2]!)).toBe(0);
  });
});
