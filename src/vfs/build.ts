/**
 * buildVfs: the layouts of a selection in, the tree the blit writes out (§3.9, §3.10). Pure.
 * Rows go in at their literal paths, symlinked directories are redirected, then the tree is read
 * out in blit order. Every problem is collected first and thrown once, so a user sees them all.
 */
import { walkTree } from "./emit.ts";
import { VfsError } from "./errors.ts";
import { symlinkSourceProblem } from "./layout-path.ts";
import { redirectSymlinks } from "./redirect.ts";
import { LayoutTree } from "./tree.ts";
import { LayoutEntryType } from "../stone/types.ts";
import type { BuildVfsOptions, Vfs, VfsCounts, VfsEntry, VfsRow, VfsUnsafePath } from "./types.ts";

export function buildVfs(rows: Iterable<VfsRow>, opts: BuildVfsOptions = {}): Vfs {
  const builder = new VfsBuilder(opts);
  for (const row of rows) builder.add(row);
  return builder.finish();
}

/**
 * The same build, fed a row at a time: a transaction inserts the rows it already has while the
 * packages it is still unpacking arrive. Rows must come in the order buildVfs would get them.
 */
export class VfsBuilder {
  private readonly tree = new LayoutTree();
  private readonly unsafePaths: VfsUnsafePath[] = [];

  constructor(private readonly opts: BuildVfsOptions = {}) {}

  add(row: VfsRow): void {
    const { record } = row;
    // The row is kept as the entry's claim (no copy): rows must not be reused by the caller.
    const problem = (record.entryType === LayoutEntryType.Symlink ? symlinkSourceProblem(record.source) : undefined) ??
      this.tree.insert(record.target, row);
    if (problem !== undefined) {
      const path = record.target.startsWith("/") ? record.target : `/usr/${record.target}`;
      this.unsafePaths.push({ path, packageId: row.packageId, reason: problem });
    }
  }

  /** Settles symlinked directories and checks the whole tree; the builder is spent after this. */
  finish(): Vfs {
    const { tree, unsafePaths, opts } = this;
    const describe = opts.describe ?? ((packageId: string) => packageId);
    redirectSymlinks(tree);
    // One walk finds what sits below a file or a failed link (and counts), before anything is made.
    const counts: VfsCounts = { directories: 0, regular: 0, symlinks: 0, special: 0, textUnits: 0 };
    walkTree(tree, { counts, unsafePaths, release: false });
    if (unsafePaths.length > 0) throw VfsError.unsafe(unsafePaths, describe);
    if (tree.conflicts.length > 0 && opts.conflicts !== "report") throw VfsError.conflicts(tree.conflicts, describe);
    return makeVfs(tree, counts);
  }
}

function makeVfs(tree: LayoutTree, counts: VfsCounts): Vfs {
  let list: VfsEntry[] | undefined;
  let index: Map<string, VfsEntry> | undefined;
  const entries = (): VfsEntry[] => {
    if (list === undefined) {
      const made: VfsEntry[] = [];
      walkTree(tree, { visit: (entry) => made.push(entry), release: true });
      list = made;
    }
    return list;
  };
  return {
    get entries() {
      return entries();
    },
    forEach(visit) {
      if (list !== undefined) list.forEach((entry) => visit(entry));
      else walkTree(tree, { visit, release: false });
    },
    size: counts.directories + counts.regular + counts.symlinks + counts.special,
    // Built on first use: the blit never needs it.
    byPath(path) {
      index ??= new Map(entries().map((entry) => [entry.path, entry]));
      return index.get(path);
    },
    counts,
    conflicts: tree.conflicts,
  };
}
