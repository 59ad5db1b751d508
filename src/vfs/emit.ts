/**
 * The tree as the blit needs it: entries in depth-first pre-order, siblings sorted by name, each
 * one below a directory emitted before it (checked as it goes; invariant.ts re-checks a finished
 * list from its paths alone). Nothing is emitted below a non-directory: whatever a package put
 * below a file, or below a symlink that could not be redirected, is reported instead (a conflict,
 * or an unsafe path when the link leaves /usr) by the first walk of a tree, which makes no entry.
 * Later walks make each entry as they reach it and hand it on, so no list of them need exist.
 */
import { VFS_GC_ENTRIES } from "../constants.ts";
import { YoungCollections } from "../young-collections.ts";
import { LayoutEntryType } from "../stone/types.ts";
import { compareNames } from "./layout-path.ts";
import type { FileTable } from "./file-table.ts";
import { pathOf, type Child, type Claim, type LayoutTree, type TreeNode } from "./tree.ts";
import type { VfsCounts, VfsEntry, VfsKind, VfsUnsafePath } from "./types.ts";

/** S_IFDIR | 0755: what an implicit directory is given, as the mode a stone would record. */
export const IMPLICIT_DIRECTORY_MODE = 0o40755;

export interface WalkOptions {
  /** Called with each entry in blit order; without it no entry object is made at all. */
  visit?: (entry: VfsEntry) => void;
  /** Counted per kind as the walk goes. */
  counts?: VfsCounts;
  /** Where to report what sits below a non-directory: only the first walk of a tree reports. */
  unsafePaths?: VfsUnsafePath[];
  /**
   * Let each node go once it is emitted, so that a caller keeping every entry does not also keep
   * the whole tree: the tree cannot be walked again afterwards.
   */
  release: boolean;
}

export function walkTree(tree: LayoutTree, opts: WalkOptions): void {
  const { visit, counts, unsafePaths, release: releasing } = opts;
  // Only a walk that makes entries leaves garbage behind.
  const collections = visit === undefined ? undefined : new YoungCollections(VFS_GC_ENTRIES);
  const emit = (entry: VfsEntry | undefined, kind: VfsKind, textUnits: number): void => {
    if (entry !== undefined) visit!(entry);
    if (counts !== undefined) {
      counts[COUNTED[kind]]++;
      counts.textUnits += textUnits;
    }
    collections?.done(1);
  };
  const walk = (node: TreeNode, path: string): void => {
    const { kind } = node;
    emit(visit && entryOf(node, path), kind, kind === "directory" ? path.length : node.name.length + (node.claim?.record.source?.length ?? 0));
    if (kind !== "directory") {
      if (unsafePaths !== undefined && (node.children !== undefined || node.shadowed !== undefined)) reportBelow(tree, node, path, unsafePaths);
      if (releasing) release(node);
      return;
    }
    if (node.children === undefined) return;
    // Sorted once, by the first walk of the finished tree: later walks take the same order.
    for (const name of (node.sorted ??= sortedNames(node.children))) {
      const child = node.children.get(name)!;
      if (typeof child === "number") {
        emit(visit && fileEntry(tree.files, child, `${path}/${name}`), "regular", name.length);
        continue;
      }
      // The blit's safety rests on this (and redirect.ts computes link directories from parent
      // pointers): a child is emitted only below the directory node it names as its parent.
      if (child.parent !== node) throw new Error(`VFS invariant broken: ${path}/${name} is not linked to its parent`);
      walk(child, `${path}/${name}`);
    }
    if (releasing) release(node);
  };
  walk(tree.usr, "/usr");
}

const COUNTED = { directory: "directories", regular: "regular", symlink: "symlinks", special: "special" } as const;

/**
 * A node whose entry (and everything below it) is emitted is never read again: dropping what it
 * holds lets its layout row and its children go while the entries are still being made, so the
 * tree and the entries are not both whole in memory at once.
 */
function release(node: TreeNode): void {
  node.children = undefined;
  node.sorted = undefined;
  node.claim = undefined;
  node.shadowed = undefined;
}

/** Every entry has the same fields in the same order (one object shape for the engine). */
function entryOf(node: TreeNode, path: string): VfsEntry {
  const claim = node.claim;
  if (claim === undefined) {
    return {
      path, kind: "directory", mode: IMPLICIT_DIRECTORY_MODE, uid: 0, gid: 0,
      digest: undefined, source: undefined, packageId: undefined, entryType: LayoutEntryType.Directory,
    };
  }
  const { record } = claim;
  return {
    path, kind: node.kind, mode: record.mode, uid: record.uid, gid: record.gid,
    digest: record.digest, source: record.source, packageId: claim.packageId, entryType: record.entryType,
  };
}

/** A file kept in the FileTable: the same shape as `entryOf` gives. */
function fileEntry(files: FileTable, file: number, path: string): VfsEntry {
  return {
    path, kind: "regular", mode: files.mode(file), uid: files.uid(file), gid: files.gid(file),
    digest: files.digest(file), source: undefined, packageId: files.packageId(file), entryType: LayoutEntryType.Regular,
  };
}

/**
 * Sibling names in UTF-8 byte order. The engine's own sort compares UTF-16 units, which agrees
 * unless a name holds characters above U+FFFF; one pass over neighbours tells, and only then the
 * slower comparator runs.
 */
function sortedNames(children: Map<string, Child>): string[] {
  const names = [...children.keys()].sort();
  for (let i = 1; i < names.length; i++) {
    if (compareNames(names[i - 1]!, names[i]!) > 0) return names.sort(compareNames);
  }
  return names;
}

/** Every package entry below `blocker` (and directory entries it shadows) cannot be placed. */
function reportBelow(tree: LayoutTree, blocker: TreeNode, blockerPath: string, unsafePaths: VfsUnsafePath[]): void {
  const owner = blocker.claim!;
  // Links that failed say why (redirect.ts); a file or special entry simply is no directory.
  const failure = blocker.failure ?? { unsafe: false, detail: `${pathOf(blocker)} is a ${blocker.kind} file, not a directory` };
  const report = (path: string, claim: Claim): void => {
    if (failure.unsafe) {
      // Only worth saying when the link is another package's: the error must name it too.
      const linkedBy = owner.packageId !== claim.packageId ? { linkedBy: owner.packageId } : {};
      unsafePaths.push({ path, packageId: claim.packageId, reason: failure.detail, ...linkedBy });
    }
    else tree.conflict(blocker, owner, claim, failure.detail, path);
  };
  for (const claim of blocker.shadowed ?? []) report(blockerPath, claim);
  const descend = (node: TreeNode, path: string): void => {
    if (node.children === undefined) return;
    for (const name of sortedNames(node.children)) {
      const child = node.children.get(name)!;
      const childPath = `${path}/${name}`;
      const claim = tree.claimOf(node, name, child);
      if (claim !== undefined) report(childPath, claim);
      if (typeof child === "number") continue;
      for (const shadowed of child.shadowed ?? []) report(childPath, shadowed);
      descend(child, childPath);
    }
  };
  descend(blocker, blockerPath);
}
