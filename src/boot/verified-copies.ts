/**
 * Ours (boot-management §5.2): which ESP/XBOOTLDR files were last seen to hold the same bytes as
 * their source in a state's tree, so that the next sync need not read both again (after a reboot
 * the FAT side is cold: two 80 MB kernels and their initrds are read from the disk on every
 * transaction otherwise). A pair is trusted while neither side has changed: the copy's path, size
 * and modification time (FAT has no stable inode numbers), and the source's device, inode, size
 * and modification time (an asset of the content store, written once). Anything else is compared
 * byte for byte, as before. The list is rewritten by every sync with only the pairs it used.
 */
import fs from "node:fs";
import path from "node:path";
import { writeFileAtomic } from "../installation/index.ts";
import { holdsFile } from "./esp-files.ts";
import { readTextIfAny } from "./tolerant-fs.ts";

export const VERIFIED_COPIES_FILE = "boot-verified-copies";

export class VerifiedCopies {
  private readonly known: Set<string>;
  private readonly used = new Set<string>();

  private constructor(private readonly file: string | undefined, lines: string[]) {
    this.known = new Set(lines);
  }

  /** The list kept in `mossDir`; an unreadable one is empty. */
  static load(mossDir: string): VerifiedCopies {
    const file = path.join(mossDir, VERIFIED_COPIES_FILE);
    return new VerifiedCopies(file, (readTextIfAny(file) ?? "").split("\n").filter(Boolean));
  }

  /** A list that remembers nothing (plans made without a root's state, e.g. in tests). */
  static none(): VerifiedCopies {
    return new VerifiedCopies(undefined, []);
  }

  /** Whether `dest` holds the bytes of `source`: from the list when neither changed, else by reading both. */
  holds(dest: string, source: string): boolean {
    const key = pairKey(dest, source);
    if (key !== undefined && this.known.has(key)) {
      this.used.add(key);
      return true;
    }
    if (!holdsFile(dest, source)) return false;
    if (key !== undefined) this.used.add(key);
    return true;
  }

  /** `dest` was just written from `source`. */
  wrote(dest: string, source: string): void {
    const key = pairKey(dest, source);
    if (key !== undefined) this.used.add(key);
  }

  /** Keep the pairs this sync used, and only those; a list that cannot be written only costs the next sync a comparison. */
  save(): void {
    if (this.file === undefined) return;
    if (this.known.size === this.used.size && [...this.used].every((key) => this.known.has(key))) return;
    try {
      writeFileAtomic(this.file, [...this.used].sort().map((key) => `${key}\n`).join(""));
    } catch {
      // best effort, see above
    }
  }
}

/** Both sides' identity as one line; undefined when either is missing or not a regular file. */
function pairKey(dest: string, source: string): string | undefined {
  const d = fs.statSync(dest, { bigint: true, throwIfNoEntry: false });
  const s = fs.statSync(source, { bigint: true, throwIfNoEntry: false });
  if (!d?.isFile() || !s?.isFile()) return undefined;
  if (dest.includes("\n") || dest.includes("\t")) return undefined;
  return `${dest}\t${d.size}\t${d.mtimeNs}\t${s.dev}\t${s.ino}\t${s.size}\t${s.mtimeNs}`;
}
