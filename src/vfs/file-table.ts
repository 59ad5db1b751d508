/**
 * The regular files of a tree, in columns. Nearly every entry of a state is a plain file, and as
 * objects (a node, its claim, its layout record and the record's path text) each cost ~440 bytes
 * of heap: 30 MiB for a 65,000-entry state, the largest thing an install holds. Here a file is a
 * number in its directory's map, five u32s and its digest. Only a file that something else
 * meets (a second entry at its path, an entry below it, a symlink that points at it) becomes a
 * full node (`LayoutTree.node`), which is rare.
 */
import { LayoutEntryType } from "../stone/types.ts";
import type { Claim } from "./tree.ts";

/** mode, uid, gid, tag, package index. */
const INTS = 5;
const INITIAL_FILES = 4096;

export class FileTable {
  private ints = new Uint32Array(INITIAL_FILES * INTS);
  private readonly digests: (string | undefined)[] = [];
  private readonly packageIds: string[] = [];
  private readonly packageIndexes = new Map<string, number>();
  // Rows come a package at a time: most lookups are the package of the row before.
  private lastPackageId: string | undefined;
  private lastPackage = -1;

  /** Store a regular file's claim; returns its number. */
  add(claim: Claim): number {
    const index = this.digests.length;
    let at = index * INTS;
    if (at + INTS > this.ints.length) {
      const grown = new Uint32Array(this.ints.length * 2);
      grown.set(this.ints);
      this.ints = grown;
    }
    const { record } = claim;
    const ints = this.ints;
    ints[at++] = record.mode;
    ints[at++] = record.uid;
    ints[at++] = record.gid;
    ints[at++] = record.tag;
    ints[at] = this.packageIndex(claim.packageId);
    this.digests.push(record.digest);
    return index;
  }

  mode(file: number): number {
    return this.ints[file * INTS]!;
  }

  uid(file: number): number {
    return this.ints[file * INTS + 1]!;
  }

  gid(file: number): number {
    return this.ints[file * INTS + 2]!;
  }

  digest(file: number): string | undefined {
    return this.digests[file];
  }

  packageId(file: number): string {
    return this.packageIds[this.ints[file * INTS + 4]!]!;
  }

  /** The claim the file was added with, rebuilt (`target`: its path relative to /usr). */
  claim(file: number, target: string): Claim {
    const at = file * INTS;
    const ints = this.ints;
    return {
      packageId: this.packageId(file),
      record: {
        uid: ints[at + 1]!, gid: ints[at + 2]!, mode: ints[at]!, tag: ints[at + 3]!,
        entryType: LayoutEntryType.Regular, target, digest: this.digests[file],
      },
    };
  }

  private packageIndex(packageId: string): number {
    if (packageId === this.lastPackageId) return this.lastPackage;
    let index = this.packageIndexes.get(packageId);
    if (index === undefined) {
      index = this.packageIds.push(packageId) - 1;
      this.packageIndexes.set(packageId, index);
    }
    this.lastPackageId = packageId;
    this.lastPackage = index;
    return index;
  }
}
