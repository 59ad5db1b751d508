/**
 * The root index (`<base-uri>/<channel>/moss-root-index.json`, spec §1.6): streams and tags name
 * a history, a history has a format, and the history gives the index URL.
 */
import { MossError } from "../errors.ts";
import { formatVersion, type RepositorySource } from "./config.ts";

type RootIndexSource = Extract<RepositorySource, { kind: "root-index" }>;

export interface RootIndex {
  formats?: Record<string, { upgrade_via?: string }>;
  streams?: Record<string, { format?: string; history: string; tag?: string }>;
  tags?: Record<string, { format?: string; history: string }>;
  history: Record<string, { format: string }>;
}

/** Formats this moss reads (Rust: `legacy` and `v0`). */
const SUPPORTED_FORMATS = new Set(["legacy", "v0"]);

export class RootIndexError extends MossError {
  constructor(code: string, message: string) {
    super(code, message);
    this.name = "RootIndexError";
  }
}

/** `<base-uri>/<channel>/` with a `/` after the base's path when it has none. */
function channelUrl(source: Pick<RootIndexSource, "baseUri" | "channel">): URL {
  const base = new URL(source.baseUri);
  if (!base.pathname.endsWith("/")) base.pathname += "/";
  return new URL(`${encodeURIComponent(source.channel)}/`, base);
}

/**
 * The index URL under each mirror base that `indexUrl` (found under the source's own base) has
 * under the source's base; none when the index lives elsewhere.
 */
export function mirrorIndexUrls(source: RootIndexSource, indexUrl: string, mirrorBases: string[]): string[] {
  const own = channelUrl(source).href;
  if (!indexUrl.startsWith(own)) return [];
  const rest = indexUrl.slice(own.length);
  return mirrorBases.map((base) => new URL(rest, channelUrl({ baseUri: base, channel: source.channel })).href);
}

export function rootIndexUrl(source: Pick<RootIndexSource, "baseUri" | "channel">): string {
  return new URL("moss-root-index.json", channelUrl(source)).href;
}

export function parseRootIndex(text: string, url: string): RootIndex {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new RootIndexError("ROOT_INDEX_INVALID", `${url}: not JSON (${(error as Error).message})`);
  }
  if (typeof value !== "object" || value === null || typeof (value as RootIndex).history !== "object") {
    throw new RootIndexError("ROOT_INDEX_INVALID", `${url}: no "history" object`);
  }
  return value as RootIndex;
}

/** The history id a `stream/…`, `tag/…` or `history/…` version names in this root index. */
export function resolveHistory(index: RootIndex, version: RootIndexSource["version"], url: string): string {
  const history = version.scope === "stream" ? index.streams?.[version.id]?.history : version.scope === "tag" ? index.tags?.[version.id]?.history : version.id;
  if (history === undefined || !Object.hasOwn(index.history, history)) {
    throw new RootIndexError("ROOT_INDEX_VERSION", `root index ${url} doesn't have version identifier ${formatVersion(version)}`);
  }
  return history;
}

/** The URL of the `stone.index` the repository's version leads to; unsupported formats are named. */
export function indexUrlFromRoot(index: RootIndex, source: RootIndexSource, url: string): string {
  const history = resolveHistory(index, source.version, url);
  const format = index.history[history]!.format;
  if (!SUPPORTED_FORMATS.has(format)) {
    const via = index.formats?.v0?.upgrade_via;
    const upgrade = via ? `; moss must first be upgraded through ${via}` : "";
    throw new RootIndexError(
      "ROOT_INDEX_FORMAT",
      `${formatVersion(source.version)} of ${url} is history ${history} in format ${format}, which this moss cannot read${upgrade}`,
    );
  }
  return new URL(`history/${encodeURIComponent(history)}/${encodeURIComponent(source.arch)}/stone.index`, channelUrl(source)).href;
}
