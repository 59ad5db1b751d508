/**
 * buildVfs: the layouts of a selection in, the tree the blit writes out (§3.9, §3.10). Pure.
 * Rows go in at their literal paths, symlinked directories are redirected, then the tree is read
 * out in blit order. Every problem is collected first and thrown once, so a user sees them all.
 */
import { emitEntries } from "./emit.ts";
import { VfsError } from "./errors.ts";
import { symlinkSourceProblem } from "./layout-path.ts";
import { redirectSymlinks } from "./redirect.ts";
import { LayoutTree } from "./tree.ts";
import { LayoutEntryType } from "../stone/types.ts";
import type { BuildVfsOptions, Vfs, VfsEntry, VfsRow, VfsUnsafePath } from "./types.ts";

export function buildVfs(rows: Iterable<VfsRow>, opts: BuildVfsOptions = {}): Vfs {
  const describe = opts.describe ?? ((packageId: string) => packageId);
  const tree = new LayoutTree();
  const unsafePaths: VfsUnsafePath[] = [];
  for (const row of rows) {
    const { packageId, record } = row;
    // The row is kept as the entry's claim (no copy): rows must not be reused by the caller.
    const problem = (record.entryType === LayoutEntryType.Symlink ? symlinkSourceProblem(record.source) : undefined) ??
      tree.insert(record.target, row);
    if (problem !== undefined) {
      const path = record.target.startsWith("/") ? record.target : `/usr/${record.target}`;
      unsafePaths.push({ path, packageId, reason: problem });
    }
  }
  redirectSymlinks(tree);
  const entries = emitEntries(tree, unsafePaths);
  if (unsafePaths.length > 0) throw VfsError.unsafe(unsafePaths, describe);
  if (tree.conflicts.length > 0 && opts.conflicts !== "report") throw VfsError.conflicts(tree.conflicts, describe);
  return makeVfs(entries, tree.conflicts);
}

function makeVfs(entries: VfsEntry[], conflicts: Vfs["conflicts"]): Vfs {
  const counts = { directories: 0, regular: 0, symlinks: 0, special: 0 };
  for (const entry of entries) {
    if (entry.kind === "directory") counts.directories++;
    else if (entry.kind === "regular") counts.regular++;
    else if (entry.kind === "symlink") counts.symlinks++;
    else counts.special++;
  }
  // Built on first use: the blit walks `entries` and never needs the map.
  let index: Map<string, VfsEntry> | undefined;
  const byPath = (path: string): VfsEntry | undefined => {
    index ??= new Map(entries.map((entry) => [entry.path, entry]));
    return index.get(path);
  };
  return { entries, byPath, counts, conflicts };
}
