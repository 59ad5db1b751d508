import fs from "node:fs";
import path from "node:path";
import { errnoOf, fsyncPath } from "../linux/index.ts";
import { InstallationError } from "./errors.ts";

/**
 * Replace `file` so that a reader (or a crash) sees the old content or the new, never a part:
 * write `<file>.moss-tmp`, fsync, rename over, fsync the directory. A temp left by a crash is
 * removed by the next write of the same file.
 */
export function writeFileAtomic(file: string, content: string | Uint8Array, mode = 0o644): void {
  const temp = `${file}.moss-tmp`;
  try {
    unlinkIfPresent(temp);
    const fd = fs.openSync(temp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, mode);
    try {
      const bytes = typeof content === "string" ? Buffer.from(content, "utf8") : content;
      let written = 0;
      while (written < bytes.length) written += fs.writeSync(fd, bytes, written);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temp, file);
    fsyncPath(path.dirname(file));
  } catch (error) {
    if (errnoOf(error) === undefined) throw error;
    unlinkIfPresent(temp);
    throw new InstallationError("INSTALLATION_IO", `cannot write ${JSON.stringify(file)}: ${(error as Error).message}`, { cause: error });
  }
}

// Not fs.rmSync({ force: true }): Bun 1.4.5 reports EFAULT when a parent is not a directory.
function unlinkIfPresent(file: string): void {
  try {
    fs.unlinkSync(file);
  } catch (error) {
    const errno = errnoOf(error);
    if (errno !== "ENOENT" && errno !== "ENOTDIR") throw error;
  }
}
