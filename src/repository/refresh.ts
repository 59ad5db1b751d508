/**
 * Refreshing a repository (spec §4.13): find its index URL (direct, or through the root index),
 * download `stone.index`, and replace the repository's DB with one row per package, in one
 * transaction (Rust empties and refills in two, §9 #21). The index is read before it replaces
 * the previous one, so a broken download leaves the repository as it was.
 */
import fs from "node:fs";
import path from "node:path";
import { MetaDb, type PackageEntry } from "../db/index.ts";
import { MossError } from "../errors.ts";
import { writeFileAtomic } from "../installation/index.ts";
import { DownloadError, downloadFile, fetchText } from "../net/download.ts";
import { FileType, packageFromMeta, StoneReader, fileTypeName } from "../stone/index.ts";
import type { Repository } from "./config.ts";
import { repositoryDir } from "./identity.ts";
import { refuseOutdated } from "./legacy.ts";
import { parsePublicKey, SIGNATURE_SUFFIX, SignatureError, verifyFile } from "./signature.ts";
import { indexUrlFromRoot, mirrorIndexUrls, parseRootIndex, rootIndexUrl } from "./root-index.ts";

export const INDEX_FILE = "stone.index";
export const INDEX_URI_FILE = "index-uri";
export const DB_FILE = "db";
/**
 * Ours: what the repository's DB was last built from, written once the DB is: the index's
 * SHA-256 and the DB file's size and modification time as that refresh left them. An index that
 * downloads with the same hash onto a DB nobody has written since (Rust moss does not know this
 * file, and every write moves the time) needs neither parsing nor a new DB.
 */
export const INDEX_STAMP_FILE = "index-sha256";

export interface RefreshReport {
  id: string;
  indexUrl: string;
  packages: number;
  /** Package names new to the repository, whose id changed, and gone from it. */
  added: string[];
  updated: string[];
  removed: string[];
}

/**
 * Where the repository's index is: its own URL first, then its mirrors'. For a root index, the
 * root index is read from the first base that answers and the history's path is taken under every base.
 */
export async function indexUrlsOf(repository: Repository): Promise<string[]> {
  const { source } = repository;
  if (source.kind === "direct") return [source.uri, ...repository.mirrors];
  let failure: unknown;
  for (const base of [source.baseUri, ...repository.mirrors]) {
    const url = rootIndexUrl({ ...source, baseUri: base });
    try {
      const found = indexUrlFromRoot(parseRootIndex(await fetchText(url), url), { ...source, baseUri: base }, url);
      const own = base === source.baseUri ? found : mirrorIndexUrls({ ...source, baseUri: base }, found, [source.baseUri])[0] ?? found;
      return [own, ...mirrorIndexUrls(source, own, repository.mirrors)];
    } catch (error) {
      if (!(error instanceof DownloadError)) throw error;
      failure ??= error;
    }
  }
  throw failure;
}

/** The packages of a `stone.index` file, keyed by their package hash. */
export function readIndex(file: string, label = file): PackageEntry[] {
  const reader = StoneReader.open(file);
  try {
    if (reader.header.fileType !== FileType.Repository) {
      throw new MossError("INDEX_NOT_REPOSITORY", `${label} is a ${fileTypeName(reader.header.fileType)} stone, not a repository index`);
    }
    return reader.records().metas.map((records, i) => {
      const meta = packageFromMeta(records, { file: label, payload: `payload ${i}` });
      if (!meta.hash) throw new MossError("INDEX_MISSING_HASH", `${label}: ${meta.name}: Missing metadata field: PackageHash`);
      return { id: meta.hash, meta };
    });
  } finally {
    reader.close();
  }
}

