import fs from "node:fs";
import { errnoOf, flock, SyscallError } from "../linux/index.ts";
import { InstallationError } from "./errors.ts";

export type LockMode = "exclusive" | "shared";

export interface LockOptions {
  mode: LockMode;
  /** Printed through onWait once, when another process holds the lock and we are about to block. */
  blockedMessage: string;
  onWait?: (message: string) => void;
  /** Open the lockfile read-only and never create it: a shared lock for a user who cannot write the root. */
  readOnly?: boolean;
}

/**
 * Lockfiles this process holds, by device and inode. flock locks belong to an open file, so a
 * second open of the same lockfile in one process would wait for itself forever (Rust's extract
 * on the root does exactly that); we refuse instead.
 */
const heldInProcess = new Set<string>();

/** An flock held on a lockfile (created if missing, never truncated, as Rust does) until released. */
export class Lockfile {
  readonly path: string;
  readonly mode: LockMode;
  #fd: number | undefined;
  #key: string;

  private constructor(path: string, mode: LockMode, fd: number, key: string) {
    this.path = path;
    this.mode = mode;
    this.#fd = fd;
    this.#key = key;
  }

  /** Take the lock, blocking (the whole JS thread, see linux/flock) while another process holds it. */
  static acquire(path: string, opts: LockOptions): Lockfile {
    let fd: number;
    try {
      const flags = opts.readOnly ? fs.constants.O_RDONLY : fs.constants.O_WRONLY | fs.constants.O_CREAT;
      fd = fs.openSync(path, flags, 0o666);
    } catch (error) {
      if (errnoOf(error) === undefined) throw error;
      throw new InstallationError("INSTALLATION_LOCK", `cannot open the lockfile ${JSON.stringify(path)}: ${(error as Error).message}`, { cause: error });
    }
    let key = "";
    try {
      const stats = fs.fstatSync(fd);
      key = `${stats.dev}:${stats.ino}`;
      if (heldInProcess.has(key)) {
        throw new InstallationError("INSTALLATION_LOCK", `${JSON.stringify(path)} is already locked by this process`);
      }
      if (!flock(fd, opts.mode, { nonBlocking: true })) {
        opts.onWait?.(opts.blockedMessage);
        flock(fd, opts.mode);
      }
    } catch (error) {
      fs.closeSync(fd);
      if (!(error instanceof SyscallError)) throw error;
      throw new InstallationError("INSTALLATION_LOCK", `cannot lock ${JSON.stringify(path)}: ${error.message}`, { cause: error });
    }
    heldInProcess.add(key);
    return new Lockfile(path, opts.mode, fd, key);
  }

  get held(): boolean {
    return this.#fd !== undefined;
  }

  /** Closing the descriptor drops the flock; safe to call twice. */
  release(): void {
    if (this.#fd === undefined) return;
    fs.closeSync(this.#fd);
    this.#fd = undefined;
    heldInProcess.delete(this.#key);
  }
}
