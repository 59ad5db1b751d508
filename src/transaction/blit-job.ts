/**
 * The non-directory entries of a blit, encoded into shared memory so that several threads can
 * make them at once: fixed-size items in an Int32Array, their strings NUL-terminated in a byte
 * pool, and control words every thread updates with Atomics. The main thread encodes items as it
 * walks the tree making directories, and publishes them in chunks of consecutive entries (mostly
 * one directory each, so threads rarely contend for a directory lock) as soon as their
 * directories exist; any thread takes the next chunk from a shared counter, so a thread that
 * starts late, or never, just takes fewer.
 *
 * Modes: every link to an asset shares its inode, whose permissions must be the union of every
 * use (spec §3.11). Only the first item of each digest widens the asset (to its own mode), so no
 * two threads ever chmod one inode; where a later use wants more, the main thread widens the
 * asset to the union once every item is made.
 */
import { EMPTY_FILE_DIGEST } from "../constants.ts";
import { assetName, NESTED_NAME_MIN_LENGTH, relativeAssetPath } from "../store/paths.ts";
import { writeCString } from "../linux/at-syscalls.ts";
import type { Vfs, VfsCounts, VfsEntry } from "../vfs/index.ts";

export const ITEM_LINK = 1;
export const ITEM_SYMLINK = 2;
export const ITEM_EMPTY_FILE = 3;
/** On a link item: widen the asset's mode to the item's union mode. */
export const ITEM_CHECK_MODE = 8;
export const ITEM_KIND_MASK = 7;

/** Int32 fields per item: kind|flags, directory index, name offset, value offset, blit mode | union mode << 16. */
export const ITEM_INTS = 5;
export const CHUNK_ITEMS = 256;

/** Control words (Int32 indexes). */
export const CONTROL = {
  nextChunk: 0,
  chunksDone: 1,
  /** 0, or 1 once something failed: no thread starts another chunk. */
  failed: 2,
  failedItem: 3,
  failedErrno: 4,
  /** Index into FAILED_CALLS. */
  failedCall: 5,
  /** Items whose asset hit the link limit, listed in `fallbacks` for a copy. */
  fallbackCount: 6,
  chunkCount: 7,
  /** Chunks whose directories all exist: threads may take them. */
  published: 8,
  words: 9,
} as const;

export const FAILED_CALLS = ["", "openat (directory)", "statx", "fchmodat", "linkat", "symlinkat", "openat", "exception", "walk"] as const;

/** Everything a thread needs, all in shared memory. */
export interface BlitJobBuffers {
  control: SharedArrayBuffer;
  items: SharedArrayBuffer;
  /** Int32 offset in the pool of each directory's path relative to the target ("usr/lib"); -1 = the target. */
  directories: SharedArrayBuffer;
  pool: SharedArrayBuffer;
  fallbacks: SharedArrayBuffer;
  itemCount: number;
}

const WRITE_BITS = 0o222;
const PERMISSION_BITS = 0o7777;
/** "ab/cd/ef/" + 32 digits + NUL. */
const ASSET_PATH_MAX = 9 + 32 + 1;
const SLASH = 0x2f;
const ZERO = 0x30;

/**
 * Builds a job as the blit walks the tree: `directory` for each directory made, `item` for each
 * other entry, `publish` whenever the walk has made every directory the items so far need.
 * The buffers are sized from the tree's counts, so the tree is walked once, by the blit itself.
 */
export class BlitJobBuilder {
  readonly buffers: BlitJobBuffers;
  /** Items encoded so far (an item's entry is found again by its number: `itemEntries`). */
  private itemsAdded = 0;
  private readonly control: Int32Array;
  private readonly items: Int32Array;
  private readonly directoryOffsets: Int32Array;
  private readonly pool: Uint8Array;
  private poolLength = 0;
  private directoryCount = 1;
  /** Per digest: its first item, which links the asset and widens its mode to that item's. */
  private readonly firstItems = new Map<string, number>();
  /**
   * Digests whose later uses want permissions the first item's did not give, with the union of
   * every use: `widenAfter` applies them once every thread is done (rare: one content shipped
   * with two modes).
   */
  readonly wider = new Map<string, number>();

  constructor(counts: VfsCounts) {
    const items = counts.regular + counts.symlinks;
    const directories = counts.directories + 1;
    // Every string is at most 3 bytes a UTF-16 unit, plus its NUL; each distinct asset path is
    // written once, and directories are written relative to the target (shorter than their paths).
    const poolBound = counts.textUnits * 3 + directories + items * 2 + counts.regular * ASSET_PATH_MAX;
    this.buffers = {
      control: new SharedArrayBuffer(CONTROL.words * 4),
      items: new SharedArrayBuffer(Math.max(1, items * ITEM_INTS) * 4),
      directories: new SharedArrayBuffer(directories * 4),
      pool: new SharedArrayBuffer(Math.max(1, poolBound)),
      fallbacks: new SharedArrayBuffer(Math.max(1, items) * 4),
      itemCount: items,
    };
    this.control = new Int32Array(this.buffers.control);
    this.control[CONTROL.chunkCount] = Math.ceil(items / CHUNK_ITEMS);
    this.items = new Int32Array(this.buffers.items);
    this.directoryOffsets = new Int32Array(this.buffers.directories);
    this.directoryOffsets[0] = -1;
    this.pool = new Uint8Array(this.buffers.pool);
  }

