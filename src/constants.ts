/** Every magic number of moss-ts in one place, with the reason it has its value. */

/** zlib's zstd streams run at the CLI's speed with 1 MiB chunks; 16 KiB (default) halves it. */
export const ZSTD_CHUNK_SIZE = 1 << 20;

/** Rust moss lets the decoder accept windows up to 2 GiB: its writer uses windowLog 31 (stone §4). */
export const ZSTD_WINDOW_LOG_MAX = 31;

/**
 * Meta, layout and index payloads are decoded in memory. Their windows need never exceed this
 * (boulder-D uses 4 MiB, Rust single-segment frames use the payload size), so a header claiming a
 * larger window on a small payload is refused instead of reserving gigabytes.
 */
export const RECORD_WINDOW_LOG_MAX = 27;

/**
 * The largest record payload (meta, layout, index, attributes) we hold in memory. A layout of a
 * million files is ~100 MiB; anything larger is a corrupt size field, not a real package.
 */
export const MAX_RECORD_PAYLOAD_PLAIN = 256 * 1024 * 1024;

/** Our writer's default zstd window: 128 MiB keeps extraction memory bounded for any package. */
export const WRITER_WINDOW_LOG = 27;

/** The Rust writer's level; used by `pack-stone` unless told otherwise. */
export const WRITER_DEFAULT_LEVEL = 18;

/** File reads while streaming a content payload. */
export const READ_CHUNK_SIZE = 1 << 20;

/** XXH3-128 of the empty input: moss creates such files instead of linking one shared asset. */
export const EMPTY_FILE_DIGEST = "99aa06d3014798d86001c324468d497f";

/**
 * Idle hash-wasm instances kept for reuse per algorithm. Instantiating one costs 1–4 ms (it was 90%
 * of streaming a small package's content); a handful covers every hasher alive at one time.
 */
export const HASHER_POOL_LIMIT = 8;
