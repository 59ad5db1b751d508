/**
 * The *at system calls of unpacking and blitting, bound through bun:ffi. node's fs only takes
 * whole paths, and the kernel walks every component of every one: with a deep root each asset
 * cost ~10 lookups per call (measured: a stat through 4 components takes 2.5× one through 1).
 * With directory fds a call resolves only the names below that directory. Loaded once per
 * thread: errno lives in thread-local storage, so each thread asks libc for its own location.
 * Unlike the rest of this folder they are raw (-1 and errno, no SyscallError): they run in the
 * hot loops of unpacking and blitting, where the caller words the error once.
 */
import type { Pointer } from "bun:ffi";
import { errnoName } from "./errno.ts";

const LIBC_PATH = "libc.so.6";

const SYMBOLS = {
  __errno_location: { args: [], returns: "ptr" },
  mkdirat: { args: ["i32", "ptr", "u32"], returns: "i32" },
  symlinkat: { args: ["ptr", "i32", "ptr"], returns: "i32" },
  linkat: { args: ["i32", "ptr", "i32", "ptr", "i32"], returns: "i32" },
  renameat: { args: ["i32", "ptr", "i32", "ptr"], returns: "i32" },
  unlinkat: { args: ["i32", "ptr", "i32"], returns: "i32" },
  // openat is variadic; on x86_64 and aarch64 a variadic int travels like a fixed one.
  openat: { args: ["i32", "ptr", "i32", "u32"], returns: "i32" },
  close: { args: ["i32"], returns: "i32" },
  statx: { args: ["i32", "ptr", "i32", "u32", "ptr"], returns: "i32" },
  fchmodat: { args: ["i32", "ptr", "u32", "i32"], returns: "i32" },
} as const;

export const AT_FDCWD = -100;
export const O_WRONLY = 0o1;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export const O_TRUNC = 0o1000;
export const O_DIRECTORY = 0o200000;
export const O_NOFOLLOW = 0o400000;
export const O_CLOEXEC = 0o2000000;
export const O_PATH = 0o10000000;
export const AT_SYMLINK_NOFOLLOW = 0x100;
export const STATX_MODE = 0x2;
export const ENOENT = 2;
export const EEXIST = 17;
export const EMLINK = 31;
/** `stx_mode` (u16, native byte order) sits at byte 28 of `struct statx` on every architecture. */
const STATX_MODE_INDEX = 28 / 2;
const STATX_SIZE = 256;

/** Longest string the scratch takes in place; anything longer (a long symlink text) gets its own buffer. */
const SCRATCH_SLOT = 4096 + 8;
const SCRATCH_SLOTS = 3;

/** Raw calls: they return -1 and leave errno (`errno()`) as libc does; paths are C string pointers. */
export interface AtSyscalls {
  mkdirat(dirfd: number, path: number, mode: number): number;
  symlinkat(target: number, dirfd: number, path: number): number;
  linkat(olddirfd: number, oldpath: number, newdirfd: number, newpath: number, flags: number): number;
  renameat(olddirfd: number, oldpath: number, newdirfd: number, newpath: number): number;
  unlinkat(dirfd: number, path: number, flags: number): number;
  openat(dirfd: number, path: number, flags: number, mode: number): number;
  close(fd: number): number;
  /** The type and permission bits of `path` under `dirfd` (not following a final symlink), or -1. */
  modeAt(dirfd: number, path: number): number;
  fchmodat(dirfd: number, path: number, mode: number, flags: number): number;
  /** errno of the last failed call on this thread. */
  errno(): number;
  /**
   * A NUL-terminated copy of `text` in slot `slot` (0–2) of a reused scratch buffer, as a raw
   * pointer. Valid until the same slot is used again: one call's strings take different slots.
   */
  cString(text: string, slot: number): number;
  /** The address of a typed array over a SharedArrayBuffer or an ArrayBuffer (stable memory). */
  pointerOf(array: Uint8Array): number;
}

let loaded: AtSyscalls | undefined;

export function atSyscalls(): AtSyscalls {
  return (loaded ??= load());
}

