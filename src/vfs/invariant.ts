/**
 * The promise the blit relies on, checked on every build: each entry's parent is the nearest
 * directory entry before it on the current branch (depth-first pre-order). So every path the
 * blit creates is reached through directories it made itself — never through a symlink, so never
 * outside the tree. A stack of the open directories makes it one prefix test per entry.
 */
export function assertBlitSafe(entries: readonly { path: string; kind: string }[]): void {
  const open: string[] = [];
  for (const entry of entries) {
    const path = entry.path;
    const cut = path.lastIndexOf("/");
    while (open.length > 0 && open[open.length - 1]!.length > cut) open.pop();
    const parent = open.length > 0 ? open[open.length - 1]! : "";
    if (parent.length !== cut || !path.startsWith(parent) || cut === path.length - 1) {
      throw new Error(`VFS invariant broken: ${path} does not follow its parent directory`);
    }
    if (entry.kind === "directory") open.push(path);
  }
}
