/** SHA-256 of a whole file, read 1 MiB at a time: package hashes (stone §5.4). */
import fs from "node:fs";
import { returnChunkBuffer, takeChunkBuffer } from "../chunk-buffers.ts";

export function sha256File(file: string): string {
  const hasher = new Bun.CryptoHasher("sha256");
  const fd = fs.openSync(file, "r");
  // One reused buffer, not a fresh 1 MiB per file: an update checks every package it fetched,
  // and each new buffer is 256 pages for the kernel to fault in and zero.
  const buffer = takeChunkBuffer();
  try {
    for (;;) {
      const count = fs.readSync(fd, buffer, 0, buffer.length, null);
      if (count === 0) break;
      hasher.update(buffer.subarray(0, count));
    }
  } finally {
    fs.closeSync(fd);
    returnChunkBuffer(buffer);
  }
  return hasher.digest("hex");
}
