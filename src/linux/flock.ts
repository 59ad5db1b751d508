import { SyscallError } from "./errors.ts";
import { ERRNO } from "./errno.ts";
import { lastErrno, libc } from "./libc.ts";

const LOCK_SH = 1;
const LOCK_EX = 2;
const LOCK_NB = 4;
const LOCK_UN = 8;

export type FlockMode = "exclusive" | "shared" | "unlock";

export interface FlockOptions {
  /** Return false instead of waiting when another open file holds a conflicting lock. */
  nonBlocking?: boolean;
}

const OPERATION: Readonly<Record<FlockMode, number>> = { exclusive: LOCK_EX, shared: LOCK_SH, unlock: LOCK_UN };

/**
 * flock(2) on an open descriptor. Returns true when the lock is taken (or released), false only
 * when `nonBlocking` is set and the lock is held elsewhere.
 *
 * A blocking call waits inside the FFI call, so the JS thread (timers, promises, signal handlers
 * written in JS) stands still until the lock comes. moss only blocks on its lockfile, where there
 * is nothing else to do; SIGINT's default action still ends the process (a handler installed from
JS would not run until the lock comes). Callers that must stay
 * responsive try `nonBlocking` first and tell the user before blocking.
 */
export function flock(fd: number, mode: FlockMode, opts: FlockOptions = {}): boolean {
  const operation = OPERATION[mode] | (opts.nonBlocking ? LOCK_NB : 0);
  const { core } = libc();
  for (;;) {
    if (core.symbols.flock(fd, operation) === 0) return true;
    const errno = lastErrno();
    // A signal handled with SA_RESTART restarts flock in the kernel; one without lands here.
    if (errno === ERRNO.EINTR) continue;
    if (errno === ERRNO.EAGAIN && opts.nonBlocking) return false;
    throw new SyscallError({ syscall: "flock", errno, subject: `fd ${fd} (${mode})` });
  }
}
