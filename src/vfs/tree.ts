/**
 * The mutable tree a VFS build works on. Rows are inserted at their literal paths; a symlink that
 * ends up with entries below it (or a package's directory entry at the same path) is queued for
 * re-parenting (redirect.ts). Same-path entries are settled here, as they meet.
 */
import { LayoutEntryType, type LayoutRecord } from "../stone/types.ts";
import { FileTable } from "./file-table.ts";
import { componentProblem } from "./layout-path.ts";
import type { VfsConflict, VfsKind } from "./types.ts";

const SLASH = 0x2f;

/** A package's entry: the layout record and who shipped it. */
export interface Claim {
  record: LayoutRecord;
  packageId: string;
}

/** A directory's entry: a node, or a plain regular file kept in the tree's FileTable (its number). */
export type Child = TreeNode | number;

export interface TreeNode {
  name: string;
  parent: TreeNode | undefined;
  children: Map<string, Child> | undefined;
  kind: VfsKind;
  /** Undefined for an implicit directory (an ancestor no package listed). */
  claim: Claim | undefined;
  /** Directory entries that met this symlink on its path: dropped once the link leads to a directory. */
  shadowed: Claim[] | undefined;
  /** Why this symlink cannot carry the entries below it, once that is known. */
  failure: LinkFailure | undefined;
  /** The children's names in blit order, once a walk of the finished tree has sorted them. */
  sorted: string[] | undefined;
}

/** `unsafe`: following the link leaves `/usr`; otherwise the entries below it conflict with it. */
export interface LinkFailure {
  unsafe: boolean;
  detail: string;
}

export function kindOf(entryType: number): VfsKind {
  switch (entryType) {
    case LayoutEntryType.Regular: return "regular";
    case LayoutEntryType.Symlink: return "symlink";
    case LayoutEntryType.Directory: return "directory";
    default: return "special"; // devices, fifos, sockets and unknown types are never blitted
  }
}

export class LayoutTree {
  /** "/" itself: its only child is "usr", the one directory packages may write into. */
  readonly root: TreeNode = newNode("", undefined, "directory", undefined);
  readonly usr: TreeNode = newNode("usr", this.root, "directory", undefined);
  /** Symlinks with entries below them (or shadowing a directory entry), waiting to be redirected. */
  readonly pending = new Set<TreeNode>();
  readonly conflicts: VfsConflict[] = [];
  readonly files = new FileTable();

  constructor() {
    this.root.children = new Map([["usr", this.usr]]);
  }

  /**
   * Place a package's entry at `/usr/<target>`, creating implicit directories on the way; returns
   * why the target is refused instead, if it is. Layouts list a directory's entries together, so
   * the last parent is remembered, and every parent by its text: most rows cost one Map lookup.
   */
  insert(target: string, claim: Claim): string | undefined {
    if (target.length === 0) return "the path is empty";
    if (target.charCodeAt(0) === SLASH) return "absolute paths are refused; layout paths are relative to /usr";
    const cut = target.lastIndexOf("/");
    let directory = this.usr;
    if (cut > 0) {
      if (cut === this.lastParentText.length && target.startsWith(this.lastParentText)) {
        directory = this.lastParent;
      } else {
        const parentText = target.substring(0, cut);
        let found: TreeNode | string | undefined = this.parents.get(parentText);
        if (found === undefined) {
          found = this.walk(target, cut);
          if (typeof found === "string") return found;
          this.parents.set(parentText, found);
        }
        directory = found;
        this.lastParentText = parentText;
        this.lastParent = found;
      }
    }
    const name = cut < 0 ? target : target.substring(cut + 1);
    const problem = componentProblem(name);
    if (problem !== undefined) return problem;
    const entryType = claim.record.entryType;
    if (entryType === LayoutEntryType.Regular && directory.children?.has(name) !== true) {
      (directory.children ??= new Map()).set(name, this.files.add(claim));
      return undefined;
    }
    this.place(directory, newNode(name, undefined, kindOf(entryType), claim), true);
    return undefined;
  }

  /** `parent`'s entry `name` as a node: a file kept as a number becomes one, in its place. */
  node(parent: TreeNode, name: string): TreeNode | undefined {
    const child = parent.children?.get(name);
    if (typeof child !== "number") return child;
    const node = newNode(name, parent, "regular", this.files.claim(child, targetOf(parent, name)));
    parent.children!.set(name, node);
    return node;
  }

  /** The claim of a file kept as a number, or of a node (undefined for an implicit directory). */
  claimOf(parent: TreeNode, name: string, child: Child): Claim | undefined {
    if (typeof child !== "number") return child.claim;
    return this.files.claim(child, targetOf(parent, name));
  }

  /** Put a child taken from another directory under `parent` (see `place`). */
  move(parent: TreeNode, name: string, child: Child, laterWins: boolean): void {
    if (typeof child === "number") {
      if (parent.children?.has(name) !== true) {
        (parent.children ??= new Map()).set(name, child);
        return;
      }
      // A clash: settled between nodes, as any other.
      child = newNode(name, undefined, "regular", this.files.claim(child, targetOf(parent, name)));
    }
    this.place(parent, child, laterWins);
  }

