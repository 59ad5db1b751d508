/**
 * zstd behind one small interface. Bun's own libzstd through `node:zlib` streams at the speed of
 * the `zstd` CLI with a 1 MiB chunk size (shared/notes/dependency-measurements.md §1); the
 * default 16 KiB chunks run at half that speed.
 */
import zlib from "node:zlib";
import { ZSTD_CHUNK_SIZE, ZSTD_WINDOW_LOG_MAX } from "../constants.ts";
import { ZstdError } from "./errors.ts";
import { FrameWalker } from "./frames.ts";
import { decodeZstdStream } from "./stream-decoder.ts";

const Z = zlib.constants as unknown as Record<string, number>;

export { ZstdError };

/**
 * Decompress a whole (small) body. `maxOutput` stops a hostile frame from growing without bound:
 * one byte more than expected is enough to prove the size wrong. The framing is walked first
 * (frames.ts): the decoder itself would accept a body that ends inside a frame.
 */
export function zstdDecodeSync(body: Uint8Array, opts: { maxOutput: number; windowLogMax?: number }): Uint8Array {
  const walker = new FrameWalker(opts.maxOutput);
  walker.update(body);
  walker.finish();
  try {
    return zlib.zstdDecompressSync(body, {
      maxOutputLength: Math.max(1, opts.maxOutput),
      params: { [Z.ZSTD_d_windowLogMax!]: opts.windowLogMax ?? ZSTD_WINDOW_LOG_MAX },
    } as zlib.ZstdOptions);
  } catch (error) {
    throw toZstdError(error);
  }
}

/**
 * Decode a stream of compressed chunks (one or more frames) into plain chunks of at most 1 MiB.
 * A yielded chunk is valid only until the next is asked for, and each input chunk is finished
 * with before the next is pulled (stream-decoder.ts). With `maxContentSize`, each chunk's framing
 * is walked before the decoder sees it (frames.ts).
 */
export function zstdDecodeStream(
  compressed: AsyncIterable<Uint8Array>,
  opts: { windowLogMax?: number; maxContentSize?: number } = {},
): AsyncGenerator<Uint8Array> {
  if (opts.maxContentSize !== undefined) compressed = walked(compressed, new FrameWalker(opts.maxContentSize));
  return decodeZstdStream(compressed, { windowLogMax: opts.windowLogMax });
}

async function* walked(compressed: AsyncIterable<Uint8Array>, walker: FrameWalker): AsyncGenerator<Uint8Array> {
  for await (const chunk of compressed) {
    walker.update(chunk);
    yield chunk;
  }
  walker.finish();
}

export interface ZstdEncodeOptions {
  level: number;
  /** Bounds the decoder's memory: a frame's window is at most 2^windowLog bytes. */
  windowLog: number;
  /** The exact input size; recorded in the frame header (as the Rust writer does). */
  pledgedSize?: number;
}

export function zstdEncodeSync(plain: Uint8Array, opts: ZstdEncodeOptions): Uint8Array {
  return zlib.zstdCompressSync(plain, encoderOptions(opts));
}

/** A streaming encoder: write plain chunks in, read compressed chunks out. */
export function createZstdEncoder(opts: ZstdEncodeOptions): zlib.ZstdCompress {
  return zlib.createZstdCompress(encoderOptions(opts));
}

function encoderOptions(opts: ZstdEncodeOptions): zlib.ZstdOptions {
  return {
    chunkSize: ZSTD_CHUNK_SIZE,
    pledgedSrcSize: opts.pledgedSize,
    params: {
      [Z.ZSTD_c_compressionLevel!]: opts.level,
      [Z.ZSTD_c_windowLog!]: opts.windowLog,
      [Z.ZSTD_c_checksumFlag!]: 0,
      [Z.ZSTD_c_contentSizeFlag!]: 1,
    },
  } as zlib.ZstdOptions;
}

function toZstdError(error: unknown): ZstdError {
  if (error instanceof ZstdError) return error;
  const code = (error as { code?: string })?.code;
  const message = (error as Error)?.message ?? String(error);
  if (code === "ERR_BUFFER_TOO_LARGE") return new ZstdError("decompressed data is larger than the payload header says", code);
  return new ZstdError(message.replace(/^zstd\s*/i, ""), code);
}
