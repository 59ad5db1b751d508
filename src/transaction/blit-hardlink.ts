/**
 * The hardlink blit through directory fds: one `mkdirat`, `linkat` or `symlinkat` per entry, each
 * resolving a single name inside its parent's fd, as linkfarm.c (the measured floor) does.
 *
 * The main thread walks the VFS (depth-first, every parent before its children) and makes each
 * directory through a stack of the open directories' fds: nothing is ever created through a
 * symlink, because every fd on the stack is a directory this blit made itself (O_NOFOLLOW).
 * Files and symlinks go into a shared job instead (blit-job.ts), which `threads - 1` workers
 * start on while the walk goes on, and the main thread joins once it is over (blit-runner.ts).
 */
import fs from "node:fs";
import { BLIT_WORKER_MIN_ITEMS, EMPTY_FILE_DIGEST } from "../constants.ts";
import { errnoName } from "../linux/index.ts";
import { assetName, assetPath, assetsV2Dir, relativeAssetPath } from "../store/paths.ts";
import type { Vfs, VfsEntry } from "../vfs/index.ts";
import { BlitJobBuilder, CHUNK_ITEMS, CONTROL, FAILED_CALLS, isItem, itemEntries, type BlitJobBuffers } from "./blit-job.ts";
import { runBlitChunks, type BlitFds } from "./blit-runner.ts";
import { AT_FDCWD, atSyscalls, O_CLOEXEC, O_DIRECTORY, O_NOFOLLOW, O_PATH } from "../linux/at-syscalls.ts";
import type { BlitWorkerMessage } from "./blit-worker.ts";
import { faultPoint } from "./faults.ts";
import { profileMark, profileNote } from "./profile.ts";
import { startWorker } from "../worker-threads.ts";

const PERMISSION_BITS = 0o7777;
const DIRECTORY_FLAGS = O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

export interface HardlinkBlitOptions {
  onProgress?: (done: number, total: number) => void;
  /** Threads making files and symlinks, the main one included (1 = no worker). */
  threads: number;
  /** Regular files to make only at `finish` (startHardlinkBlit): their assets are still being written. */
  defer?: (entry: VfsEntry) => boolean;
  /** Called for a path whose asset has reached the link limit: it gets a copy instead. */
  copyInstead(entry: VfsEntry, asset: string, dest: string, blitMode: number): void;
}

/** A failed call: which entry, which syscall, which errno. The caller words the error. */
export class BlitSyscallError extends Error {
  constructor(readonly entry: VfsEntry, readonly syscall: string, readonly errno: number, readonly asset?: string) {
    super(`${syscall}: ${errnoName(errno)}`);
  }
}

/** Blit `vfs` into the existing empty directory `target`; returns the entries made. */
export function blitHardlinks(vfs: Vfs, target: string, assetsDir: string, opts: HardlinkBlitOptions): number {
  return startHardlinkBlit(vfs, target, assetsDir, opts).finish();
}

/** A blit whose deferred files are not made yet: `finish` makes them, `abandon` gives up. */
export interface StagedHardlinkBlit {
  /** Make the deferred files, wait for every thread; returns the entries made. */
  finish(): number;
  /** Stop every thread and release the fds; the target keeps what was made. */
  abandon(): void;
}

/**
 * Make every directory now and hand the other entries to the worker threads, which make them
 * while this thread returns to its event loop (an update unpacks its new packages meanwhile),
 * except the regular files `opts.defer` picks, whose assets are not in the store yet: they are
 * numbered after every other item and published only by `finish`.
 */