  // Nodes keep their identity while rows go in (clashes merge into the node already there), so
  // a parent found once stays right for every later row with the same parent text.
  private lastParentText = "";
  private lastParent: TreeNode = this.usr;
  private readonly parents = new Map<string, TreeNode>();

  /** The directory node for `target.slice(0, end)`, or why one of its components is refused. */
  private walk(target: string, end: number): TreeNode | string {
    let directory = this.usr;
    for (let start = 0; start <= end; ) {
      let stop = target.indexOf("/", start);
      if (stop < 0 || stop > end) stop = end;
      const name = target.substring(start, stop);
      const problem = componentProblem(name);
      if (problem !== undefined) return problem;
      let child = this.node(directory, name);
      if (child === undefined) {
        child = newNode(name, directory, "directory", undefined);
        (directory.children ??= new Map()).set(name, child);
      } else if (child.kind === "symlink") {
        this.pending.add(child);
      }
      directory = child;
      start = stop + 1;
    }
    return directory;
  }

  /**
   * Put `incoming` under `parent`, settling a name clash. Two directories merge (`laterWins`: the
   * incoming metadata replaces explicit metadata, as Rust lets the later row win); a symlink and
   * a directory become the symlink with the directory shadowed (the symlinked-directory case);
   * identical non-directories are one entry; anything else is a conflict and the first stays.
   * The children of a dropped node always move to the survivor, so nothing is lost unreported.
   */
  place(parent: TreeNode, incoming: TreeNode, laterWins: boolean): void {
    const existing = this.node(parent, incoming.name);
    if (existing === undefined) {
      incoming.parent = parent;
      (parent.children ??= new Map()).set(incoming.name, incoming);
      this.watch(incoming);
      return;
    }
    if (existing.kind === "directory" && incoming.kind === "directory") {
      if (incoming.claim && (!existing.claim || laterWins)) existing.claim = incoming.claim;
    } else if (existing.kind === "directory" && incoming.kind === "symlink") {
      if (existing.claim) shadow(existing, existing.claim);
      existing.kind = "symlink";
      existing.claim = incoming.claim;
    } else if (existing.kind === "symlink" && incoming.kind === "directory") {
      if (incoming.claim) shadow(existing, incoming.claim);
    } else if (existing.kind === "directory" && !existing.claim) {
      // An implicit directory meets a file: the file stays, what was below it is reported later.
      existing.kind = incoming.kind;
      existing.claim = incoming.claim;
    } else if (incoming.kind === "directory" && !incoming.claim) {
      // Its children land below the existing file and are reported there.
    } else if (!sameEntry(existing.claim!.record, incoming.claim!.record)) {
      this.conflict(existing, existing.claim!, incoming.claim!);
    }
    for (const dir of incoming.shadowed ?? []) {
      if (existing.kind === "symlink") shadow(existing, dir);
      else this.conflict(existing, existing.claim!, dir);
    }
    if (incoming.children) {
      const moving = [...incoming.children];
      incoming.children = undefined;
      for (const [name, child] of moving) this.move(existing, name, child, laterWins);
    }
    this.watch(existing);
  }

  conflict(at: TreeNode, first: Claim, second: Claim, detail?: string, path = pathOf(at)): void {
    this.conflicts.push({
      path, first: first.packageId, second: second.packageId,
      firstKind: kindOf(first.record.entryType), secondKind: kindOf(second.record.entryType),
      ...(detail === undefined ? {} : { detail }),
    });
  }

  private watch(node: TreeNode): void {
    if (node.kind === "symlink" && ((node.children?.size ?? 0) > 0 || node.shadowed !== undefined)) this.pending.add(node);
  }
}

export function newNode(name: string, parent: TreeNode | undefined, kind: VfsKind, claim: Claim | undefined): TreeNode {
  return { name, parent, children: undefined, kind, claim, shadowed: undefined, failure: undefined, sorted: undefined };
}

/** Components from "/" (exclusive) to `node`: ["usr", "lib"]. */
export function componentsOf(node: TreeNode): string[] {
  const components: string[] = [];
  for (let at: TreeNode | undefined = node; at?.parent !== undefined; at = at.parent) components.push(at.name);
  return components.reverse();
}

/** The layout target (relative to /usr) of the entry `name` in `parent`. */
function targetOf(parent: TreeNode, name: string): string {
  return [...componentsOf(parent).slice(1), name].join("/");
}

export function pathOf(node: TreeNode): string {
  return `/${componentsOf(node).join("/")}`;
}

function shadow(symlink: TreeNode, directory: Claim): void {
  (symlink.shadowed ??= []).push(directory);
}

/** §3.10: the same kind, contents, mode and owner is one entry shipped twice, not a conflict. */
function sameEntry(a: LayoutRecord, b: LayoutRecord): boolean {
  return a.entryType === b.entryType && a.mode === b.mode && a.uid === b.uid && a.gid === b.gid &&
    a.digest === b.digest && a.source === b.source;
}
