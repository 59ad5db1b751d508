/**
 * The blit (spec §3.11): materialise a VFS under a fresh directory, as a hardlink farm of the
 * content store (blit-hardlink.ts: directory fds, worker threads) or, where hard links cannot be
 * made, as reflinks or copies. Every path comes from the VFS, which has already refused anything
 * that could leave the tree, and the target directory is new, so no component of a path we
 * create can be a symlink someone else planted: the reflink and copy paths use plain path-based
 * calls safely.
 */
import fs from "node:fs";
import { BLIT_MAX_THREADS, BLIT_THREADS_ENV, EMPTY_FILE_DIGEST } from "../constants.ts";
import { returnChunkBuffer, takeChunkBuffer } from "../chunk-buffers.ts";
import { MossError } from "../errors.ts";
import { errnoName, ficlone } from "../linux/index.ts";
import { strerror } from "../linux/libc.ts";
import { assetPath, assetsV2Dir } from "../store/index.ts";
import type { Vfs, VfsEntry } from "../vfs/index.ts";
import { BlitSyscallError, startHardlinkBlit } from "./blit-hardlink.ts";
import { ENOENT } from "../linux/at-syscalls.ts";
import { faultPoint } from "./faults.ts";
import { threadCount } from "../worker-threads.ts";

export type BlitStrategy = "hardlink" | "reflink" | "copy";

export interface BlitOptions {
  strategy: BlitStrategy;
  onProgress?: (done: number, total: number) => void;
  /** Threads making the files of a hardlink blit, this one included; default `blitThreads()`. */
  threads?: number;
}

export interface BlitSummary {
  /** Directories, regular files and symlinks made (the tree root excluded), as Rust counts them. */
  entries: number;
  seconds: number;
  strategy: BlitStrategy;
}

export class BlitError extends MossError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("BLIT", message, options);
    this.name = "BlitError";
  }
}

const WRITE_BITS = 0o222;
const PERMISSION_BITS = 0o7777;
const PROGRESS_EVERY = 4096;

/**
 * Blit `vfs` into `target`, an existing empty directory (staging, or an ephemeral root). A VFS
 * path `/usr/bin/x` lands at `<target>/usr/bin/x`.
 */
export function blitVfs(vfs: Vfs, target: string, assetsDir: string, opts: BlitOptions): BlitSummary {
  return startBlit(vfs, target, assetsDir, opts).finish();
}

export interface StagedBlitOptions extends BlitOptions {
  /** Regular files made only by `finish`: their assets are still being written into the store. */
  defer?: (entry: VfsEntry) => boolean;
}

/** A blit under way: everything but the deferred files is made or being made. */
export interface StagedBlit {
  /** Make the deferred files and wait for the whole tree. */
  finish(): BlitSummary;
  /** Stop (after a failure elsewhere); what was made stays in the target for its owner to discard. */
  abandon(): void;
}

/**
 * Start blitting `vfs` into `target`: directories are made now, and with hard links the other
 * entries by worker threads while the caller goes on (blit-hardlink.ts); the files `defer`
 * picks wait for `finish`. The umask is 0 only inside these calls, never between them.
 */
