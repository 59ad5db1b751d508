import { MossError } from "../errors.ts";
import { errnoName, errnoNumber } from "./errno.ts";
import { strerror } from "./libc.ts";

export interface SyscallErrorInit {
  syscall: string;
  errno: number;
  /** What the call acted on, as the message shows it: `"/a" <-> "/b"`, `fd 5`. */
  subject: string;
  paths?: readonly string[];
}

/**
 * A failed system call. `errnoName` is what callers branch on (`EXDEV` → copy instead of link);
 * the message reads `renameat2 "/a" <-> "/b": Invalid cross-device link (EXDEV)`.
 */
export class SyscallError extends MossError {
  declare readonly code: "SYSCALL";
  readonly syscall: string;
  readonly errno: number;
  readonly errnoName: string;
  readonly paths: readonly string[];

  constructor(init: SyscallErrorInit, options?: { cause?: unknown }) {
    const name = errnoName(init.errno);
    const text = strerror(init.errno) ?? name;
    super("SYSCALL", `${init.syscall} ${init.subject}: ${text} (${name})`, options);
    this.name = "SyscallError";
    this.syscall = init.syscall;
    this.errno = init.errno;
    this.errnoName = name;
    this.paths = init.paths ?? [];
  }
}

/**
 * The errno name of a failed call, from our own SyscallError or from a node fs error
 * (`error.code === "ENOENT"`); undefined for anything else. Lets a caller catch the exact errno it
 * expects whichever API raised it.
 */
export function errnoOf(error: unknown): string | undefined {
  if (error instanceof SyscallError) return error.errnoName;
  if (error instanceof Error && "syscall" in error && typeof (error as NodeJS.ErrnoException).code === "string") {
    return (error as NodeJS.ErrnoException).code;
  }
  return undefined;
}

/**
 * A node fs error as a SyscallError, so every failure of src/linux has one shape. Anything that is
 * not an errno error (a bug) is rethrown as it is.
 */
export function fromNodeError(error: unknown, subject: string, paths: readonly string[]): SyscallError {
  const name = errnoOf(error);
  const errno = name === undefined ? undefined : errnoNumber(name);
  if (errno === undefined || !(error instanceof Error)) throw error;
  const syscall = (error as NodeJS.ErrnoException).syscall ?? "unknown";
  return new SyscallError({ syscall, errno, subject, paths }, { cause: error });
}