export function startHardlinkBlit(vfs: Vfs, target: string, assetsDir: string, opts: HardlinkBlitOptions): StagedHardlinkBlit {
  const total = vfs.size;
  const builder = new BlitJobBuilder(vfs.counts);
  const job = builder.buffers;
  const targetFd = fs.openSync(target, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  const workers = opts.threads > 1 && job.itemCount >= BLIT_WORKER_MIN_ITEMS ? startWorkers(opts.threads - 1) : [];
  profileNote(`blit: ${total} entries, ${workers.length} worker threads beside this one`);
  // Deferred files' assets are being written meanwhile, into an assets/v2 that may not exist yet:
  // the threads' fd must be its directory all along.
  if (opts.defer && vfs.counts.regular > 0) fs.mkdirSync(assetsV2Dir(assetsDir), { recursive: true, mode: 0o755 });
  const assets = openAssets(assetsV2Dir(assetsDir), vfs.counts.regular > 0);
  const fds: BlitFds = { target: targetFd, assetsV2: assets.fd };
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    for (const worker of workers) worker.terminate();
    if (assets.fd >= 0) atSyscalls().close(assets.fd);
    fs.closeSync(targetFd);
  };
  const drain = () => {
    builder.abandon();
    runBlitChunks(job, fds);
    waitForChunks(job);
  };
  const deferred: DeferredItem[] = [];
  let directories: number;
  try {
    // Workers take chunks as soon as the walk has made their directories.
    for (const worker of workers) worker.postMessage({ job, fds } satisfies BlitWorkerMessage);
    try {
      directories = makeDirectories(vfs, targetFd, builder, assets.errno, opts.defer ? { defer: opts.defer, items: deferred } : undefined);
    } catch (error) {
      drain();
      throw error;
    }
    // Every complete chunk of the walk's items can go now; the rest waits for `finish`.
    builder.publish(false);
    profileMark("blit: directories made");
  } catch (error) {
    release();
    throw error;
  }
  const numbering = opts.defer ? { defer: opts.defer, first: builder.added } : undefined;

  return {
    finish(): number {
      try {
        for (const { entry, directory, name } of deferred) builder.item(entry, directory, name);
        deferred.length = 0;
        builder.publish(true);
        profileMark("blit: deferred published");
        opts.onProgress?.(directories, total);
        let halfReached = false;
        runBlitChunks(job, fds, (chunksDone) => {
          const done = directories + Math.min(job.itemCount, chunksDone * CHUNK_ITEMS);
          if (!halfReached && done >= total >> 1) {
            halfReached = true;
            faultPoint("blit-half");
          }
          opts.onProgress?.(done, total);
        });
        waitForChunks(job);
        profileMark("blit: every item made");
        raiseFailure(job, vfs, numbering);
        copyFallbacks(job, vfs, target, assetsDir, opts, numbering);
        widenAfter(builder.wider, assets.fd, vfs);
        return directories + job.itemCount;
      } finally {
        release();
        profileMark("blit: threads released");
      }
    },
    abandon(): void {
      if (released) return;
      try {
        drain();
      } finally {
        release();
      }
    },
  };
}

interface DeferredItem {
  entry: VfsEntry;
  directory: number;
  name: string;
}

type ItemNumbering = Parameters<typeof itemEntries>[2];

/** Make every directory, in order, and put every other entry into the job; returns the directories made. */
function makeDirectories(
  vfs: Vfs,
  targetFd: number,
  builder: BlitJobBuilder,
  assetsErrno: number,
  later?: { defer: (entry: VfsEntry) => boolean; items: DeferredItem[] },
): number {
  const sys = atSyscalls();
  // The open directories of the current branch: VFS path, fd (-1 until first needed), job index.
  const stackPaths: string[] = [""];
  const stackFds: number[] = [targetFd];
  const stackIndexes: number[] = [0];
  let directories = 0;
  try {
    vfs.forEach((entry) => {
      const path = entry.path;
      const cut = path.lastIndexOf("/");
      let top = stackPaths.length - 1;
      while (top > 0 && (stackPaths[top]!.length !== cut || !path.startsWith(stackPaths[top]!))) {
        const fd = stackFds.pop()!;
        if (fd >= 0) sys.close(fd);
        stackPaths.pop();
        stackIndexes.pop();
        top--;
      }
      if (stackPaths[top]!.length !== cut) throw new Error(`VFS invariant broken: ${path} does not follow its parent directory`);
      const name = path.slice(cut + 1);
      if (entry.kind === "directory") {
        let parentFd = stackFds[top]!;
        if (parentFd < 0) {
          const parentPath = stackPaths[top]!;
          parentFd = sys.openat(stackFds[top - 1]!, sys.cString(parentPath.slice(parentPath.lastIndexOf("/") + 1), 0), DIRECTORY_FLAGS, 0);
          if (parentFd < 0) throw new BlitSyscallError(entry, "openat", sys.errno());
          stackFds[top] = parentFd;
        }
        if (sys.mkdirat(parentFd, sys.cString(name, 0), entry.mode & PERMISSION_BITS) !== 0) {
          throw new BlitSyscallError(entry, "mkdirat", sys.errno());
        }
        stackPaths.push(path);
        stackFds.push(-1);
        stackIndexes.push(builder.directory(path.slice(1)));
        directories++;
      } else if (isItem(entry)) {
        if (later?.defer(entry)) {
          later.items.push({ entry, directory: stackIndexes[top]!, name });
          return;
        }
        // Without assets/v2, the first file that needs an asset names what is missing.
        if (assetsErrno !== 0 && entry.kind === "regular" && entry.digest !== EMPTY_FILE_DIGEST) {
          throw new BlitSyscallError(entry, "statx", assetsErrno, relativeAssetPath(assetName(entry.digest!)));
        }
        builder.item(entry, stackIndexes[top]!, name);
      }
    });
  } finally {
    for (let at = stackFds.length - 1; at > 0; at--) if (stackFds[at]! >= 0) sys.close(stackFds[at]!);
  }
  return directories;
}

