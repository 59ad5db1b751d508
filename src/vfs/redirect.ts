/**
 * Symlinked directories (§3.9 steps 4 and 6, done right — §9 #1 and #3). A symlink with entries
 * below it, e.g. `/usr/lib64 -> lib` and `/usr/lib64/libfoo.so`, leads to a directory of the tree;
 * those entries move to `<that directory>/<rest>` (where they can conflict), so no entry is ever
 * created through a symlink. The link text is normalised and chains of links inside the tree are
 * followed; a link that leaves `/usr`, loops, or ends at a file or nowhere fails, and what is below
 * it is reported instead of being dropped.
 */
import { componentsOf, pathOf, type LayoutTree, type LinkFailure, type TreeNode } from "./tree.ts";
import { linkTargetComponents } from "./layout-path.ts";

/** Linux's MAXSYMLINKS: the kernel gives ELOOP after this many links in one lookup. */
const MAX_LINK_HOPS = 40;

type Walk = { directory: TreeNode } | { failure: LinkFailure; final: boolean };

/**
 * Redirect every pending symlink. A link whose target appears only once another link's entries
 * have moved (e.g. a target reached through `/usr/lib64`) waits for a later pass; when a pass moves
 * nothing, what is left points at something missing.
 */
export function redirectSymlinks(tree: LayoutTree): void {
  for (let progress = true; progress && tree.pending.size > 0; ) {
    progress = false;
    for (const link of ready(tree)) {
      const place = placement(tree, link);
      if (place === "gone") tree.pending.delete(link); // merged into an identical link, which carries on
      if (place !== "ready") continue;
      const walk = followLink(tree, link);
      if ("directory" in walk) {
        const moving = [...link.children ?? []];
        link.children = undefined;
        link.shadowed = undefined;
        link.failure = undefined;
        tree.pending.delete(link);
        for (const [name, child] of moving) tree.move(walk.directory, name, child, false);
        progress = true;
      } else {
        link.failure = walk.failure;
        if (walk.final) tree.pending.delete(link);
      }
    }
  }
  // Links still waiting, below another failed link, are reported through that one.
  for (const link of tree.pending) link.failure ??= { unsafe: false, detail: `${describeLink(link)} points to a missing directory` };
}

/** Pending links in path order (shallow first), so each pass is deterministic. */
function ready(tree: LayoutTree): TreeNode[] {
  const keyed = [...tree.pending].map((link) => ({ link, path: pathOf(link) }));
  keyed.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return keyed.map(({ link }) => link);
}

/**
 * "ready": in the tree with only directories above it, so its directory is where it will live and
 * its text can be resolved from there; "below-link": it moves when a link above it is redirected;
 * "gone": no longer in the tree.
 */
function placement(tree: LayoutTree, node: TreeNode): "ready" | "below-link" | "gone" {
  let ready = true;
  for (let at = node; at !== tree.root; at = at.parent!) {
    const parent = at.parent;
    if (parent === undefined || parent.children?.get(at.name) !== at) return "gone";
    if (parent.kind !== "directory") ready = false;
  }
  return ready ? "ready" : "below-link";
}

/** Resolve where `link` leads, one component at a time from "/", following links on the way. */
function followLink(tree: LayoutTree, link: TreeNode): Walk {
  let components = linkTargetComponents(link.claim!.record.source!, componentsOf(link.parent!));
  let hops = 0;
  let at = tree.root;
  for (let i = 0; i < components.length; i++) {
    const name = components[i]!;
    if (at === tree.root && name !== "usr") return outside(link);
    const next = tree.node(at, name);
    if (next === undefined) {
      return { failure: { unsafe: false, detail: `${describeLink(link)} points to a missing directory` }, final: false };
    }
    if (next.kind === "directory") {
      at = next;
      continue;
    }
    if (next.kind !== "symlink") {
      return { failure: { unsafe: false, detail: `${describeLink(link)} points to the ${next.kind} file ${pathOf(next)}, not a directory` }, final: true };
    }
    if (++hops > MAX_LINK_HOPS) {
      return { failure: { unsafe: false, detail: `${describeLink(link)} is a symlink loop` }, final: true };
    }
    components = [...linkTargetComponents(next.claim!.record.source!, componentsOf(at)), ...components.slice(i + 1)];
    at = tree.root;
    i = -1;
  }
  return at === tree.root ? outside(link) : { directory: at };
}

function outside(link: TreeNode): Walk {
  return { failure: { unsafe: true, detail: `${describeLink(link)} leads outside /usr` }, final: true };
}

function describeLink(link: TreeNode): string {
  return `the symlink ${pathOf(link)} -> ${link.claim!.record.source}`;
}
