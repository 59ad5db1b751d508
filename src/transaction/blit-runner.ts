/**
 * Makes the items of a blit job (blit-job.ts), chunk by chunk, until none is left: the same loop
 * on the main thread and in every blit worker. A chunk is published only once the main thread's
 * walk has made every directory it needs; each thread opens the parent of the items it is making
 * when the directory changes, relative to the target fd.
 */
import { atSyscalls, EMLINK, O_CLOEXEC, O_CREAT, O_DIRECTORY, O_NOFOLLOW, O_PATH, O_TRUNC, O_WRONLY } from "../linux/at-syscalls.ts";
import {
  CHUNK_ITEMS, CONTROL, FAILED_CALLS, ITEM_CHECK_MODE, ITEM_EMPTY_FILE, ITEM_INTS, ITEM_KIND_MASK, ITEM_LINK, ITEM_SYMLINK,
  type BlitJobBuffers,
} from "./blit-job.ts";

const DIRECTORY_FLAGS = O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
const EMPTY_FILE_FLAGS = O_CREAT | O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC;
const WRITE_BITS = 0o222;
const PERMISSION_BITS = 0o7777;

export interface BlitFds {
  /** The directory the tree is blitted into. */
  target: number;
  /** `assets/v2`, or -1 when the tree has no asset to link. */
  assetsV2: number;
}

/**
 * Take chunks until the job is exhausted; `afterChunk` runs on this thread after each one
 * (progress). Failures are recorded in the control words, never thrown: the other threads stop
 * at their next chunk, and the main thread reports it.
 */
export function runBlitChunks(job: BlitJobBuffers, fds: BlitFds, afterChunk?: (chunksDone: number) => void): void {
  const sys = atSyscalls();
  const control = new Int32Array(job.control);
  const items = new Int32Array(job.items);
  const directories = new Int32Array(job.directories);
  const fallbacks = new Int32Array(job.fallbacks);
  const poolBase = sys.pointerOf(new Uint8Array(job.pool));
  const chunkCount = control[CONTROL.chunkCount]!;
  let directoryIndex = 0;
  let directoryFd = fds.target;

  const fail = (item: number, call: (typeof FAILED_CALLS)[number], errno: number) => {
    if (Atomics.compareExchange(control, CONTROL.failed, 0, 1) !== 0) return;
    control[CONTROL.failedItem] = item;
    control[CONTROL.failedErrno] = errno;
    control[CONTROL.failedCall] = FAILED_CALLS.indexOf(call);
  };

  /** All links share the asset's inode: its permissions become the union of every use (spec §3.11). */
  const widenMode = (item: number, dirFd: number, path: number, union: number): boolean => {
    const current = sys.modeAt(dirFd, path);
    if (current < 0) return fail(item, "statx", sys.errno()), false;
    const mode = current & PERMISSION_BITS;
    const wanted = (mode | union) & ~WRITE_BITS;
    if (wanted !== mode && sys.fchmodat(dirFd, path, wanted, 0) !== 0) return fail(item, "fchmodat", sys.errno()), false;
    return true;
  };

  /** Make one item; false when it failed (recorded). */
  const make = (item: number): boolean => {
    const at = item * ITEM_INTS;
    const kindAndFlags = items[at]!;
    const wantedDirectory = items[at + 1]!;
    if (wantedDirectory !== directoryIndex) {
      if (directoryFd !== fds.target) sys.close(directoryFd);
      directoryIndex = 0;
      directoryFd = fds.target;
      const offset = directories[wantedDirectory]!;
      if (offset >= 0) {
        const fd = sys.openat(fds.target, poolBase + offset, DIRECTORY_FLAGS, 0);
        if (fd < 0) return fail(item, "openat (directory)", sys.errno()), false;
        directoryFd = fd;
      }
      directoryIndex = wantedDirectory;
    }
    const name = poolBase + items[at + 2]!;
    const value = poolBase + items[at + 3]!;
    const modes = items[at + 4]!;
    switch (kindAndFlags & ITEM_KIND_MASK) {
      case ITEM_LINK: {
        if (sys.linkat(fds.assetsV2, value, directoryFd, name, 0) === 0) {
          // The mode is read through the new link: one name in a directory just used, where
          // the asset's own path costs a walk of four (measured: ~2.5× the time of the stat).
          if (kindAndFlags & ITEM_CHECK_MODE) return widenMode(item, directoryFd, name, modes >>> 16);
          return true;
        }
        const errno = sys.errno();
        // An asset shared by very many paths across states can reach the link limit: the main
        // thread copies that one afterwards.
        if (errno !== EMLINK) return fail(item, "linkat", errno), false;
        fallbacks[Atomics.add(control, CONTROL.fallbackCount, 1)] = item;
        if (kindAndFlags & ITEM_CHECK_MODE) return widenMode(item, fds.assetsV2, value, modes >>> 16);
        return true;
      }
      case ITEM_SYMLINK:
        if (sys.symlinkat(value, directoryFd, name) !== 0) return fail(item, "symlinkat", sys.errno()), false;
        return true;
      case ITEM_EMPTY_FILE: {
        const fd = sys.openat(directoryFd, name, EMPTY_FILE_FLAGS, modes & 0xffff);
        if (fd < 0) return fail(item, "openat", sys.errno()), false;
        sys.close(fd);
        // The mode exactly, whatever the process umask is while a staged blit's workers run
        // (it is 0 only while the main thread blits) and whatever set-id bits open(2) dropped.
        if (sys.fchmodat(directoryFd, name, modes & 0xffff, 0) !== 0) return fail(item, "fchmodat", sys.errno()), false;
        return true;
      }
    }
    return true;
  };

  try {
    for (;;) {
      const chunk = Atomics.add(control, CONTROL.nextChunk, 1);
      if (chunk >= chunkCount) break;
      // Taken before the walk has made its directories: wait until it has.
      for (let published = Atomics.load(control, CONTROL.published); published <= chunk; published = Atomics.load(control, CONTROL.published)) {
        Atomics.wait(control, CONTROL.published, published, 1000);
      }
      try {
        if (Atomics.load(control, CONTROL.failed) === 0) {
          const end = Math.min(job.itemCount, (chunk + 1) * CHUNK_ITEMS);
          for (let item = chunk * CHUNK_ITEMS; item < end; item++) if (!make(item)) break;
        }
      } catch {
        fail(chunk * CHUNK_ITEMS, "exception", 0);
      } finally {
        // Counted even when skipped or failed: the main thread waits for every chunk to be done.
        const done = Atomics.add(control, CONTROL.chunksDone, 1) + 1;
        Atomics.notify(control, CONTROL.chunksDone);
        afterChunk?.(done);
      }
    }
  } finally {
    if (directoryFd !== fds.target) sys.close(directoryFd);
  }
}
