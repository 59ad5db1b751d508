/**
 * XXH3 behind one small interface, so the implementation can be re-measured and swapped
 * (shared/notes/dependency-measurements.md §2): Bun's native XXH3-64 for one-shot hashing,
 * hash-wasm's WASM core for XXH3-128 and for XXH3-64 when the input arrives in chunks.
 */
import { createXXHash128, createXXHash3, type IHasher } from "hash-wasm";
import { HASHER_POOL_LIMIT } from "../constants.ts";

/** XXH3-64, seed 0, of a whole buffer. */
export function xxh3_64(bytes: Uint8Array): bigint {
  return Bun.hash.xxHash3(bytes) as bigint;
}

/**
 * A reusable incremental hasher: `reset()`, `update()` any number of times, then a digest.
 * Dispose of it (`using`, or `[Symbol.dispose]()`) to hand its WASM instance back for reuse;
 * one that is never disposed is simply collected.
 */
export interface StreamingHasher extends Disposable {
  reset(): void;
  update(chunk: Uint8Array): void;
  /** The canonical big-endian bytes, as xxhsum prints them. Both digests may be read any number of times. */
  digestBytes(): Uint8Array;
  digestHex(): string;
}

const idle = { xxh3_64: [] as IHasher[], xxh3_128: [] as IHasher[] };

async function acquire(pool: IHasher[], create: () => Promise<IHasher>): Promise<StreamingHasher> {
  const hasher = pool.pop() ?? (await create());
  hasher.init();
  // hash-wasm finalizes on digest() and throws on a second call: keep the result until reset().
  let digest: Uint8Array | undefined;
  let disposed = false;
  const live = () => {
    if (disposed) throw new Error("hasher used after it was disposed");
    return hasher;
  };
  const final = () => (digest ??= live().digest("binary"));
  return {
    reset: () => {
      digest = undefined;
      live().init();
    },
    update: (chunk) => void live().update(chunk),
    digestBytes: () => final().slice(),
    digestHex: () => Buffer.from(final()).toString("hex"),
    [Symbol.dispose]: () => {
      if (disposed) return;
      disposed = true;
      if (pool.length < HASHER_POOL_LIMIT) pool.push(hasher);
    },
  };
}

/** XXH3-128, seed 0; `digestHex()` is the 32-digit zero-padded form. */
export function createXxh3_128(): Promise<StreamingHasher> {
  return acquire(idle.xxh3_128, createXXHash128);
}

/** XXH3-64, seed 0, for a body streamed in chunks. */
export type Xxh3_64Hasher = StreamingHasher & { digestBigInt(): bigint };

export async function createXxh3_64(): Promise<Xxh3_64Hasher> {
  const hasher = await acquire(idle.xxh3_64, createXXHash3);
  return Object.assign(hasher, { digestBigInt: () => BigInt("0x" + hasher.digestHex()) });
}

/** XXH3-128, seed 0, of a whole buffer, as 32 hex digits. */
export async function xxh3_128Hex(bytes: Uint8Array): Promise<string> {
  using hasher = await createXxh3_128();
  hasher.update(bytes);
  return hasher.digestHex();
}
