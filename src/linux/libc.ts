/**
 * The libc functions moss needs beyond node's fs, bound through bun:ffi on first use. Loading
 * bun:ffi costs ~0.8 ms and ~2.5 MiB, and dlopen compiles a trampoline per symbol, so nothing
 * happens at import time: `moss --version` never pays for it.
 */
import type { Pointer } from "bun:ffi";

type Ffi = typeof import("bun:ffi");

const LIBC_PATH = "libc.so.6";

/** Set to use syscall(2) for renameat2 even when libc has the wrapper (musl's path, testable on glibc). */
export const RAW_RENAMEAT2_ENV = "MOSS_LINUX_RAW_RENAMEAT2";

// `syscall` and `ioctl` are variadic; on x86_64 and aarch64 variadic integer and pointer arguments
// travel in the same registers as fixed ones, so a fixed signature per use is sound.
const CORE_SYMBOLS = {
  __errno_location: { args: [], returns: "ptr" },
  strerror: { args: ["i32"], returns: "cstring" },
  syscall: { args: ["i64", "i64", "ptr", "i64", "ptr", "u64"], returns: "i32" },
  flock: { args: ["i32", "i32"], returns: "i32" },
  syncfs: { args: ["i32"], returns: "i32" },
  ioctl: { args: ["i32", "u64", "i64"], returns: "i32" },
  getrlimit: { args: ["i32", "ptr"], returns: "i32" },
  setrlimit: { args: ["i32", "ptr"], returns: "i32" },
} as const;

const RENAMEAT2_SYMBOL = {
  renameat2: { args: ["i32", "ptr", "i32", "ptr", "u32"], returns: "i32" },
} as const;

export interface Libc {
  readonly ffi: Ffi;
  readonly core: ReturnType<typeof openCore>;
  /** glibc ≥ 2.28 exports renameat2; older glibc and other libcs do not, and we use syscall(2). */
  readonly renameat2: ((olddirfd: number, oldpath: Uint8Array, newdirfd: number, newpath: Uint8Array, flags: number) => number) | undefined;
  /** Where this thread's errno lives; it does not move for the life of the thread. */
  readonly errnoPointer: Pointer;
}

let loaded: Libc | undefined;

export function libc(): Libc {
  return (loaded ??= load());
}

/**
 * errno of the last failed call. Read straight from memory right after the call, with no libc call
 * in between that could overwrite it.
 */
export function lastErrno(): number {
  const { ffi, errnoPointer } = libc();
  return ffi.read.i32(errnoPointer, 0);
}

/** glibc's text for an errno ("Invalid cross-device link"); undefined if libc cannot be loaded. */
export function strerror(errno: number): string | undefined {
  try {
    return libc().core.symbols.strerror(errno)?.toString();
  } catch {
    return undefined;
  }
}

/** A NUL-terminated copy of a path for C. A NUL inside would silently cut the path short. */
export function cPath(path: string): Uint8Array | undefined {
  if (path.includes("\0")) return undefined;
  return Buffer.from(`${path}\0`, "utf8");
}

function openCore(ffi: Ffi) {
  return ffi.dlopen(LIBC_PATH, CORE_SYMBOLS);
}

function load(): Libc {
  const ffi: Ffi = require("bun:ffi");
  const core = openCore(ffi);
  let renameat2: Libc["renameat2"];
  try {
    if (!process.env[RAW_RENAMEAT2_ENV]) renameat2 = ffi.dlopen(LIBC_PATH, RENAMEAT2_SYMBOL).symbols.renameat2;
  } catch {
    // The symbol is missing from this libc.
    renameat2 = undefined;
  }
  const errnoPointer = core.symbols.__errno_location();
  // A pointer above 2^53 would come back as a bigint; user-space addresses never are.
  if (typeof errnoPointer !== "number") throw new Error("libc returned no usable errno location");
  return { ffi, core, renameat2, errnoPointer };
}
