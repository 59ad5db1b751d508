/**
 * The order and safety of a package's tree before anything touches the disk: every target a
 * clean relative path, no duplicates, no entry below a symlink or a file, implicit parent
 * directories added, parents before children. Pure; the blit that follows can then trust it.
 * (The full VFS with symlinked-directory re-parenting across packages comes with the store.)
 */
import { MossError } from "../errors.ts";
import { LayoutEntryType, type LayoutRecord } from "../stone/types.ts";

export interface PlannedEntry {
  /** Relative to the tree root, e.g. `usr/share/foo`. */
  path: string;
  kind: "directory" | "regular" | "symlink";
  /** Present unless the directory is implicit. */
  record?: LayoutRecord;
}

export class TreePlanError extends MossError {
  constructor(message: string) {
    super("TREE_UNSAFE_PATH", message);
    this.name = "TreePlanError";
  }
}

const KIND: Record<number, PlannedEntry["kind"]> = {
  [LayoutEntryType.Regular]: "regular",
  [LayoutEntryType.Symlink]: "symlink",
  [LayoutEntryType.Directory]: "directory",
};

/** Targets live under `/usr`; the result is rooted one level up so it reads `usr/...`. */
export function planTree(layout: LayoutRecord[], origin: string): PlannedEntry[] {
  const entries = new Map<string, PlannedEntry>();
  entries.set("usr", { path: "usr", kind: "directory" });
  for (const record of layout) {
    const kind = KIND[record.entryType];
    if (!kind) continue; // devices, fifos, sockets: never created (spec §3.11)
    const path = `usr/${checkTarget(record.target, origin)}`;
    const existing = entries.get(path);
    if (existing?.record) throw new TreePlanError(`${origin}: /${path} appears twice in the layout`);
    if (existing && kind !== "directory") throw new TreePlanError(`${origin}: /${path} is both a directory and a ${kind}`);
    entries.set(path, { path, kind, record });
  }
  // Implicit parents, and a refusal to place anything below something that is not a directory.
  for (const path of [...entries.keys()]) {
    for (let cut = path.lastIndexOf("/"); cut > 0; cut = path.lastIndexOf("/", cut - 1)) {
      const parent = path.slice(0, cut);
      const found = entries.get(parent);
      if (!found) entries.set(parent, { path: parent, kind: "directory" });
      else if (found.kind !== "directory") {
        throw new TreePlanError(`${origin}: /${path} would be created below the ${found.kind} /${parent}`);
      }
    }
  }
  return [...entries.values()].sort((a, b) => depth(a.path) - depth(b.path) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function depth(path: string): number {
  let count = 0;
  for (const c of path) if (c === "/") count++;
  return count;
}

function checkTarget(target: string, origin: string): string {
  const components = target.split("/");
  const bad = target.startsWith("/") || target.includes("\0") ||
    components.some((c) => c === "" || c === "." || c === "..");
  if (bad) throw new TreePlanError(`${origin}: unsafe layout path "${target}": it must be relative to /usr with no empty, "." or ".." parts`);
  return target;
}