/** An errno as node's fs reports one (`code`, `errno`, `syscall`), so callers handle both alike. */
export function errnoError(syscall: string, errno: number, path?: string): NodeJS.ErrnoException {
  const code = errnoName(errno);
  const error: NodeJS.ErrnoException = new Error(`${code}: ${syscall}${path === undefined ? "" : ` '${path}'`}`);
  error.code = code;
  error.errno = -errno;
  error.syscall = syscall;
  if (path !== undefined) error.path = path;
  return error;
}

const encoder = new TextEncoder();

/**
 * `text` as UTF-8 and a NUL into `target` from `offset`, using no byte at or past `limit`;
 * returns the offset just past the NUL, or -1 when it does not fit. Nearly every name is ASCII:
 * its code units are copied, and only anything else goes through the encoder.
 */
export function writeCString(text: string, target: Uint8Array, offset: number, limit = target.length): number {
  const length = text.length;
  if (offset + length < limit) {
    let i = 0;
    for (; i < length; i++) {
      const unit = text.charCodeAt(i);
      if (unit >= 0x80) break;
      target[offset + i] = unit;
    }
    if (i === length) {
      target[offset + length] = 0;
      return offset + length + 1;
    }
  }
  if (offset >= limit) return -1;
  const { read, written } = encoder.encodeInto(text, target.subarray(offset, limit - 1));
  if (read !== length) return -1;
  target[offset + written] = 0;
  return offset + written + 1;
}

function load(): AtSyscalls {
  const ffi: typeof import("bun:ffi") = require("bun:ffi");
  const { symbols } = ffi.dlopen(LIBC_PATH, SYMBOLS);
  const errnoPointer = symbols.__errno_location() as Pointer;
  // Over explicit ArrayBuffers: a small typed array's bytes can move when its buffer is first
  // asked for (subarray, another view), and a pointer taken before would then be stale.
  const scratch = new Uint8Array(new ArrayBuffer(SCRATCH_SLOT * SCRATCH_SLOTS));
  const scratchBase = ffi.ptr(scratch);
  const statWords = new Uint16Array(new ArrayBuffer(STATX_SIZE));
  const statBase = ffi.ptr(statWords);
  // Long strings keep their buffer alive here until the slot is reused.
  const spilled: (Uint8Array | undefined)[] = new Array(SCRATCH_SLOTS).fill(undefined);
  const p = (address: number) => address as unknown as Pointer;

  const cString = (text: string, slot: number): number => {
    const start = slot * SCRATCH_SLOT;
    if (writeCString(text, scratch, start, start + SCRATCH_SLOT) >= 0) return scratchBase + start;
    const own = new Uint8Array(new ArrayBuffer(text.length * 3 + 1));
    writeCString(text, own, 0);
    spilled[slot] = own;
    return ffi.ptr(own);
  };

  return {
    mkdirat: (dirfd, path, mode) => symbols.mkdirat(dirfd, p(path), mode),
    symlinkat: (target, dirfd, path) => symbols.symlinkat(p(target), dirfd, p(path)),
    linkat: (olddirfd, oldpath, newdirfd, newpath, flags) => symbols.linkat(olddirfd, p(oldpath), newdirfd, p(newpath), flags),
    renameat: (olddirfd, oldpath, newdirfd, newpath) => symbols.renameat(olddirfd, p(oldpath), newdirfd, p(newpath)),
    unlinkat: (dirfd, path, flags) => symbols.unlinkat(dirfd, p(path), flags),
    openat: (dirfd, path, flags, mode) => symbols.openat(dirfd, p(path), flags, mode),
    close: (fd) => symbols.close(fd),
    modeAt(dirfd, path) {
      if (symbols.statx(dirfd, p(path), AT_SYMLINK_NOFOLLOW, STATX_MODE, statBase) !== 0) return -1;
      return statWords[STATX_MODE_INDEX]!;
    },
    fchmodat: (dirfd, path, mode, flags) => symbols.fchmodat(dirfd, p(path), mode, flags),
    errno: () => ffi.read.i32(errnoPointer, 0),
    cString,
    pointerOf: (array) => ffi.ptr(array),
  };
}
