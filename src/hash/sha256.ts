/** SHA-256 of a whole file, read 1 MiB at a time: package hashes (stone §5.4). */
import fs from "node:fs";

export function sha256File(file: string): string {
  const hasher = new Bun.CryptoHasher("sha256");
  const fd = fs.openSync(file, "r");
  try {
    const buffer = new Uint8Array(1 << 20);
    for (;;) {
      const count = fs.readSync(fd, buffer, 0, buffer.length, null);
      if (count === 0) break;
      hasher.update(buffer.subarray(0, count));
    }
  } finally {
    fs.closeSync(fd);
  }
  return hasher.digest("hex");
}
