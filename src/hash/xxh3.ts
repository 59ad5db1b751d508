/**
 * XXH3 behind one small interface, so the implementation can be re-measured and swapped
 * (shared/notes/dependency-measurements.md §2): Bun's native XXH3-64 for one-shot hashing,
 * hash-wasm's WASM core for XXH3-128 and for XXH3-64 when the input arrives in chunks.
 */
import { createXXHash128, createXXHash3, type IHasher } from "hash-wasm";

/** XXH3-64, seed 0, of a whole buffer. */
export function xxh3_64(bytes: Uint8Array): bigint {
  return Bun.hash.xxHash3(bytes) as bigint;
}

/** A reusable incremental hasher: `reset()`, `update()` any number of times, then a digest. */
export interface StreamingHasher {
  reset(): void;
  update(chunk: Uint8Array): void;
  /** The canonical big-endian bytes, as xxhsum prints them. */
  digestBytes(): Uint8Array;
  digestHex(): string;
}

function wrap(hasher: IHasher): StreamingHasher {
  hasher.init();
  return {
    reset: () => void hasher.init(),
    update: (chunk) => void hasher.update(chunk),
    digestBytes: () => hasher.digest("binary"),
    digestHex: () => hasher.digest("hex"),
  };
}

/** XXH3-128, seed 0; `digestHex()` is the 32-digit zero-padded form. */
export async function createXxh3_128(): Promise<StreamingHasher> {
  return wrap(await createXXHash128());
}

/** XXH3-64, seed 0, for a body streamed in chunks. */
export type Xxh3_64Hasher = StreamingHasher & { digestBigInt(): bigint };

export async function createXxh3_64(): Promise<Xxh3_64Hasher> {
  const hasher = wrap(await createXXHash3());
  return { ...hasher, digestBigInt: () => BigInt("0x" + hasher.digestHex()) };
}

/** XXH3-128, seed 0, of a whole buffer, as 32 hex digits. */
export async function xxh3_128Hex(bytes: Uint8Array): Promise<string> {
  const hasher = await createXxh3_128();
  hasher.update(bytes);
  return hasher.digestHex();
}
