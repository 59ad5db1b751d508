/**
 * Test helper run as a child process: `bun hold-lock.ts <file> <exclusive|shared>` takes a blocking
 * flock on <file>, prints "held", and keeps it until its stdin closes.
 */
import fs from "node:fs";
import { flock } from "../../src/linux/index.ts";

const [file, mode] = process.argv.slice(2);
if (file === undefined || (mode !== "exclusive" && mode !== "shared")) throw new Error("usage: hold-lock.ts <file> <exclusive|shared>");
const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
flock(fd, mode);
process.stdout.write("held\n");
for await (const _ of Bun.stdin.stream()) {
  // Keep the lock until the parent closes our stdin.
}
