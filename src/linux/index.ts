/**
 * System calls node's fs lacks, bound to libc through bun:ffi (loaded on first call). Every failure
 * is a SyscallError carrying the errno name; nothing here decides policy.
 */
export { ERRNO, errnoName, errnoNumber } from "./errno.ts";
export { errnoOf, SyscallError, type SyscallErrorInit } from "./errors.ts";
export { ficlone } from "./ficlone.ts";
export { flock, type FlockMode, type FlockOptions } from "./flock.ts";
export { probeRenameExchange, renameExchange, renameNoReplace } from "./rename.ts";
export { setNofileToHard, type FileLimit } from "./rlimit.ts";
export { fsyncPath, syncfs } from "./sync.ts";
export { CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWUTS, MNT_DETACH, mount, mountWith, MS_BIND, MS_NODEV, MS_NOSUID, MS_PRIVATE, MS_RDONLY, MS_REC, MS_REMOUNT, MS_SLAVE, pivotRoot, unmount, unshare } from "./mount.ts";
