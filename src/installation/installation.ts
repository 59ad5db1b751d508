import fs from "node:fs";
import path from "node:path";
import { errnoOf } from "../linux/index.ts";
import { ensureCachedirTag } from "./cachedir-tag.ts";
import { InstallationError } from "./errors.ts";
import { Lockfile, type LockMode } from "./lockfile.ts";
import { readActiveStateId } from "./state-id.ts";

export const LOCKFILE_NAME = ".moss-lockfile";
export const ROOT_BLOCKED_MESSAGE = "Blocking another process is using the moss root";
export const CACHE_BLOCKED_MESSAGE = "Blocking another process is using the cache dir";

export interface OpenInstallationOptions {
  /** `--cache DIR`: downloads, content temp files and the link test go here instead of `.moss/cache`. */
  cacheDir?: string;
  /** Treat the root as read-only even when we could write it; nothing is created. */
  readOnly?: boolean;
}

/**
 * Open a root as moss sees it: check it, create the `.moss` skeleton (best effort), decide whether
 * we may write, and find the active state. Takes no lock; a writer calls `lock()` next.
 */
export function openInstallation(root: string, opts: OpenInstallationOptions = {}): Installation {
  const realRoot = existingDirectory(root, "INSTALLATION_ROOT", "Root is invalid");
  const customCache = opts.cacheDir === undefined ? undefined : existingDirectory(opts.cacheDir, "INSTALLATION_CACHE", "Cache dir is invalid");
  const installation = new Installation(realRoot, customCache);
  // Created before the write test, as Rust does: a root that is ours to write gets its skeleton.
  if (!opts.readOnly) createSkeleton(installation);
  installation.mutable = !opts.readOnly && isWritable(realRoot);
  installation.activeStateId = readActiveStateId(realRoot);
  return installation;
}

/** A root's moss paths, its mutability, its active state and the locks this process holds on it. */
export class Installation {
  /** Canonical (realpath) root. */
  readonly root: string;
  readonly mossDir: string;
  readonly dbDir: string;
  /** `--cache DIR` when given, else `<root>/.moss/cache`. */
  readonly cacheDir: string;
  /** The content store (CAS); always under `.moss`, whatever `--cache` says. */
  readonly assetsDir: string;
  /** `.moss/root`: archived states `<id>/usr`, staging and isolation. */
  readonly rootsDir: string;
  readonly stagingDir: string;
  readonly isolationDir: string;
  readonly repoDir: string;
  /** Whether this process may change the root (root user, or write access to it). */
  mutable = false;
  /** The state the live `/usr` belongs to; a transaction updates it after a swap. */
  activeStateId: number | undefined;

  readonly #customCacheDir: string | undefined;
  #locks: Lockfile[] = [];
  #lockMode: LockMode | undefined;

  constructor(root: string, customCacheDir?: string) {
    this.root = root;
    this.mossDir = path.join(root, ".moss");
    this.dbDir = path.join(this.mossDir, "db");
    this.cacheDir = customCacheDir ?? path.join(this.mossDir, "cache");
    this.assetsDir = path.join(this.mossDir, "assets");
    this.rootsDir = path.join(this.mossDir, "root");
    this.stagingDir = path.join(this.rootsDir, "staging");
    this.isolationDir = path.join(this.rootsDir, "isolation");
    this.repoDir = path.join(this.mossDir, "repo");
    this.#customCacheDir = customCacheDir;
  }

  /** The live `/usr` of this root. */
  get usrPath(): string {
    return path.join(this.root, "usr");
  }

  /** Where archived state `id` lives: its tree is `<archivePath>/usr`. */
  archivePath(id: number): string {
    return path.join(this.rootsDir, String(id));
  }

  /** The directory holding state `id`'s `usr`: the root for the active state, its archive otherwise. */
  stateTree(id: number): string {
    return id === this.activeStateId ? this.root : this.archivePath(id);
  }

