import { SyscallError } from "./errors.ts";
import { lastErrno, libc } from "./libc.ts";

const RLIMIT_NOFILE = 7;
const RLIM_INFINITY = 0xffff_ffff_ffff_ffffn;

export interface FileLimit {
  /** Infinity when unlimited. */
  soft: number;
  hard: number;
}

/**
 * Raise the soft open-file limit to the hard one, so parallel unpacking and blitting never run into
 * EMFILE at the default soft limit of 1024. Returns the limits in force afterwards.
 */
export function setNofileToHard(): FileLimit {
  const { core } = libc();
  // struct rlimit { rlim_t rlim_cur; rlim_t rlim_max; } with 64-bit rlim_t.
  const limits = new BigUint64Array(2);
  if (core.symbols.getrlimit(RLIMIT_NOFILE, limits) !== 0) {
    throw new SyscallError({ syscall: "getrlimit", errno: lastErrno(), subject: "RLIMIT_NOFILE" });
  }
  if (limits[0]! < limits[1]!) {
    limits[0] = limits[1]!;
    if (core.symbols.setrlimit(RLIMIT_NOFILE, limits) !== 0) {
      throw new SyscallError({ syscall: "setrlimit", errno: lastErrno(), subject: `RLIMIT_NOFILE to ${limits[1]}` });
    }
  }
  return { soft: toNumber(limits[0]!), hard: toNumber(limits[1]!) };
}

function toNumber(limit: bigint): number {
  return limit === RLIM_INFINITY ? Infinity : Number(limit);
}
