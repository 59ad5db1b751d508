/**
 * The enabled repositories as candidate sources (spec §8.1): one per repository, highest priority
 * first (then by id), each package known by its package hash with its URI made absolute against
 * the URL its index was fetched from. A root-index repository whose index URL was never resolved
 * (never refreshed) offers nothing.
 */
import fs from "node:fs";
import path from "node:path";
import { MetaDb } from "../db/index.ts";
import type { Repository } from "../repository/config.ts";
import type { RepositoryManager } from "../repository/manager.ts";
import { INDEX_URI_FILE } from "../repository/refresh.ts";
import { mirrorIndexUrls } from "../repository/root-index.ts";
import { CandidateSource, type Candidate } from "./candidates.ts";

/** The URL the repository's package URIs are relative to, if it has been refreshed. */
export function indexUrlFor(manager: RepositoryManager, repository: Repository): string | undefined {
  if (repository.source.kind === "direct") return repository.source.uri;
  try {
    return fs.readFileSync(path.join(manager.dirOf(repository), INDEX_URI_FILE), "utf8").trim();
  } catch {
    return undefined;
  }
}

export function repositorySources(manager: RepositoryManager): CandidateSource[] {
  return manager.list().filter((r) => r.active).map((repository) => {
    const base = indexUrlFor(manager, repository);
    const candidates: Candidate[] = [];
    const dbFile = manager.dbFileOf(repository);
    if (base !== undefined && fs.existsSync(dbFile)) {
      const db = MetaDb.open(dbFile, { readonly: true });
      try {
        const bases = [base, ...(repository.source.kind === "direct" ? repository.mirrors : mirrorIndexUrls(repository.source, base, repository.mirrors))];
        for (const pkg of db.all()) {
          const { id, ...meta } = pkg;
          const urls = meta.uri === undefined ? undefined : [...new Set(bases.map((b) => new URL(meta.uri!, b).href))];
          candidates.push({ id, meta: { ...meta, uri: urls?.[0] }, source: "repository", repository: repository.id, urls });
        }
      } finally {
        db.close();
      }
    }
    return new CandidateSource("repository", candidates);
  });
}
