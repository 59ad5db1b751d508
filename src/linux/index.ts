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
export { mount, unmount } from "./mount.ts";
