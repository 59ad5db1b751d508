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

/**
 * Chunk buffers a thread keeps for its next unpack (chunk-buffers.ts): one read and two decode
 * buffers per unpack under way, and the main thread runs two at once when it unpacks alone.
 */
export const SPARE_CHUNK_BUFFERS = 6;

/** XXH3-128 of the empty input: moss creates such files instead of linking one shared asset. */
export const EMPTY_FILE_DIGEST = "99aa06d3014798d86001c324468d497f";

/**
 * Idle hash-wasm instances kept for reuse per algorithm. Instantiating one costs 1–4 ms (it was 90%
 * of streaming a small package's content); a handful covers every hasher alive at one time.
 */
export const HASHER_POOL_LIMIT = 8;

/** Overrides the number of threads a hardlink blit uses (1 = the main thread only). */
export const BLIT_THREADS_ENV = "MOSS_BLIT_THREADS";

/**
 * Threads of a hardlink blit by default, at most (one per CPU below that). Measured on 2 cores
 * (scripts/bench/blit.ts): the second thread takes the blit from ~0.6× to ~1× linkfarm's rate;
 * more threads than cores only add contention.
 */
export const BLIT_MAX_THREADS = 4;

/** Below this many files and symlinks a blit worker (~5–20 ms to start) costs more than it saves. */
export const BLIT_WORKER_MIN_ITEMS = 8192;

/** Overrides the number of threads unpacking packages into the store (1 = the main thread only). */
export const UNPACK_THREADS_ENV = "MOSS_UNPACK_THREADS";

/**
 * Threads unpacking at once by default, at most (one per CPU below that). An unpack is ~90% the
 * kernel creating directories and files, which runs in parallel on separate cores.
 */
export const UNPACK_MAX_THREADS = 4;

/** Unpacking collects garbage after this much decoded content (store/unpack-pool.ts). */
export const UNPACK_GC_EVERY_BYTES = 12 * 1024 * 1024;

/** What one package's unpack leaves behind besides its content (records, strings), counted toward it. */
export const UNPACK_GC_OVERHEAD_BYTES = 1024 * 1024;

/**
 * Reading a state's layout rows collects young garbage after this many rows (db/layout.ts): each
 * row's array and strings are garbage once decoded, and left alone they add ~20 MiB to the peak
 * (every 16,384 rows still left 8 MiB more than every 4,096; a young collection costs ~1 ms).
 */
export const READ_GC_ROWS = 4096;

/**
 * A walk of a VFS that makes entries collects young garbage every this many (vfs/emit.ts): the
 * entries a blit walks past, and the nodes a walk releases, are reused instead of piling up.
 */
export const VFS_GC_ENTRIES = 5000;

/**
 * Layout rows recorded per database transaction while packages unpack (client/install.ts): large
 * enough that commits cost nothing next to the inserts, small enough that few records are held.
 */
export const LAYOUT_BATCH_ROWS = 8192;

/**
 * A new state's tree reads the rows it already has while packages unpack (transaction/
 * selection-tree.ts), handing this thread back to the unpack's callbacks after this many rows
 * (~2 ms of reading): long enough to cost nothing, short enough that no unpack result waits.
 */
export const TREE_READ_SLICE_ROWS = 1024;
