import fs from "node:fs";
import { fromNodeError, SyscallError } from "./errors.ts";
import { lastErrno, libc } from "./libc.ts";

/**
 * Flush every dirty page of the filesystem holding `fd`. One call after a blit of thousands of
 * files is far cheaper than an fsync per file, and it covers the directory entries too.
 */
export function syncfs(fd: number): void {
  if (libc().core.symbols.syncfs(fd) !== 0) {
    throw new SyscallError({ syscall: "syncfs", errno: lastErrno(), subject: `fd ${fd}` });
  }
}

/** fsync a file or a directory by path: after a rename, fsync of the parent makes the rename durable. */
export function fsyncPath(path: string): void {
  let fd: number;
  try {
    // O_RDONLY opens directories as well as files, and fsync works on either.
    fd = fs.openSync(path, fs.constants.O_RDONLY);
  } catch (error) {
    throw fromNodeError(error, JSON.stringify(path), [path]);
  }
  try {
    fs.fsyncSync(fd);
  } catch (error) {
    throw fromNodeError(error, JSON.stringify(path), [path]);
  } finally {
    fs.closeSync(fd);
  }
}
