/** The in-memory tree of a selection's layouts: conflicts, symlinked directories, blit order. */
export { buildVfs, VfsBuilder } from "./build.ts";
export { VfsError, type VfsErrorCode } from "./errors.ts";
export { IMPLICIT_DIRECTORY_MODE } from "./emit.ts";
export { assertBlitSafe } from "./invariant.ts";
export type { BuildVfsOptions, Vfs, VfsConflict, VfsCounts, VfsEntry, VfsKind, VfsRow, VfsUnsafePath } from "./types.ts";