export async function refreshRepository(repoRoot: string, repository: Repository): Promise<RefreshReport> {
  const dir = repositoryDir(repoRoot, repository);
  fs.mkdirSync(dir, { recursive: true });
  await refuseOutdated(repository);
  const indexUrls = await indexUrlsOf(repository);
  const indexUrl = indexUrls[0]!;
  const indexFile = path.join(dir, INDEX_FILE);
  const publicKey = repository.publicKey === undefined ? undefined : parsePublicKey(repository.publicKey);
  const stamp = readStamp(dir);
  let entries: PackageEntry[] | undefined;
  let indexSha256 = "";
  const download = (conditional: boolean) => downloadFile(indexUrls, indexFile, {
    ...(conditional && stamp?.etag !== undefined ? { ifNoneMatch: stamp.etag } : {}),
    check: async (part, { url, sha256 }) => {
      if (publicKey) {
        let signature: string;
        try {
          signature = await fetchText(`${url}${SIGNATURE_SUFFIX}`);
        } catch (error) {
          throw new SignatureError("INDEX_UNSIGNED", `the repository has a public-key, but the index's signature could not be fetched: ${(error as Error).message}`);
        }
        verifyFile(part, signature, publicKey, url);
      }
      indexSha256 = sha256;
      // The same index onto the DB built from it: nothing to read (checked after the signature).
      if (stamp === undefined || stamp.built !== stampFor(dir, sha256)) entries = readIndex(part, url);
    },
  });
  let got = await download(true);
  if (got.notModified) {
    // The server still has the index this stamp was written with; the local copy is it unless
    // something else wrote it since, and then it is fetched whole again.
    indexSha256 = sha256Of(indexFile);
    if (stamp?.built.startsWith(`${indexSha256} `) !== true) got = await download(false);
    else if (stamp.built !== stampFor(dir, indexSha256)) entries = readIndex(indexFile, got.url);
  }
  if (repository.source.kind === "root-index") writeFileAtomic(path.join(dir, INDEX_URI_FILE), indexUrl);
  const etag = got.etag === undefined ? undefined : { url: got.url, etag: got.etag };
  const db = MetaDb.open(path.join(dir, DB_FILE));
  let report: RefreshReport;
  try {
    if (entries === undefined) {
      report = { id: repository.id, indexUrl, packages: db.ids().length, added: [], updated: [], removed: [] };
    } else {
      const before = new Map(db.all().map((p) => [p.name, p.id]));
      db.replaceAll(entries);
      const after = new Map(entries.map((e) => [e.meta.name, e.id]));
      const sorted = (names: Iterable<string>) => [...names].sort();
      report = {
        id: repository.id,
        indexUrl,
        packages: entries.length,
        added: sorted([...after.keys()].filter((name) => !before.has(name))),
        updated: sorted([...after].filter(([name, id]) => before.has(name) && before.get(name) !== id).map(([name]) => name)),
        removed: sorted([...before.keys()].filter((name) => !after.has(name))),
      };
    }
  } finally {
    db.close();
  }
  // After the DB is whole: a crash before this leaves the old stamp, and the next refresh reads the index.
  const text = stampText(stampFor(dir, indexSha256)!, etag);
  if (text !== stamp?.text) writeFileAtomic(path.join(dir, INDEX_STAMP_FILE), text);
  return report;
}

interface Stamp {
  text: string;
  /** What the DB was built from: `<index sha256> <db size> <db mtime ns>`. */
  built: string;
  /** The server's entity tag for that index, and the URL it came from. */
  etag?: { url: string; etag: string };
}

function readStamp(dir: string): Stamp | undefined {
  let text: string;
  try {
    text = fs.readFileSync(path.join(dir, INDEX_STAMP_FILE), "utf8");
  } catch {
    return undefined;
  }
  const [built = "", tagged] = text.split("\n");
  const tab = tagged?.indexOf("\t") ?? -1;
  return { text, built, ...(tagged && tab > 0 ? { etag: { url: tagged.slice(0, tab), etag: tagged.slice(tab + 1) } } : {}) };
}

function stampText(built: string, etag: { url: string; etag: string } | undefined): string {
  // An entity tag is one header value: no line breaks (the server's would not be usable anyway).
  return etag === undefined || /[\r\n]/.test(etag.url + etag.etag) ? built : `${built}\n${etag.url}\t${etag.etag}`;
}

/** The stamp for an index with this hash and the repository DB as it is now; undefined without a DB. */
function stampFor(dir: string, sha256: string): string | undefined {
  const db = fs.statSync(path.join(dir, DB_FILE), { bigint: true, throwIfNoEntry: false });
  return db === undefined ? undefined : `${sha256} ${db.size} ${db.mtimeNs}`;
}

/** The file's SHA-256; "" when it cannot be read (it then matches no stamp). */
function sha256Of(file: string): string {
  try {
    return new Bun.CryptoHasher("sha256").update(fs.readFileSync(file)).digest("hex");
  } catch {
    return "";
  }
}
