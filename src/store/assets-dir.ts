/**
 * `assets/v2` open as a directory fd, and the calls unpacking makes in it: each resolves only the
 * asset's own `ab/cd/ef/<name>` below v2, never the root's whole path again (linux/at-syscalls.ts).
 * Directories already known to exist are remembered for the life of the process, so a new asset
 * in a known `ab/cd` costs one `mkdirat`; if something removed one meanwhile (a GC), the ENOENT
 * that follows makes it again.
 */
import fs from "node:fs";
import { AT_FDCWD, atSyscalls, EEXIST, ENOENT, errnoError, O_CLOEXEC, O_CREAT, O_DIRECTORY, O_EXCL, O_PATH, O_WRONLY } from "../linux/at-syscalls.ts";
import { storeIoError } from "./errors.ts";

/** Assets are plain readable files; modes of installed files are applied at blit time (spec §3.6). */
const ASSET_MODE = 0o644;
const DIRECTORY_MODE = 0o755;
const CREATE_EXCLUSIVE = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC;

/** Per v2 directory: the `ab` and `ab/cd` directories known to exist. */
const knownDirectories = new Map<string, Set<string>>();

export class AssetsDir implements Disposable {
  private readonly fd: number;
  private readonly known: Set<string>;

  /** Opens (creating it if needed) `v2Dir`. */
  constructor(readonly v2Dir: string) {
    try {
      fs.mkdirSync(v2Dir, { recursive: true, mode: DIRECTORY_MODE });
    } catch (error) {
      throw storeIoError("cannot create directory", v2Dir, error);
    }
    const sys = atSyscalls();
    this.fd = sys.openat(AT_FDCWD, sys.cString(v2Dir, 0), O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
    if (this.fd < 0) throw storeIoError("cannot open", v2Dir, errnoError("open", sys.errno(), v2Dir));
    let known = knownDirectories.get(v2Dir);
    if (!known) knownDirectories.set(v2Dir, (known = new Set()));
    this.known = known;
  }

  /** The absolute path of `relative`, for messages and for callers that need one. */
  absolute(relative: string): string {
    return `${this.v2Dir}/${relative}`;
  }

  /**
   * Make the directory holding the asset at `relative` (`ab/cd/ef/<name>`); true when this call
   * created its leaf, so that it cannot hold the asset yet.
   */
  makeLeafFor(relative: string): boolean {
    const cut = relative.lastIndexOf("/");
    if (cut < 0) return false; // a short name sits in v2 itself
    const leaf = relative.slice(0, cut);
    const sys = atSyscalls();
    for (let attempt = 0; ; attempt++) {
      const parent = leaf.slice(0, leaf.lastIndexOf("/"));
      if (!this.known.has(parent)) this.makeParents(parent);
      if (sys.mkdirat(this.fd, sys.cString(leaf, 0), DIRECTORY_MODE) === 0) return true;
      const errno = sys.errno();
      if (errno === EEXIST) return false;
      // A remembered parent that is gone: forget it and make it again, once.
      if (errno !== ENOENT || attempt > 0) throw storeIoError("cannot create directory", this.absolute(leaf), errnoError("mkdir", errno));
      this.known.delete(parent);
      this.known.delete(parent.slice(0, parent.indexOf("/")));
    }
  }

  /** Create `relative` exclusively for writing; its directory is made again if it has gone. */
  createExclusive(relative: string): number {
    const sys = atSyscalls();
    let fd = sys.openat(this.fd, sys.cString(relative, 0), CREATE_EXCLUSIVE, ASSET_MODE);
    if (fd < 0 && sys.errno() === ENOENT) {
      this.makeLeafFor(relative);
      fd = sys.openat(this.fd, sys.cString(relative, 0), CREATE_EXCLUSIVE, ASSET_MODE);
    }
    if (fd < 0) throw storeIoError("cannot create", this.absolute(relative), errnoError("open", sys.errno()));
    return fd;
  }

  /** rename(2) within v2; throws the errno as node's fs would. */
  rename(from: string, to: string): void {
    const sys = atSyscalls();
    if (sys.renameat(this.fd, sys.cString(from, 0), this.fd, sys.cString(to, 1)) !== 0) throw errnoError("rename", sys.errno());
  }

  /** unlink(2) within v2; a missing file is fine. */
  remove(relative: string): void {
    const sys = atSyscalls();
    if (sys.unlinkat(this.fd, sys.cString(relative, 0), 0) !== 0 && sys.errno() !== ENOENT) {
      throw storeIoError("cannot remove", this.absolute(relative), errnoError("unlink", sys.errno()));
    }
  }

  close(): void {
    atSyscalls().close(this.fd);
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** `ab` and `ab/cd`, each allowed to exist already. */
  private makeParents(parent: string): void {
    const sys = atSyscalls();
    const top = parent.slice(0, parent.indexOf("/"));
    for (const dir of this.known.has(top) ? [parent] : [top, parent]) {
      if (sys.mkdirat(this.fd, sys.cString(dir, 0), DIRECTORY_MODE) !== 0 && sys.errno() !== EEXIST) {
        throw storeIoError("cannot create directory", this.absolute(dir), errnoError("mkdir", sys.errno()));
      }
      this.known.add(dir);
    }
  }
}
