/** Layout rows for VFS tests, and a build that always re-checks the blit invariant from paths. */
import { expect } from "bun:test";
import { assertBlitSafe, buildVfs, VfsError, type BuildVfsOptions, type Vfs, type VfsRow } from "../../src/vfs/index.ts";
import { LayoutEntryType, type LayoutRecord } from "../../src/stone/types.ts";

const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFDIR = 0o40000;

/** A regular file; the digest defaults to one derived from `content` so equal content is equal. */
export function file(target: string, content = "x", opts: Partial<LayoutRecord> = {}): LayoutRecord {
  const digest = Buffer.from(content).toString("hex").padStart(32, "0").slice(-32);
  return { uid: 0, gid: 0, mode: S_IFREG | 0o644, tag: 0, entryType: LayoutEntryType.Regular, target, digest, ...opts };
}

export function link(target: string, source: string): LayoutRecord {
  return { uid: 0, gid: 0, mode: S_IFLNK | 0o777, tag: 0, entryType: LayoutEntryType.Symlink, target, source };
}

export function dir(target: string, mode = 0o755, opts: Partial<LayoutRecord> = {}): LayoutRecord {
  return { uid: 0, gid: 0, mode: S_IFDIR | mode, tag: 0, entryType: LayoutEntryType.Directory, target, ...opts };
}

export function fifo(target: string): LayoutRecord {
  return { uid: 0, gid: 0, mode: 0o010644, tag: 0, entryType: LayoutEntryType.Fifo, target };
}

export function pkg(packageId: string, ...records: LayoutRecord[]): VfsRow[] {
  return records.map((record) => ({ packageId, record }));
}

/** Builds, and checks the result against the invariant the blit relies on. */
export function build(rows: VfsRow[], opts?: BuildVfsOptions): Vfs {
  const vfs = buildVfs(rows, opts);
  assertBlitSafe(vfs.entries);
  return vfs;
}

export function buildFails(rows: VfsRow[], opts?: BuildVfsOptions): VfsError {
  try {
    buildVfs(rows, opts);
  } catch (error) {
    expect(error).toBeInstanceOf(VfsError);
    return error as VfsError;
  }
  throw new Error("expected the VFS build to fail");
}

export const paths = (vfs: Vfs): string[] => vfs.entries.map((entry) => entry.path);
