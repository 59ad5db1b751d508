/**
 * Getting repository packages into the download cache (spec §3.5): up to 8 at once, each checked
 * against its index's size and SHA-256 before it is renamed into place (Rust renames first and
 * keeps a bad file), and a package already in the cache with the right hash is not fetched again.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { forEachLimited } from "../concurrency.ts";
import { MossError } from "../errors.ts";
import { sha256File } from "../hash/sha256.ts";
import { downloadFile } from "../net/download.ts";
import type { Candidate } from "../registry/candidates.ts";
import { downloadPath } from "../store/index.ts";
import { collectBufferGarbage } from "../store/unpack-pool.ts";

export const DOWNLOAD_CONCURRENCY = 8;

export class FetchError extends MossError {
  constructor(code: string, message: string) {
    super(code, message);
    this.name = "FetchError";
  }
}

export interface FetchHooks {
  /** A download begins (not called for a package already in the cache). */
  onFetchStart?: (candidate: Candidate) => void;
  onFetchBytes?: (candidate: Candidate, count: number) => void;
  onFetched?: (candidate: Candidate, outcome: { cached: boolean; bytes: number }) => void;
}

/** Checks a whole downloaded file against the index: size first (cheap), then SHA-256 (`sha256` when already known). */
function verify(candidate: Candidate, file: string, sha256?: string): void {
  const { meta } = candidate;
  const size = fs.statSync(file).size;
  if (meta.downloadSize !== undefined && size !== meta.downloadSize) {
    throw new FetchError("STONE_SIZE_MISMATCH", `${meta.name}: ${meta.uri} is ${size} bytes, the index says ${meta.downloadSize}`);
  }
  const actual = sha256 ?? sha256File(file);
  if (actual !== meta.hash) throw new FetchError("STONE_HASH_MISMATCH", `Binary stone hash mismatch for ${meta.name}: expected ${meta.hash}, got ${actual}`);
}

/** Where a repository package is downloaded to: the download cache, by its hash. */
export function downloadDestination(cacheDir: string, candidate: Candidate): string {
  const { meta } = candidate;
  if (!meta.uri) throw new FetchError("MISSING_URL", `${meta.name}: missing URL`);
  if (!meta.hash) throw new FetchError("MISSING_HASH", `${meta.name}: missing hash`);
  return downloadPath(cacheDir, meta.hash);
}

async function fetchOne(cacheDir: string, candidate: Candidate, hooks: FetchHooks): Promise<void> {
  const { meta } = candidate;
  const dest = downloadDestination(cacheDir, candidate);
  if (fs.existsSync(dest)) {
    try {
      verify(candidate, dest);
      candidate.path = dest;
      hooks.onFetched?.(candidate, { cached: true, bytes: 0 });
      return;
    } catch {
      // a damaged or foreign file: fetched again below
    }
  }
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  if (linkLocalSource(candidate, dest)) {
    candidate.path = dest;
    // Counted as received, so that a total over several repositories still adds up.
    hooks.onFetchBytes?.(candidate, fs.statSync(dest).size);
    hooks.onFetched?.(candidate, { cached: false, bytes: 0 });
    return;
  }
  hooks.onFetchStart?.(candidate);
  const { bytes } = await downloadFile(candidate.urls ?? [meta.uri!], dest, {
    size: meta.downloadSize,
    check: (part, { sha256 }) => verify(candidate, part, sha256),
    onBytes: hooks.onFetchBytes && ((count) => hooks.onFetchBytes!(candidate, count)),
  });
  candidate.path = dest;
  collectBufferGarbage(bytes);
  hooks.onFetched?.(candidate, { cached: false, bytes });
}

/**
 * A `file://` package on the cache's file system is checked where it lies and hard-linked into
 * the cache instead of copied (Rust copies): the same bytes under the cache's name, without
 * reading them through a stream, writing them again and having the syncfs before the swap write
 * them to disk a second time (28 MB for the 10% update of the 65,000-file bench). A link in the
 * cache shares its inode with the repository's file; a file rewritten in place later fails the
 * hash check of its next use and is fetched again, as a damaged download would be. False when
 * the source is not a local file or cannot be linked (another file system): it is copied then.
 */
function linkLocalSource(candidate: Candidate, dest: string): boolean {
  const url = (candidate.urls ?? [candidate.meta.uri!])[0]!;
  if (!url.startsWith("file:")) return false;
  let source: string;
  try {
    source = fileURLToPath(url);
    verify(candidate, source);
  } catch {
    // missing or not this package: the copy path reports it, and tries the mirrors
    return false;
  }
  // A link under a temporary name, renamed over dest: never a half-made cache entry.
  const part = `${dest}.${process.pid}.link`;
  try {
    fs.rmSync(part, { force: true });
    fs.linkSync(source, part);
    fs.renameSync(part, dest);
    return true;
  } catch {
    fs.rmSync(part, { force: true });
    return false;
  }
}

/**
 * Every repository package among `candidates` into the download cache; each gets its `path`.
 * The first failure stops the batch once the downloads under way end; what is cached stays.
 * `stop` is asked before each download starts: true ends the batch quietly (the caller failed).
 */
export async function fetchPackages(cacheDir: string, candidates: Candidate[], hooks: FetchHooks = {}, stop: () => boolean = () => false): Promise<void> {
  const queue = candidates.filter((c) => c.source === "repository" && c.path === undefined);
  await forEachLimited(queue, DOWNLOAD_CONCURRENCY, async (candidate) => {
    if (!stop()) await fetchOne(cacheDir, candidate, hooks);
  });
}
