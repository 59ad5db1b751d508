/** The public shapes of the VFS: one entry per path the blit creates (or, for specials, records). */
import type { LayoutRecord } from "../stone/types.ts";

/** `special` = character/block device, fifo, socket or an unknown layout type: never blitted. */
export type VfsKind = "directory" | "regular" | "symlink" | "special";

export interface VfsEntry {
  /** Absolute: "/usr", "/usr/bin", "/usr/bin/nano". The root "/" itself is not an entry. */
  path: string;
  kind: VfsKind;
  /**
   * The layout mode as stored in the stone, file-type bits included (0o100644, 0o120777, …).
   * Implicit directories get `0o40755` (S_IFDIR | 0755), uid 0, gid 0.
   */
  mode: number;
  uid: number;
  gid: number;
  /** Regular files: XXH3-128, 32 hex digits, zero padded. */
  digest?: string;
  /** Symlinks: the link text, exactly as packaged. */
  source?: string;
  /** The package that put this entry here; undefined for implicit directories. */
  packageId?: string;
  /** The stone `LayoutEntryType` (Directory for implicit directories). */
  entryType: number;
}

/** Two packages claim one path with different contents, or one puts an entry where none can go. */
export interface VfsConflict {
  path: string;
  /** The package whose entry stays (row order) — or whose symlink/file blocks the path. */
  first: string;
  /** The package whose entry cannot be placed. */
  second: string;
  firstKind: VfsKind;
  secondKind: VfsKind;
  /** Why, when it is not simply "both ship this path": e.g. the blocking symlink and its target. */
  detail?: string;
}

/** An entry that would be written outside `/usr`, or a path that is not a clean relative path. */
export interface VfsUnsafePath {
  path: string;
  packageId: string;
  reason: string;
  /** The package whose symlink led the path outside /usr, when that is what went wrong. */
  linkedBy?: string;
}

export interface VfsCounts {
  directories: number;
  regular: number;
  symlinks: number;
  special: number;
  /**
   * UTF-16 units of every directory's path, every other entry's name and every symlink's
   * source: a bound for whoever encodes the tree's text (the blit job) without walking it first.
   */
  textUnits: number;
}

export interface Vfs {
  /**
   * Every entry in blit order: depth-first pre-order from "/", children sorted by name (UTF-8 byte
   * order). Made on first use, from the tree, which then goes: for a caller that needs the list.
   */
  readonly entries: VfsEntry[];
  /**
   * The entries in the same order, made one at a time as the tree is walked (again on each call)
   * and never held: what the blit uses, so that a 65,000-entry state is never in memory twice.
   */
  forEach(visit: (entry: VfsEntry) => void): void;
  /** How many entries there are. */
  readonly size: number;
  byPath(path: string): VfsEntry | undefined;
  counts: VfsCounts;
  /** Only filled with `conflicts: "report"`; otherwise a conflict throws and this is empty. */
  conflicts: VfsConflict[];
}

/** One layout row of a selected package. Kept by reference in the result: do not reuse the object. */
export interface VfsRow {
  packageId: string;
  record: LayoutRecord;
}

export interface BuildVfsOptions {
  /** Names a package in messages (e.g. "nano-8.3-33"); the id itself by default. */
  describe?: (packageId: string) => string;
  /**
   * "fail" (default): any conflict throws before a plan exists — for transactions.
   * "report": keep the first entry of each conflicting path (as Rust does) and list the conflicts
   * in `Vfs.conflicts` — for reading trees that Rust moss already blitted (verify, info, activate).
   * Unsafe paths always throw.
   */
  conflicts?: "fail" | "report";
}
