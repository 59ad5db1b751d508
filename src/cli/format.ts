/** Small text forms shared by renderers, matching what Rust moss prints. */

interface PackageLike {
  id: string;
  meta: { name: string; version: string; release: number };
}

/** A package as the plan columns show it. */
export const columnItem = (c: Pick<PackageLike, "meta">) => ({ name: c.meta.name, version: c.meta.version, release: c.meta.release });

/** A package in the `--json` of install, remove and sync. */
export const packageRow = (c: PackageLike) => ({ id: c.id, ...columnItem(c) });

/** Rust's `{:?}` of a path: double-quoted, with quotes, backslashes and control characters escaped. */
export function rustDebugPath(path: string): string {
  return JSON.stringify(path);
}

/** `N entries blitted in X.XXs (Y.Yk / s)` (spec §3.11). */
export function blitSummary(entries: number, seconds: number): string {
  const rate = seconds > 0 ? entries / seconds / 1000 : entries / 1000;
  return `${entries} entries blitted in ${seconds.toFixed(2)}s (${rate.toFixed(1)}k / s)`;
}
