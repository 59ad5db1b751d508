import { SyscallError } from "./errors.ts";
import { lastErrno, libc } from "./libc.ts";

/** _IOW(0x94, 9, int) from linux/fs.h. */
const FICLONE = 0x40049409;

/**
 * Make `destFd` share `srcFd`'s data extents (a reflink): instant and space-free on btrfs, xfs and
 * bcachefs. Elsewhere it fails — EOPNOTSUPP (ext4, tmpfs), EXDEV (different filesystems), EINVAL —
 * and the caller falls back to a hardlink or a copy.
 */
export function ficlone(destFd: number, srcFd: number): void {
  if (libc().core.symbols.ioctl(destFd, FICLONE, srcFd) !== 0) {
    throw new SyscallError({ syscall: "ioctl(FICLONE)", errno: lastErrno(), subject: `fd ${destFd} from fd ${srcFd}` });
  }
}
