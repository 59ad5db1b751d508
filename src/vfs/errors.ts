/** The one error a VFS build throws: every conflict (or unsafe path) found, not just the first. */
import { MossError } from "../errors.ts";
import type { VfsConflict, VfsUnsafePath } from "./types.ts";

export type VfsErrorCode = "VFS_CONFLICT" | "VFS_UNSAFE_PATH";

/** Enough lines to act on; the count says how many more there are. */
const LISTED = 10;

export class VfsError extends MossError {
  declare readonly code: VfsErrorCode;
  readonly conflicts: VfsConflict[];
  readonly unsafePaths: VfsUnsafePath[];

  constructor(code: VfsErrorCode, message: string, found: { conflicts?: VfsConflict[]; unsafePaths?: VfsUnsafePath[] }) {
    super(code, message);
    this.name = "VfsError";
    this.conflicts = found.conflicts ?? [];
    this.unsafePaths = found.unsafePaths ?? [];
  }

  static conflicts(conflicts: VfsConflict[], describe: (packageId: string) => string): VfsError {
    const lines = conflicts.slice(0, LISTED).map((c) =>
      `${c.path}: ${describe(c.second)} conflicts with ${describe(c.first)}${c.detail ? ` (${c.detail})` : ""}`);
    const head = `${conflicts.length} file conflict${conflicts.length === 1 ? "" : "s"} between the selected packages:`;
    return new VfsError("VFS_CONFLICT", [head, ...lines, ...more(conflicts.length)].join("\n"), { conflicts });
  }

  static unsafe(unsafePaths: VfsUnsafePath[], describe: (packageId: string) => string): VfsError {
    const lines = unsafePaths.slice(0, LISTED).map((u) =>
      `${describe(u.packageId)}: ${u.path}: ${u.reason}${u.linkedBy && u.linkedBy !== u.packageId ? `, a symlink of ${describe(u.linkedBy)}` : ""}`);
    const head = `refusing ${unsafePaths.length} unsafe layout path${unsafePaths.length === 1 ? "" : "s"} (nothing may be written outside /usr):`;
    return new VfsError("VFS_UNSAFE_PATH", [head, ...lines, ...more(unsafePaths.length)].join("\n"), { unsafePaths });
  }
}

function more(total: number): string[] {
  return total > LISTED ? [`… and ${total - LISTED} more (${total} in total)`] : [];
}
