/**
 * Where a repository's files live under `/.moss/repo/` (spec §1.6, MUST): the XXH3-64 of
 * `moss-<uri>` (direct) or `moss-<base-uri>-<channel>-<version>-<arch>` (root index), in
 * lowercase hex without zero padding, so that Rust moss and moss-ts share the directory.
 */
import path from "node:path";
import { formatVersion, type Repository } from "./config.ts";

const CLIENT = "moss";

export function repositoryKey(repository: Pick<Repository, "source">): string {
  const { source } = repository;
  const text = source.kind === "direct"
    ? `${CLIENT}-${source.uri}`
    : `${CLIENT}-${source.baseUri}-${source.channel}-${formatVersion(source.version)}-${source.arch}`;
  return Bun.hash.xxHash3(text).toString(16);
}

export function repositoryDir(repoRoot: string, repository: Pick<Repository, "source">): string {
  return path.join(repoRoot, repositoryKey(repository));
}
