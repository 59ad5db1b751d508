/**
 * 1 MiB chunk buffers kept for reuse within a thread. Unpacking a package used to allocate three
 * (one to read the content payload, two for the decoder) and drop them: 900 MiB of garbage for
 * 300 packages, outside the JS heap, which only a full collection every few packages kept from
 * becoming peak memory. A buffer goes back only once nothing can read it any more.
 */
import { READ_CHUNK_SIZE, SPARE_CHUNK_BUFFERS } from "./constants.ts";

export const CHUNK_BUFFER_SIZE = READ_CHUNK_SIZE;

const spare: Uint8Array[] = [];

/** A buffer of CHUNK_BUFFER_SIZE bytes (its contents are whatever its last user left). */
export function takeChunkBuffer(): Uint8Array {
  return spare.pop() ?? new Uint8Array(CHUNK_BUFFER_SIZE);
}

/** Hand back a buffer from `takeChunkBuffer` that nobody holds a view of any more. */
export function returnChunkBuffer(buffer: Uint8Array): void {
  if (buffer.byteLength === CHUNK_BUFFER_SIZE && buffer.buffer.byteLength === CHUNK_BUFFER_SIZE && spare.length < SPARE_CHUNK_BUFFERS) {
    spare.push(buffer);
  }
}

/** Let the spare buffers go (after the last unpack: what follows needs the memory, not them). */
export function dropSpareChunkBuffers(): void {
  spare.length = 0;
}
