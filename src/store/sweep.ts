/**
 * The walk under every GC and clean-up: delete each non-directory entry a predicate rejects,
 * then every directory left empty, bottom-up. Symlinks are never followed (a link is an entry
 * like a file), and the root itself always stays.
 */
import fs from "node:fs";
import { errnoOf, storeIoError } from "./errors.ts";

export interface SweepResult {
  /** Files (and other non-directories) deleted. */
  removed: number;
  /** Their sizes, summed. */
  bytes: number;
}

/** `keep(file, name)` is asked for every non-directory below `root`; a missing root is empty. */
export function sweep(root: string, keep: (file: string, name: string) => boolean): SweepResult {
  const result: SweepResult = { removed: 0, bytes: 0 };
  sweepDir(root, keep, result);
  return result;
}

/** Returns whether `dir` is empty afterwards. */
function sweepDir(dir: string, keep: (file: string, name: string) => boolean, result: SweepResult): boolean {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    if (errnoOf(error) === "ENOENT") return true;
    throw storeIoError("cannot list", dir, error);
  }
  let left = entries.length;
  for (const entry of entries) {
    const entryPath = `${dir}/${entry.name}`;
    if (entry.isDirectory()) {
      if (sweepDir(entryPath, keep, result) && removeEmptyDir(entryPath)) left--;
    } else if (!keep(entryPath, entry.name)) {
      const size = removeFile(entryPath);
      if (size !== undefined) {
        result.removed++;
        result.bytes += size;
      }
      left--;
    }
  }
  return left === 0;
}

/** The file's size, or undefined when it was already gone. */
function removeFile(file: string): number | undefined {
  try {
    const size = fs.lstatSync(file).size;
    fs.unlinkSync(file);
    return size;
  } catch (error) {
    if (errnoOf(error) === "ENOENT") return undefined;
    throw storeIoError("cannot remove", file, error);
  }
}

/** False when something appeared in it meanwhile (a concurrent unpack): it stays, that is fine. */
function removeEmptyDir(dir: string): boolean {
  try {
    fs.rmdirSync(dir);
    return true;
  } catch (error) {
    const code = errnoOf(error);
    if (code === "ENOENT") return true;
    if (code === "ENOTEMPTY" || code === "EEXIST") return false;
    throw storeIoError("cannot remove directory", dir, error);
  }
}
