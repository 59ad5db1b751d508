/**
 * Version comparison as the UAPI version format specification defines it, the order systemd-boot
 * sorts its entries in (boot-management §2.3, §4.7): kernels, entries and systemd-boot versions
 * are compared the way the boot loader will compare them.
 */

const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isLetter = (c: number) => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
const TILDE = 0x7e;
const HYPHEN = 0x2d;
const CARET = 0x5e;
const PERIOD = 0x2e;
/** Letters, digits and `~-^.` carry meaning; every other character only separates. */
const isMeaningful = (c: number) => isDigit(c) || isLetter(c) || c === TILDE || c === HYPHEN || c === CARET || c === PERIOD;

const sign = <T extends number | string>(x: T, y: T) => (x < y ? -1 : x > y ? 1 : 0);

/** < 0 when `a` is older than `b`, > 0 when newer, 0 when they are the same version. */
export function compareVersions(a: string, b: string): number {
  let i = 0;
  let j = 0;
  const at = (s: string, k: number) => (k < s.length ? s.charCodeAt(k) : 0);
  for (;;) {
    while (i < a.length && !isMeaningful(at(a, i))) i++;
    while (j < b.length && !isMeaningful(at(b, j))) j++;
    // '~' marks a pre-release: the side that has it is older.
    if (at(a, i) === TILDE || at(b, j) === TILDE) {
      const r = sign(at(a, i) === TILDE ? 0 : 1, at(b, j) === TILDE ? 0 : 1);
      if (r !== 0) return r;
      i++;
      j++;
    }
    // Past '~', more segments is newer.
    if (i >= a.length || j >= b.length) return sign(i >= a.length ? 0 : 1, j >= b.length ? 0 : 1);
    // '-' separates version and release, '^' a patched release, '.' a point release: at each,
    // the side without the separator (a longer segment run) is newer.
    for (const separator of [HYPHEN, CARET, PERIOD]) {
      if (at(a, i) === separator || at(b, j) === separator) {
        const r = sign(at(a, i) === separator ? 0 : 1, at(b, j) === separator ? 0 : 1);
        if (r !== 0) return r;
        i++;
        j++;
      }
    }
    if (isDigit(at(a, i)) || isDigit(at(b, j))) {
      while (at(a, i) === 0x30) i++;
      while (at(b, j) === 0x30) j++;
      let ia = i;
      let jb = j;
      while (isDigit(at(a, ia))) ia++;
      while (isDigit(at(b, jb))) jb++;
      // A number is newer than none (a letter, or only zeros); then the longer number; then digit by digit.
      let r = sign(ia > i ? 1 : 0, jb > j ? 1 : 0);
      if (r !== 0) return r;
      r = sign(ia - i, jb - j);
      if (r !== 0) return r;
      r = sign(a.slice(i, ia), b.slice(j, jb));
      if (r !== 0) return r;
      i = ia;
      j = jb;
    } else {
      let ia = i;
      let jb = j;
      while (isLetter(at(a, ia))) ia++;
      while (isLetter(at(b, jb))) jb++;
      const left = a.slice(i, ia);
      const right = b.slice(j, jb);
      const common = Math.min(left.length, right.length);
      let r = sign(left.slice(0, common), right.slice(0, common));
      if (r !== 0) return r;
      r = sign(left.length, right.length);
      if (r !== 0) return r;
      i = ia;
      j = jb;
    }
  }
}
