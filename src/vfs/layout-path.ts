/**
 * Path text rules. A layout target must be a clean path relative to `/usr` (Rust accepts absolute
 * targets as they are; we refuse them, so nothing lands outside `/usr`): tree.ts checks each
 * component with `componentProblem` as it walks. Symlink text is
 * normalised textually ("." and ".." folded) before it is followed inside the tree.
 */

/** NAME_MAX on Linux: a longer component cannot be created, so it is refused before the blit. */
const NAME_MAX_BYTES = 255;
/** A component of at most this many UTF-16 units is at most 255 UTF-8 bytes (3 bytes per unit). */
const SURELY_SHORT_UNITS = 85;

/** Why one component of a layout target is refused (the slashes are checked by the caller). */
export function componentProblem(name: string): string | undefined {
  if (name.length === 0) return "the path has an empty component";
  if (name === "." || name === "..") return `the path has a "${name}" component`;
  if (name.includes("\0")) return "the path contains a NUL byte";
  if (name.length > SURELY_SHORT_UNITS && Buffer.byteLength(name) > NAME_MAX_BYTES) {
    return `a component is longer than ${NAME_MAX_BYTES} bytes`;
  }
  return undefined;
}

/** Why a symlink's text cannot be created by `symlinkat`, or undefined when it can. */
export function symlinkSourceProblem(source: string | undefined): string | undefined {
  if (source === undefined || source.length === 0) return "the symlink has no target text";
  if (source.includes("\0")) return "the symlink target contains a NUL byte";
  return undefined;
}

/**
 * The absolute components a symlink's text points at, from the components of the directory
 * holding the link. ".." at the root stays at the root, as the kernel does.
 */
export function linkTargetComponents(source: string, linkDirectory: readonly string[]): string[] {
  const resolved = source.charCodeAt(0) === 0x2f ? [] : [...linkDirectory];
  for (const component of source.split("/")) {
    if (component === "" || component === ".") continue;
    if (component === "..") resolved.pop();
    else resolved.push(component);
  }
  return resolved;
}

/**
 * Name order for siblings: UTF-8 byte order, which is code point order. JS compares UTF-16 units,
 * which differs only when a surrogate (code points above U+FFFF) meets a unit of U+E000..U+FFFF.
 */
export function compareNames(a: string, b: string): number {
  const shorter = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < shorter; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return x >= 0xd800 && y >= 0xd800 ? codePointRank(x) - codePointRank(y) : x - y;
  }
  return a.length - b.length;
}

function codePointRank(unit: number): number {
  return unit >= 0xe000 ? unit - 0x800 : unit + 0x2000;
}