  /** Items encoded so far: the number the next item gets. */
  get added(): number {
    return this.itemsAdded;
  }

  /** Index of a directory just made, by its path relative to the target ("usr/lib"). */
  directory(relativePath: string): number {
    this.directoryOffsets[this.directoryCount] = this.string(relativePath);
    return this.directoryCount++;
  }

  /** A regular file or symlink named `name` in directory `directoryIndex` (0 = the target). */
  item(entry: VfsEntry, directoryIndex: number, name: string): void {
    const index = this.itemsAdded++;
    const at = index * ITEM_INTS;
    const items = this.items;
    const blitMode = entry.mode & PERMISSION_BITS & ~WRITE_BITS;
    let kind: number;
    let value = -1;
    let union = blitMode;
    if (entry.kind === "symlink") {
      kind = ITEM_SYMLINK;
      value = this.string(entry.source!);
    } else if (entry.digest === EMPTY_FILE_DIGEST) {
      // One inode for every empty file would exceed the link-count limit: each gets its own.
      kind = ITEM_EMPTY_FILE;
    } else {
      kind = ITEM_LINK;
      const digest = entry.digest!;
      const first = this.firstItems.get(digest);
      if (first === undefined) {
        kind |= ITEM_CHECK_MODE;
        value = this.assetPath(digest);
        this.firstItems.set(digest, index);
      } else {
        const firstAt = first * ITEM_INTS;
        value = items[firstAt + 3]!; // the same asset: its path is in the pool already
        const given = items[firstAt + 4]! >>> 16;
        const wanted = (this.wider.get(digest) ?? given) | blitMode;
        if (wanted !== given) this.wider.set(digest, wanted);
      }
    }
    items[at] = kind;
    items[at + 1] = directoryIndex;
    items[at + 2] = this.string(name);
    items[at + 3] = value;
    items[at + 4] = blitMode | (union << 16);
    // Every directory an item so far needs exists already: a full chunk can go.
    if ((index + 1) % CHUNK_ITEMS === 0) this.publish(false);
  }

  /** Let threads take every complete chunk so far, or (`final`, once the walk is over) every chunk. */
  publish(final: boolean): void {
    const complete = final ? this.control[CONTROL.chunkCount]! : Math.floor(this.itemsAdded / CHUNK_ITEMS);
    if (complete > this.control[CONTROL.published]!) {
      Atomics.store(this.control, CONTROL.published, complete);
      Atomics.notify(this.control, CONTROL.published);
    }
  }

  /** After a failure of the walk: nothing more will be published, and no thread may start a chunk. */
  abandon(): void {
    Atomics.store(this.control, CONTROL.failed, 1);
    this.control[CONTROL.failedCall] = FAILED_CALLS.indexOf("walk");
    this.publish(true);
  }

  /** Append `text` NUL-terminated to the pool; returns its offset. */
  private string(text: string): number {
    const offset = this.poolLength;
    // The pool was sized for every string at 3 bytes a code unit, so this cannot fail.
    const end = writeCString(text, this.pool, offset);
    if (end < 0) throw new Error(`blit job: no room left for ${JSON.stringify(text)}`);
    this.poolLength = end;
    return offset;
  }

  /** `ab/cd/ef/<name>` (store/paths.ts `assetPathIn`, relative) written straight into the pool. */
  private assetPath(digest: string): number {
    const offset = this.poolLength;
    let first = 0;
    while (first < 30 && digest.charCodeAt(first) === ZERO) first++;
    const length = digest.length - first;
    // Anything unusual (uppercase, a short or odd digest) takes the checked path.
    if (digest.length !== 32 || length < NESTED_NAME_MIN_LENGTH || !isLowerHex(digest)) {
      return this.string(relativeAssetPath(assetName(digest)));
    }
    const pool = this.pool;
    let at = offset;
    for (let i = 0; i < 6; i++) {
      pool[at++] = digest.charCodeAt(first + i);
      if (i & 1) pool[at++] = SLASH;
    }
    for (let i = first; i < 32; i++) pool[at++] = digest.charCodeAt(i);
    pool[at++] = 0;
    this.poolLength = at;
    return offset;
  }
}

/** Whether the blit makes `entry` as an item of its job (files and symlinks: not directories, not specials). */
export function isItem(entry: VfsEntry): boolean {
  return entry.kind === "regular" || entry.kind === "symlink";
}

/**
 * The entries of the items numbered `wanted`, found again by walking the tree in the same order
 * the job was built in: only needed after a failure or for the rare copy fallback, so the job
 * keeps no list of 65,000 entries for them. In a staged blit the deferred entries were numbered
 * after every other item, from `deferred.first` on, in walk order.
 */
export function itemEntries(vfs: Vfs, wanted: Iterable<number>, deferred?: { defer: (entry: VfsEntry) => boolean; first: number }): Map<number, VfsEntry> {
  const want = new Set(wanted);
  const found = new Map<number, VfsEntry>();
  let item = 0;
  let late = deferred?.first ?? 0;
  vfs.forEach((entry) => {
    if (!isItem(entry)) return;
    const number = deferred?.defer(entry) ? late++ : item++;
    if (want.has(number)) found.set(number, entry);
  });
  return found;
}

function isLowerHex(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (!((unit >= 0x30 && unit <= 0x39) || (unit >= 0x61 && unit <= 0x66))) return false;
  }
  return true;
}
