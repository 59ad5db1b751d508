import fs from "node:fs";
import path from "node:path";
import { SyscallError } from "./errors.ts";
import { ERRNO } from "./errno.ts";
import { cPath, lastErrno, libc } from "./libc.ts";

const AT_FDCWD = -100;
const RENAME_NOREPLACE = 1;
const RENAME_EXCHANGE = 2;

/** renameat2 by number, for a libc without the wrapper (musl, glibc < 2.28). */
const SYS_RENAMEAT2: Readonly<Record<string, number>> = { x64: 316, arm64: 276, riscv64: 276 };

/**
 * Atomically swap two paths (files or directories) on one filesystem: after it returns each name
 * holds what the other held, and at no instant does either name not exist. This is how a new /usr
 * goes live. Fails with EXDEV across mounts and EINVAL where the filesystem cannot exchange.
 */
export function renameExchange(a: string, b: string): void {
  renameat2(a, b, RENAME_EXCHANGE, "<->");
}

/** rename(2) that fails with EEXIST instead of replacing an existing `to`. */
export function renameNoReplace(from: string, to: string): void {
  renameat2(from, to, RENAME_NOREPLACE, "->");
}

/**
 * Throw the SyscallError renameExchange would raise in `dir` (EINVAL on a filesystem without
 * RENAME_EXCHANGE, ENOSYS on an old kernel), by exchanging two scratch files there. Lets a
 * transaction refuse before its blit instead of failing at the swap.
 */
export function probeRenameExchange(dir: string): void {
  const a = path.join(dir, `.moss-exchange-probe-${process.pid}-a`);
  const b = path.join(dir, `.moss-exchange-probe-${process.pid}-b`);
  const created: string[] = [];
  try {
    for (const file of [a, b]) {
      fs.writeFileSync(file, "", { flag: "wx" });
      created.push(file);
    }
    renameExchange(a, b);
  } finally {
    for (const file of created) fs.unlinkSync(file);
  }
}

function renameat2(a: string, b: string, flags: number, arrow: string): void {
  const subject = `${JSON.stringify(a)} ${arrow} ${JSON.stringify(b)}`;
  const aC = cPath(a);
  const bC = cPath(b);
  if (aC === undefined || bC === undefined) {
    throw new SyscallError({ syscall: "renameat2", errno: ERRNO.EINVAL, subject, paths: [a, b] });
  }
  const { core, renameat2: wrapper } = libc();
  let result: number;
  if (wrapper !== undefined) {
    result = wrapper(AT_FDCWD, aC, AT_FDCWD, bC, flags);
  } else {
    const number = SYS_RENAMEAT2[process.arch];
    if (number === undefined) {
      throw new SyscallError({ syscall: "renameat2", errno: ERRNO.ENOSYS, subject, paths: [a, b] });
    }
    result = core.symbols.syscall(number, AT_FDCWD, aC, AT_FDCWD, bC, flags);
  }
  if (result !== 0) throw new SyscallError({ syscall: "renameat2", errno: lastErrno(), subject, paths: [a, b] });
}
