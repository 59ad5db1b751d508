/**
 * What install and sync show while they fetch and cache packages: a progress block for the
 * downloads on a terminal, and `Installed <name>` (` (cached)` when the download was already
 * there) once a package is in the store. Nothing at all with --json.
 */
import type { InstallHooks } from "../client/install.ts";
import type { Candidate } from "../registry/candidates.ts";
import { createDownloadProgress } from "../ui/download-progress.ts";
import { out } from "../ui/output.ts";

export function cacheHooks(packages: Candidate[], quiet: boolean): InstallHooks & { finish(): void } {
  if (quiet) return { finish() {} };
  const toFetch = packages.filter((c) => c.source === "repository");
  const progress = createDownloadProgress(toFetch.reduce((sum, c) => sum + (c.meta.downloadSize ?? 0), 0));
  const alreadyCached = new Set<string>();
  const print = (line: string) => (progress ? progress.log(line) : out(line));
  return {
    onFetchStart: (c) => progress?.start(c.meta.name, c.meta.downloadSize),
    onFetchBytes: (c, count) => progress?.bytes(c.meta.name, count),
    onFetched: (c, outcome) => {
      if (outcome.cached) alreadyCached.add(c.id);
      else progress?.finish(c.meta.name);
    },
    onCached: (c) => print(`Installed ${c.meta.name}${alreadyCached.has(c.id) ? " (cached)" : ""}`),
    finish: () => progress?.done(),
  };
}
