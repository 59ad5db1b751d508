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
import { BLIT_WORKER_MIN_ITEMS } from "../constants.ts";
import { errnoName } from "../linux/index.ts";
import { assetName, assetPath, assetsV2Dir, relativeAssetPath } from "../store/paths.ts";
import type { Vfs, VfsEntry } from "../vfs/index.ts";
import { BlitJobBuilder, CHUNK_ITEMS, CONTROL, FAILED_CALLS, isItem, itemEntries, type BlitJobBuffers } from "./blit-job.ts";
import { runBlitChunks, type BlitFds } from "./blit-runner.ts";
import { AT_FDCWD, atSyscalls, O_CLOEXEC, O_DIRECTORY, O_NOFOLLOW, O_PATH } from "../linux/at-syscalls.ts";
import type { BlitWorkerMessage } from "./blit-worker.ts";
import { faultPoint } from "./faults.ts";
import { profileNote } from "./profile.ts";
import { startWorker } from "../worker-threads.ts";

const PERMISSION_BITS = 0o7777;
const DIRECTORY_FLAGS = O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

export interface HardlinkBlitOptions {
  onProgress?: (done: number, total: number) => void;
  /** Threads making files and symlinks, the main one included (1 = no worker). */
  threads: number;
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
  const total = vfs.size;
  const builder = new BlitJobBuilder(vfs);
  const job = builder.buffers;
  const targetFd = fs.openSync(target, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  const workers = opts.threads > 1 && job.itemCount >= BLIT_WORKER_MIN_ITEMS ? startWorkers(opts.threads - 1) : [];
  profileNote(`blit: ${total} entries, ${workers.length} worker threads beside this one`);
  let assetsV2Fd = -1;
  try {
    if (builder.firstAsset !== undefined) assetsV2Fd = openAssets(assetsV2Dir(assetsDir), builder.firstAsset);
    const fds: BlitFds = { target: targetFd, assetsV2: assetsV2Fd };
    // Workers take chunks as soon as the walk has made their directories.
    for (const worker of workers) worker.postMessage({ job, fds } satisfies BlitWorkerMessage);
    let directories: number;
    try {
      directories = makeDirectories(vfs, targetFd, builder);
    } catch (error) {
      builder.abandon();
      runBlitChunks(job, fds);
      waitForChunks(job);
      throw error;
    }
    builder.publish(true);
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
    raiseFailure(job, vfs);
    copyFallbacks(job, vfs, target, assetsDir, opts);
    return directories + job.itemCount;
  } finally {
    for (const worker of workers) worker.terminate();
    if (assetsV2Fd >= 0) atSyscalls().close(assetsV2Fd);
    fs.closeSync(targetFd);
  }
}

/** Make every directory, in order, and put every other entry into the job; returns the directories made. */
function makeDirectories(vfs: Vfs, targetFd: number, builder: BlitJobBuilder): number {
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

function raiseFailure(job: BlitJobBuffers, vfs: Vfs): void {
  const control = new Int32Array(job.control);
  if (control[CONTROL.failed] === 0) return;
  const item = control[CONTROL.failedItem]!;
  const entry = itemEntries(vfs, [item]).get(item)!;
  const call = FAILED_CALLS[control[CONTROL.failedCall]!] ?? "?";
  const asset = entry.kind === "regular" && (call === "statx" || call === "fchmodat" || call === "linkat") ? relativeAssetPath(assetName(entry.digest!)) : undefined;
  if (call === "exception") throw new Error(`a blit thread failed on ${entry.path}`);
  throw new BlitSyscallError(entry, call, control[CONTROL.failedErrno]!, asset);
}

function copyFallbacks(job: BlitJobBuffers, vfs: Vfs, target: string, assetsDir: string, opts: HardlinkBlitOptions): void {
  const count = new Int32Array(job.control)[CONTROL.fallbackCount]!;
  if (count === 0) return;
  const fallbacks = new Int32Array(job.fallbacks).subarray(0, count);
  const entries = itemEntries(vfs, fallbacks);
  for (const item of fallbacks) {
    const entry = entries.get(item)!;
    opts.copyInstead(entry, assetPath(assetsDir, entry.digest!), target + entry.path, entry.mode & PERMISSION_BITS & ~0o222);
  }
}

/** `assets/v2` as a directory fd; its absence means the first asset the tree needs is missing. */
function openAssets(v2Dir: string, firstAsset: VfsEntry): number {
  const sys = atSyscalls();
  const fd = sys.openat(AT_FDCWD, sys.cString(v2Dir, 2), DIRECTORY_FLAGS, 0);
  if (fd >= 0) return fd;
  throw new BlitSyscallError(firstAsset, "statx", sys.errno(), relativeAssetPath(assetName(firstAsset.digest!)));
}