function startWorkers(count: number): Worker[] {
  const workers: Worker[] = [];
  for (let i = 0; i < count; i++) {
    // A worker that cannot start takes no chunk: the main thread makes them all.
    const worker = startWorker("transaction/blit-worker.ts", () => {});
    if (!worker) break;
    workers.push(worker);
  }
  return workers;
}

/** Block until every chunk is done (the workers never wait for the main thread's event loop). */
function waitForChunks(job: BlitJobBuffers): void {
  const control = new Int32Array(job.control);
  const chunkCount = control[CONTROL.chunkCount]!;
  for (;;) {
    const done = Atomics.load(control, CONTROL.chunksDone);
    if (done >= chunkCount) return;
    Atomics.wait(control, CONTROL.chunksDone, done, 1000);
  }
}

function raiseFailure(job: BlitJobBuffers, vfs: Vfs, numbering: ItemNumbering): void {
  const control = new Int32Array(job.control);
  if (control[CONTROL.failed] === 0) return;
  const item = control[CONTROL.failedItem]!;
  const entry = itemEntries(vfs, [item], numbering).get(item)!;
  const call = FAILED_CALLS[control[CONTROL.failedCall]!] ?? "?";
  const asset = entry.kind === "regular" && entry.digest !== EMPTY_FILE_DIGEST && (call === "statx" || call === "fchmodat" || call === "linkat") ? relativeAssetPath(assetName(entry.digest!)) : undefined;
  if (call === "exception") throw new Error(`a blit thread failed on ${entry.path}`);
  throw new BlitSyscallError(entry, call, control[CONTROL.failedErrno]!, asset);
}

function copyFallbacks(job: BlitJobBuffers, vfs: Vfs, target: string, assetsDir: string, opts: HardlinkBlitOptions, numbering: ItemNumbering): void {
  const count = new Int32Array(job.control)[CONTROL.fallbackCount]!;
  if (count === 0) return;
  const fallbacks = new Int32Array(job.fallbacks).subarray(0, count);
  const entries = itemEntries(vfs, fallbacks, numbering);
  for (const item of fallbacks) {
    const entry = entries.get(item)!;
    opts.copyInstead(entry, assetPath(assetsDir, entry.digest!), target + entry.path, entry.mode & PERMISSION_BITS & ~0o222);
  }
}

/** `assets/v2` as a directory fd, when the tree has files; else why it cannot be opened. */
function openAssets(v2Dir: string, needed: boolean): { fd: number; errno: number } {
  if (!needed) return { fd: -1, errno: 0 };
  const sys = atSyscalls();
  const fd = sys.openat(AT_FDCWD, sys.cString(v2Dir, 2), DIRECTORY_FLAGS, 0);
  return fd >= 0 ? { fd, errno: 0 } : { fd: -1, errno: sys.errno() };
}

/**
 * Assets some of whose uses want permissions their first use did not give: widened to the union
 * of every use now that no thread links any more (the first use widened it to its own mode).
 */
function widenAfter(wider: ReadonlyMap<string, number>, assetsFd: number, vfs: Vfs): void {
  if (wider.size === 0) return;
  const sys = atSyscalls();
  for (const [digest, union] of wider) {
    const path = sys.cString(relativeAssetPath(assetName(digest)), 0);
    const current = sys.modeAt(assetsFd, path);
    const failed = (call: string) => {
      const errno = sys.errno();
      let use: VfsEntry | undefined;
      vfs.forEach((entry) => (use ??= entry.digest === digest ? entry : undefined));
      return new BlitSyscallError(use!, call, errno, relativeAssetPath(assetName(digest)));
    };
    if (current < 0) throw failed("statx");
    const mode = current & PERMISSION_BITS;
    const wanted = (mode | union) & ~0o222;
    if (wanted !== mode && sys.fchmodat(assetsFd, path, wanted, 0) !== 0) throw failed("fchmodat");
  }
}