  /** True while this installation holds a lockfile (a reader on a never-locked root holds none). */
  get locked(): boolean {
    return this.#locks.length > 0;
  }

  /**
   * Take `.moss/.moss-lockfile`, then `<cache>/.moss-lockfile` when `--cache` is given. When another
   * process holds one, `onWait` gets the "Blocking …" message once and the call blocks (the JS
   * thread stands still) until it is free. Writers take it exclusive; a reader may take it shared,
   * which lets readers run together but never beside a writer (Rust only knows exclusive, and a
   * Rust writer waits for our readers like for anything else). Taking it again in the same mode
   * is a no-op; switching mode needs unlock() first, so the change is never silent.
   */
  lock(onWait?: (message: string) => void, mode: LockMode = "exclusive"): void {
    if (this.#lockMode !== undefined) {
      if (this.#lockMode === mode) return;
      throw new InstallationError("INSTALLATION_LOCK", `${JSON.stringify(this.root)} is already locked ${this.#lockMode}, not ${mode}`);
    }
    if (!this.mutable && mode === "exclusive") {
      throw new InstallationError("INSTALLATION_READ_ONLY", `cannot lock ${JSON.stringify(this.root)} for writing: it is read-only to this user`);
    }
    const targets = [{ dir: this.mossDir, blockedMessage: ROOT_BLOCKED_MESSAGE }];
    if (this.#customCacheDir !== undefined) targets.push({ dir: this.#customCacheDir, blockedMessage: CACHE_BLOCKED_MESSAGE });
    this.#lockMode = mode;
    try {
      for (const { dir, blockedMessage } of targets) {
        const lockfile = path.join(dir, LOCKFILE_NAME);
        // A reader that cannot write leaves the file to writers; none exists, so no writer ever ran.
        if (!this.mutable && !fs.existsSync(lockfile)) continue;
        this.#locks.push(Lockfile.acquire(lockfile, { mode, blockedMessage, onWait, readOnly: !this.mutable }));
      }
    } catch (error) {
      this.unlock();
      throw error;
    }
  }

  /** Release every lock this installation holds; safe to call when none is held. */
  unlock(): void {
    for (const lock of this.#locks.reverse()) lock.release();
    this.#locks = [];
    this.#lockMode = undefined;
  }

  [Symbol.dispose](): void {
    this.unlock();
  }
}

function existingDirectory(dir: string, code: "INSTALLATION_ROOT" | "INSTALLATION_CACHE", problem: string): string {
  let stats: fs.Stats;
  try {
    stats = fs.statSync(dir);
  } catch (error) {
    const errno = errnoOf(error);
    if (errno === undefined) throw error;
    const reason = errno === "ENOENT" ? "does not exist" : (error as Error).message;
    throw new InstallationError(code, `${problem}: ${JSON.stringify(dir)} ${reason}`, { cause: error });
  }
  if (!stats.isDirectory()) throw new InstallationError(code, `${problem}: ${JSON.stringify(dir)} is not a directory`);
  return fs.realpathSync(dir);
}

function createSkeleton(installation: Installation): void {
  const dirs = [
    installation.dbDir,
    path.join(installation.mossDir, "cache"),
    installation.assetsDir,
    installation.repoDir,
    installation.stagingDir,
    installation.isolationDir,
  ];
  for (const dir of dirs) {
    try {
      fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
    } catch {
      // Best effort by design (§1.2): a root we cannot write is opened read-only just after.
    }
  }
  // Always `.moss/cache`, even with --cache: Rust tags the directory it would have used.
  ensureCachedirTag(path.join(installation.mossDir, "cache"));
}

function isWritable(root: string): boolean {
  if (process.geteuid?.() === 0) return true;
  try {
    fs.accessSync(root, fs.constants.W_OK);
    return true;
  } catch (error) {
    if (errnoOf(error) === undefined) throw error;
    return false;
  }
}
