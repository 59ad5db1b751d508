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
  return manager.enabled().map((repository) => {
    const base = indexUrlFor(manager, repository);
    const dbFile = manager.dbFileOf(repository);
    if (base === undefined || !fs.existsSync(dbFile)) return new CandidateSource("repository", []);
    const bases = [base, ...(repository.source.kind === "direct" ? repository.mirrors : mirrorIndexUrls(repository.source, base, repository.mirrors))].map(urlResolver);
    const withDb = <T>(read: (db: MetaDb) => T): T => {
      const db = MetaDb.open(dbFile, { readonly: true });
      try {
        return read(db);
      } finally {
        db.close();
      }
    };
    const keys = withDb((db) => db.keys());
    const byId = new Map(keys.map((key) => [key.id, key]));
    return CandidateSource.lazy("repository", keys, (ids) =>
      withDb((db) => db.wholeOf(ids.map((id) => byId.get(id)!))).map(({ id, ...meta }) => {
        const urls = meta.uri === undefined ? undefined : [...new Set(bases.map((resolve) => resolve(meta.uri!)))];
        return { id, meta: { ...meta, uri: urls?.[0] }, source: "repository", repository: repository.id, urls } satisfies Candidate;
      }),
    );
  });
}

/** A package path plain enough that resolving it is appending it to the index's directory. */
const PLAIN_RELATIVE = /^(?!\.\.?(\/|$))[A-Za-z0-9_+~-][A-Za-z0-9._+~-]*(\/(?!\.\.?(\/|$))[A-Za-z0-9._+~-]+)*$/;

/**
 * Resolves package URIs against an index URL. Index URIs are nearly always plain relative paths
 * (`n/nano/nano-8.0-1-1-x86_64.stone`), and appending those to the index's directory is what URL
 * resolution gives, at a fraction of its cost over thousands of packages; anything else (absolute
 * URLs, `..`, escapes, queries) goes through URL.
 */
export function urlResolver(base: string): (uri: string) => string {
  const parsed = new URL(base);
  const directory = parsed.search === "" && parsed.hash === "" ? new URL(".", parsed).href : undefined;
  return (uri) => (directory !== undefined && PLAIN_RELATIVE.test(uri) ? directory + uri : new URL(uri, base).href);
}