export function startBlit(vfs: Vfs, target: string, assetsDir: string, opts: StagedBlitOptions): StagedBlit {
  const started = performance.now();
  const asRoot = process.geteuid?.() === 0;
  const fail = (error: unknown): never => {
    if (error instanceof MossError) throw error;
    if (error instanceof BlitSyscallError) throw syscallFailure(error, assetsDir);
    throw new BlitError(`blit: ${target}: ${(error as Error).message}`, { cause: error });
  };
  const withoutUmask = <T>(run: () => T): T => {
    const umask = process.umask(0);
    try {
      return run();
    } catch (error) {
      return fail(error);
    } finally {
      process.umask(umask);
    }
  };
  const summary = (made: number): BlitSummary => {
    opts.onProgress?.(vfs.size, vfs.size);
    return { entries: made, seconds: (performance.now() - started) / 1000, strategy: opts.strategy };
  };
  if (opts.strategy === "hardlink") {
    const staged = withoutUmask(() =>
      startHardlinkBlit(vfs, target, assetsDir, {
        onProgress: opts.onProgress,
        threads: opts.threads ?? blitThreads(),
        defer: opts.defer,
        copyInstead: (entry, asset, dest, blitMode) => copyFile(entry, asset, dest, blitMode, "copy", asRoot),
      }),
    );
    return { finish: () => summary(withoutUmask(() => staged.finish())), abandon: () => staged.abandon() };
  }
  const defer = opts.defer ?? (() => false);
  const early = withoutUmask(() => blitByPath(vfs, target, assetsDir, opts, asRoot, (entry) => !defer(entry)));
  return {
    finish: () => summary(early + (opts.defer ? withoutUmask(() => blitByPath(vfs, target, assetsDir, opts, asRoot, defer, true)) : 0)),
    abandon: () => {},
  };
}

/**
 * Reflink and copy: whole-path calls, one file at a time, for the entries `wanted` picks; the
 * second pass of a staged blit (`filesOnly`) makes only regular files, into the directories the
 * first one made.
 */
function blitByPath(vfs: Vfs, target: string, assetsDir: string, opts: BlitOptions, asRoot: boolean, wanted: (entry: VfsEntry) => boolean, filesOnly = false): number {
  const total = vfs.size;
  const half = total >> 1;
  let made = 0;
  let i = 0;
  let current: VfsEntry | undefined;
  try {
    vfs.forEach((entry) => {
      current = entry;
      const dest = target + entry.path;
      if (entry.kind === "regular" ? wanted(entry) : !filesOnly) {
        switch (entry.kind) {
          case "directory":
            fs.mkdirSync(dest, entry.mode & PERMISSION_BITS);
            made++;
            break;
          case "symlink":
            fs.symlinkSync(entry.source!, dest);
            made++;
            break;
          case "regular":
            blitFile(entry, dest, assetsDir, opts.strategy, asRoot);
            made++;
            break;
          case "special":
            break; // devices, fifos and sockets are never created (spec §3.11)
        }
      }
      if (i === half) faultPoint("blit-half");
      if (opts.onProgress && (i & (PROGRESS_EVERY - 1)) === 0) opts.onProgress(i, total);
      i++;
    });
  } catch (error) {
    if (error instanceof MossError) throw error;
    const what = current ? describeEntry(current) : target;
    throw new BlitError(`blit: ${what}: ${(error as Error).message}`, { cause: error });
  }
  return made;
}

function describeEntry(entry: VfsEntry): string {
  return `${entry.path}${entry.packageId ? ` (package ${entry.packageId})` : ""}`;
}

function syscallFailure(error: BlitSyscallError, assetsDir: string): BlitError {
  const { entry, syscall, errno, asset } = error;
  // The asset is linked first and stat'ed through its new link: a missing asset fails the link.
  if (asset !== undefined && (syscall === "statx" || (syscall === "linkat" && errno === ENOENT))) {
    return assetFailure(entry, errno === ENOENT ? "is missing from the content store" : `cannot be read (${errnoName(errno)})`, error);
  }
  const what = asset === undefined ? describeEntry(entry) : `${describeEntry(entry)} from ${assetsV2Dir(assetsDir)}/${asset}`;
  return new BlitError(`blit: ${what}: ${syscall} failed: ${strerror(errno) ?? errnoName(errno)} (${errnoName(errno)})`, { cause: error });
}

/**
 * How many threads a hardlink blit uses: `MOSS_BLIT_THREADS` if set, else one per CPU up to
 * BLIT_MAX_THREADS. Each `linkat` is a short kernel call, and links in different directories
 * take different locks, so a second core nearly doubles the rate.
 */
