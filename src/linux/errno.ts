/**
 * Linux errno numbers by name. The numbers are the kernel's asm-generic ones, which x86_64, aarch64
 * and riscv64 share; node's `os.constants.errno` lists only the ~80 that libuv knows, and a name we
 * cannot print is exactly the one a user needs to search for.
 */

// Index = errno. 41 and 58 are unused (EWOULDBLOCK and EDEADLOCK are aliases of 11 and 35).
const ERRNO_NAMES: readonly string[] = (
  "- EPERM ENOENT ESRCH EINTR EIO ENXIO E2BIG ENOEXEC EBADF ECHILD EAGAIN ENOMEM EACCES EFAULT ENOTBLK EBUSY " +
  "EEXIST EXDEV ENODEV ENOTDIR EISDIR EINVAL ENFILE EMFILE ENOTTY ETXTBSY EFBIG ENOSPC ESPIPE EROFS EMLINK EPIPE " +
  "EDOM ERANGE EDEADLK ENAMETOOLONG ENOLCK ENOSYS ENOTEMPTY ELOOP - ENOMSG EIDRM ECHRNG EL2NSYNC EL3HLT EL3RST " +
  "ELNRNG EUNATCH ENOCSI EL2HLT EBADE EBADR EXFULL ENOANO EBADRQC EBADSLT - EBFONT ENOSTR ENODATA ETIME ENOSR " +
  "ENONET ENOPKG EREMOTE ENOLINK EADV ESRMNT ECOMM EPROTO EMULTIHOP EDOTDOT EBADMSG EOVERFLOW ENOTUNIQ EBADFD " +
  "EREMCHG ELIBACC ELIBBAD ELIBSCN ELIBMAX ELIBEXEC EILSEQ ERESTART ESTRPIPE EUSERS ENOTSOCK EDESTADDRREQ " +
  "EMSGSIZE EPROTOTYPE ENOPROTOOPT EPROTONOSUPPORT ESOCKTNOSUPPORT EOPNOTSUPP EPFNOSUPPORT EAFNOSUPPORT " +
  "EADDRINUSE EADDRNOTAVAIL ENETDOWN ENETUNREACH ENETRESET ECONNABORTED ECONNRESET ENOBUFS EISCONN ENOTCONN " +
  "ESHUTDOWN ETOOMANYREFS ETIMEDOUT ECONNREFUSED EHOSTDOWN EHOSTUNREACH EALREADY EINPROGRESS ESTALE EUCLEAN " +
  "ENOTNAM ENAVAIL EISNAM EREMOTEIO EDQUOT ENOMEDIUM EMEDIUMTYPE ECANCELED ENOKEY EKEYEXPIRED EKEYREVOKED " +
  "EKEYREJECTED EOWNERDEAD ENOTRECOVERABLE ERFKILL EHWPOISON"
).split(" ");

/** Names that are aliases of another number (glibc and node use both spellings). */
const ERRNO_ALIASES: Readonly<Record<string, string>> = { EWOULDBLOCK: "EAGAIN", EDEADLOCK: "EDEADLK", ENOTSUP: "EOPNOTSUPP" };

let numbersByName: Map<string, number> | undefined;

/** `EXDEV` for 18; `errno 200` for a number the table does not know. */
export function errnoName(errno: number): string {
  const name = ERRNO_NAMES[errno];
  return name !== undefined && name !== "-" ? name : `errno ${errno}`;
}

/** 18 for `EXDEV` (aliases included); undefined for a name that is not an errno. */
export function errnoNumber(name: string): number | undefined {
  numbersByName ??= new Map(ERRNO_NAMES.map((n, i) => [n, i] as const).filter(([n]) => n !== "-"));
  return numbersByName.get(ERRNO_ALIASES[name] ?? name);
}

/** Errno values this module's callers test for by number. */
export const ERRNO = {
  EINTR: 4,
  EAGAIN: 11,
  EEXIST: 17,
  EXDEV: 18,
  EINVAL: 22,
  ENOSYS: 38,
  EOPNOTSUPP: 95,
} as const;
