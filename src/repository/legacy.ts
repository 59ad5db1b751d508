/**
 * Repositories still configured with a legacy index URL (spec §1.6): the fixed AerynOS hosts'
 * `/volatile/…` and `/unstable/…` direct-index URLs. Once the host's root index serves that
 * stream in a newer format, a refresh refuses the old URL, and moss rewrites the repository's
 * configuration in root-index form (showing the diff) and asks for the command to be run again.
 */
import fs from "node:fs";
import path from "node:path";
import { configDirs } from "../config/loader.ts";
import { MossError } from "../errors.ts";
import { writeFileAtomic } from "../installation/index.ts";
import { DownloadError, fetchText } from "../net/download.ts";
import { unifiedDiff } from "../text/unified-diff.ts";
import { parseConfigFile, renderRepositories, type Repository, type RepositorySource } from "./config.ts";
import { parseRootIndex, resolveHistory, RootIndexError, rootIndexUrl } from "./root-index.ts";

type RootIndexSource = Extract<RepositorySource, { kind: "root-index" }>;

const LEGACY_HOSTS = new Set(["dev.serpentos.com", "packages.aerynos.com", "cdn.aerynos.dev", "packages.aerynos.dev", "build.aerynos.dev", "infratest.aerynos.dev"]);
const LEGACY_PATHS = new Map([
  ["/volatile/x86_64/stone.index", "volatile"],
  ["/stream/volatile/x86_64/stone.index", "volatile"],
  ["/unstable/x86_64/stone.index", "unstable"],
  ["/stream/unstable/x86_64/stone.index", "unstable"],
]);

/** The root-index source a legacy index URL stands for, or undefined for any other URL. */
export function rootSourceForLegacy(uri: string): RootIndexSource | undefined {
  const url = new URL(uri);
  const stream = LEGACY_HOSTS.has(url.hostname) ? LEGACY_PATHS.get(url.pathname) : undefined;
  if (stream === undefined) return undefined;
  return { kind: "root-index", baseUri: `${url.protocol}//${url.host}/`, channel: "main", version: { scope: "stream", id: stream }, arch: "x86_64" };
}

export interface OutdatedRepository {
  repository: Repository;
  replacement: RootIndexSource;
}

export class OutdatedRepositoriesError extends MossError {
  constructor(readonly outdated: OutdatedRepository[]) {
    super("REPOSITORY_OUTDATED", "one or more repositories with a legacy URI need to be upgraded to the new configuration format");
    this.name = "OutdatedRepositoriesError";
  }
}

/**
 * Refuses a legacy index URL whose host now serves its stream from a root index in a newer
 * format. Anything else, including a host without a root index, refreshes as before.
 */
export async function refuseOutdated(repository: Repository): Promise<void> {
  if (repository.source.kind !== "direct") return;
  const replacement = rootSourceForLegacy(repository.source.uri);
  if (!replacement) return;
  const url = rootIndexUrl(replacement);
  let format: string;
  try {
    const index = parseRootIndex(await fetchText(url), url);
    format = index.history[resolveHistory(index, replacement.version, url)]!.format;
  } catch (error) {
    if (error instanceof DownloadError || error instanceof RootIndexError) return;
    throw error;
  }
  if (format !== "legacy") throw new OutdatedRepositoriesError([{ repository, replacement }]);
}

/**
 * Rewrites the configuration files that define outdated repositories: each as
 * `/etc/moss/repo.d/<file-stem>.kdl` with every repository it held, the outdated ones in
 * root-index form (Rust keeps only the outdated ones). Prints what it did and the diffs.
 */
export async function upgradeOutdated(root: string, outdated: OutdatedRepository[], print: (line: string) => void): Promise<void> {
  const count = outdated.length;
  print(`${count} ${count === 1 ? "repo" : "repos"} will be upgraded to the new repository format`);
  const byFile = new Map<string, OutdatedRepository[]>();
  for (const item of outdated) {
    const file = item.repository.file;
    if (file === undefined) continue;
    byFile.set(file, [...(byFile.get(file) ?? []), item]);
  }
  const adminRepoDir = path.join(configDirs(root).admin, "repo.d");
  for (const [file, items] of byFile) {
    const format = file.endsWith(".kdl") ? "kdl" : "yaml";
    const oldText = fs.readFileSync(file, "utf8");
    const replacements = new Map(items.map((item) => [item.repository.id, item.replacement]));
    const repositories = (await parseConfigFile({ path: file, format }, oldText)).map((r) => ({ ...r, source: replacements.get(r.id) ?? r.source }));
    const target = path.join(adminRepoDir, `${path.basename(file).replace(/\.(kdl|yaml)$/, "")}.kdl`);
    const newText = await renderRepositories(repositories);
    fs.mkdirSync(adminRepoDir, { recursive: true });
    writeFileAtomic(target, newText);
    print(`\nUpdate applied to ${JSON.stringify(target)}`);
    print("\n```diff");
    print(unifiedDiff(oldText, newText, file, target).trimEnd());
    print("```");
  }
}
