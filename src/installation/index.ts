/** A root as moss sees it: paths, lockfile, active state, and the files every new tree carries. */
export { writeFileAtomic } from "./atomic-write.ts";
export { CACHEDIR_TAG } from "./cachedir-tag.ts";
export { InstallationError, type InstallationErrorCode } from "./errors.ts";
export {
  CACHE_BLOCKED_MESSAGE,
  Installation,
  LOCKFILE_NAME,
  openInstallation,
  ROOT_BLOCKED_MESSAGE,
  type OpenInstallationOptions,
} from "./installation.ts";
export { Lockfile, type LockMode, type LockOptions } from "./lockfile.ts";
export { osReleaseFields, renderOsRelease, writeOsRelease } from "./os-release.ts";
export { checkRootLinks, ensureRootLinks, ROOT_LINKS } from "./root-links.ts";
export { legacyStateId, parseStateId, readActiveStateId, readStateId, STATE_ID_FILE, writeStateId } from "./state-id.ts";