export function blitThreads(): number {
  return threadCount(BLIT_THREADS_ENV, BLIT_MAX_THREADS);
}

function blitFile(entry: VfsEntry, dest: string, assetsDir: string, strategy: BlitStrategy, asRoot: boolean) {
  const blitMode = entry.mode & PERMISSION_BITS & ~WRITE_BITS;
  const digest = entry.digest!;
  // One inode for every empty file would exceed the link-count limit: each gets its own.
  if (digest === EMPTY_FILE_DIGEST) {
    fs.closeSync(fs.openSync(dest, "w", blitMode));
    return;
  }
  copyFile(entry, assetPath(assetsDir, digest), dest, blitMode, strategy, asRoot);
}

function copyFile(entry: VfsEntry, asset: string, dest: string, blitMode: number, strategy: BlitStrategy, asRoot: boolean) {
  let source: number;
  try {
    source = fs.openSync(asset, "r");
  } catch (error) {
    throw missingAsset(entry, error);
  }
  try {
    const out = fs.openSync(dest, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY, blitMode);
    try {
      if (strategy === "reflink") ficlone(out, source);
      else copyBytes(source, out);
      // open(2) drops set-id and sticky bits through the umask rules of some filesystems: set them explicitly.
      if (blitMode & 0o7000) fs.fchmodSync(out, blitMode);
      if (asRoot && (entry.uid !== 0 || entry.gid !== 0)) fs.fchownSync(out, entry.uid, entry.gid);
    } finally {
      fs.closeSync(out);
    }
  } finally {
    fs.closeSync(source);
  }
}

function copyBytes(from: number, to: number) {
  const buffer = takeChunkBuffer();
  try {
    for (;;) {
      const count = fs.readSync(from, buffer, 0, buffer.length, null);
      if (count === 0) return;
      let done = 0;
      while (done < count) done += fs.writeSync(to, buffer, done, count - done);
    }
  } finally {
    returnChunkBuffer(buffer);
  }
}

function missingAsset(entry: VfsEntry, error: unknown): BlitError {
  const reason = (error as NodeJS.ErrnoException).code === "ENOENT" ? "is missing from the content store" : `cannot be read (${(error as Error).message})`;
  return assetFailure(entry, reason, error);
}

function assetFailure(entry: VfsEntry, reason: string, cause: unknown): BlitError {
  return new BlitError(`blit: the asset ${entry.digest} of ${describeEntry(entry)} ${reason}; run \`moss state verify\``, { cause });
}

/**
 * The strategy for blitting from `assetsDir` into a tree beside `probeDir` (spec §3.11 step 4,
 * probing the asset directory as Rust should have): reflink if FICLONE works, copy if hard links
 * cross devices, else hardlink. `MOSS_FSTREE_NATIVE_STRATEGY` overrides it.
 */
export function chooseStrategy(assetsDir: string, probeDir: string): BlitStrategy {
  const forced = process.env.MOSS_FSTREE_NATIVE_STRATEGY;
  if (forced === "reflink" || forced === "hardlink" || forced === "copy") return forced;
  const source = `${assetsDir}/.link-test`;
  const dest = `${probeDir}/.link-test`;
  try {
    fs.writeFileSync(source, "");
    fs.rmSync(dest, { force: true });
    const from = fs.openSync(source, "r");
    try {
      const to = fs.openSync(dest, "w");
      try {
        ficlone(to, from);
        return "reflink";
      } catch {
        // no reflinks here: try a hard link below
      } finally {
        fs.closeSync(to);
      }
    } finally {
      fs.closeSync(from);
    }
    fs.rmSync(dest, { force: true });
    try {
      fs.linkSync(source, dest);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EXDEV") return "copy";
    }
    return "hardlink";
  } catch {
    return "hardlink";
  } finally {
    fs.rmSync(source, { force: true });
    fs.rmSync(dest, { force: true });
  }
}
