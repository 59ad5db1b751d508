/**
 * Version strings as Rust moss prints them (spec §4.1): short `v<semver>[ (Git ref <sha>)]`,
 * full `version v<semver>[ (Git ref …)] (Built at <RFC 3339>)`. The build script defines the
 * globals; running from source falls back to package.json's version.
 */
import packageJson from "../package.json" with { type: "json" };

declare const MOSS_VERSION: string | undefined;
declare const MOSS_GIT_REF: string | undefined;
declare const MOSS_BUILD_TIME: string | undefined;

const semver = typeof MOSS_VERSION === "string" ? MOSS_VERSION : packageJson.version;
const gitRef = typeof MOSS_GIT_REF === "string" && MOSS_GIT_REF ? ` (Git ref ${MOSS_GIT_REF})` : "";
const builtAt = typeof MOSS_BUILD_TIME === "string" && MOSS_BUILD_TIME ? MOSS_BUILD_TIME : "unknown";

export const VERSION = semver;
export const simpleVersion = (): string => `v${semver}${gitRef}`;
export const fullVersion = (): string => `version v${semver}${gitRef} (Built at ${builtAt})`;
