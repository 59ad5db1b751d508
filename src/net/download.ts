/**
 * Fetching one file: `http(s)://` through ofetch, `file://` from disk, streamed into
 * `<dest>.part` and renamed into place only once it is whole and checked, so a reader never sees
 * half a file. A broken connection is retried where it stopped (an HTTP Range request), a source
 * that fails hands over to the next one given (mirrors), and a `.part` left by an earlier run
 * is resumed when the caller knows what the whole file must be. Errors are one line naming the
 * URL and what went wrong.
 */
import fs from "node:fs";
import { fileURLToPath } from "node:url";
import { MossError } from "../errors.ts";
import { VERSION } from "../version.ts";

export type DownloadErrorCode = "HTTP_STATUS" | "NETWORK" | "FILE_SOURCE" | "DOWNLOAD_CHECK";

export class DownloadError extends MossError {
  constructor(code: DownloadErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = "DownloadError";
  }
}

export const USER_AGENT = `moss/${VERSION}`;
/** Tries of one source after a broken connection, each resuming where the last stopped. */
export const ATTEMPTS_PER_SOURCE = 3;

interface Body {
  /** Where in the file the body starts: the offset asked for, or 0 when the source sent it all. */
  offset: number;
  chunks: AsyncIterable<Uint8Array>;
  /** The server's entity tag for the file, when it sent one. */
  etag?: string;
  /** 304: the file is still the one `ifNoneMatch` named, and no body came. */
  notModified?: true;
}

async function open(url: string, from: number, ifNoneMatch?: string): Promise<Body> {
  if (url.startsWith("file:")) {
    const file = fileURLToPath(url);
    if (!fs.existsSync(file)) throw new DownloadError("FILE_SOURCE", `${url}: no such file`);
    return { offset: from, chunks: fs.createReadStream(file, { highWaterMark: 1 << 20, start: from }) };
  }
  const { ofetch } = await import("ofetch");
  const headers: Record<string, string> = { "user-agent": USER_AGENT };
  if (from > 0) headers.range = `bytes=${from}-`;
  else if (ifNoneMatch !== undefined) headers["if-none-match"] = ifNoneMatch;
  let response;
  try {
    response = await ofetch.raw(url, { responseType: "stream", retry: 0, headers });
  } catch (error) {
    const status = (error as { status?: number }).status;
    if (status !== undefined) throw new DownloadError("HTTP_STATUS", `GET ${url}: ${status} ${(error as { statusText?: string }).statusText ?? ""}`.trimEnd(), { cause: error });
    throw new DownloadError("NETWORK", `GET ${url}: ${networkReason(error)}`, { cause: error });
  }
  const empty = () => new ReadableStream<Uint8Array>({ start: (c) => c.close() });
  if (response.status === 304) {
    if (headers["if-none-match"] === undefined) throw new DownloadError("HTTP_STATUS", `GET ${url}: 304 Not Modified, for a request that named no version`);
    return { offset: 0, chunks: empty(), etag: ifNoneMatch, notModified: true };
  }
  const body = response._data ?? empty();
  const resumed = response.status === 206 && (response.headers.get("content-range") ?? "").startsWith(`bytes ${from}-`);
  const etag = response.headers.get("etag") ?? undefined;
  return { offset: resumed ? from : 0, chunks: guarded(url, body), ...(etag === undefined ? {} : { etag }) };
}

async function* guarded(url: string, body: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  try {
    yield* body;
  } catch (error) {
    throw new DownloadError("NETWORK", `GET ${url}: the connection broke mid-transfer (${networkReason(error)})`, { cause: error });
  }
}

function networkReason(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const code = cause?.code ?? (error as { code?: string }).code;
  if (code === "ConnectionRefused" || code === "ECONNREFUSED") return "connection refused";
  return (cause?.message ?? (error as Error).message ?? String(error)).split("\n")[0]!;
}

export interface DownloadOptions {
  /**
   * Sees the whole `.part` file, and its SHA-256 (computed as the bytes arrived), before it is
   * renamed: throwing refuses it (the next source is tried).
   */
  check?: (part: string, got: { url: string; sha256: string }) => void | Promise<void>;
  /** The whole file's size when known: a shorter body is a broken connection, and a `.part` from an earlier run is resumed. */
  size?: number;
  /** Bytes as they arrive. */
  onBytes?: (count: number) => void;
  /**
   * The entity tag `dest` had when it came from this URL: the request asks for the file only if
   * it changed since, and a 304 leaves `dest` as it is (`notModified`, nothing checked).
   */
  ifNoneMatch?: { url: string; etag: string };
}

export interface DownloadResult {
  /** Bytes received in this call (what a resumed download did not fetch again is not counted). */
  bytes: number;
  /** The source that gave the file. */
  url: string;
  /** The server's entity tag for what `dest` now holds, when it sent one. */
  etag?: string;
  /** The server said `dest` is still current: nothing was downloaded or changed. */
  notModified?: true;
}

/**
 * Appends a body to `part` (or starts it over when the body starts at 0), hashing it on the way;
 * bytes received. Not synced: a download is a cache entry checked against its hash whenever it is
 * used, and a torn one is fetched again.
 */
async function receive(part: string, body: Body, hasher: Bun.CryptoHasher, onBytes?: (count: number) => void): Promise<number> {
  const fd = fs.openSync(part, body.offset === 0 ? "w" : "a", 0o644);
  let bytes = 0;
  try {
    for await (const chunk of body.chunks) {
      let at = 0;
      while (at < chunk.length) at += fs.writeSync(fd, chunk, at, chunk.length - at);
      hasher.update(chunk);
      bytes += chunk.length;
      onBytes?.(chunk.length);
    }
  } finally {
    fs.closeSync(fd);
  }
  return bytes;
}

/** A SHA-256 hasher that has seen the first `length` bytes of `file` (what a resumed download keeps). */
function hasherOver(file: string, length: number): Bun.CryptoHasher {
  const hasher = new Bun.CryptoHasher("sha256");
  if (length === 0) return hasher;
  const fd = fs.openSync(file, "r");
  try {
    const buffer = new Uint8Array(1 << 20);
    for (let at = 0; at < length; ) {
      const count = fs.readSync(fd, buffer, 0, Math.min(buffer.length, length - at), at);
      if (count === 0) break;
      hasher.update(buffer.subarray(0, count));
      at += count;
    }
  } finally {
    fs.closeSync(fd);
  }
  return hasher;
}

const partSize = (part: string) => fs.statSync(part, { throwIfNoEntry: false })?.size ?? 0;

/**
 * Downloads the file from the first of `urls` that gives it whole and checked, to `dest` through
 * `<dest>.part`. A broken connection is resumed from the same source up to ATTEMPTS_PER_SOURCE
 * times; an HTTP error status, a missing file or a failed check moves on to the next source.
 */
export async function downloadFile(urls: string | string[], dest: string, opts: DownloadOptions = {}): Promise<DownloadResult> {
  const sources = typeof urls === "string" ? [urls] : urls;
  const part = `${dest}.part`;
  // Without a known size there is no telling a stale .part from this file's beginning.
  if (opts.size === undefined || partSize(part) > opts.size) fs.rmSync(part, { force: true });
  // The last failure of each source, for the error when none gives the file.
  const failures = new Map<string, DownloadError>();
  let bytes = 0;
  for (const url of sources) {
    for (let attempt = 1; attempt <= ATTEMPTS_PER_SOURCE; attempt++) {
      const from = partSize(part);
      let hasher: Bun.CryptoHasher | undefined;
      let etag: string | undefined;
      try {
        const known = opts.ifNoneMatch?.url === url && fs.existsSync(dest) ? opts.ifNoneMatch.etag : undefined;
        const body = await open(url, from, known);
        if (body.notModified) return { bytes, url, etag: body.etag!, notModified: true };
        etag = body.etag;
        hasher = hasherOver(part, body.offset);
        bytes += await receive(part, body, hasher, opts.onBytes);
        const have = partSize(part);
        if (opts.size !== undefined && have < opts.size) {
          throw new DownloadError("NETWORK", `GET ${url}: the connection closed after ${have} of ${opts.size} bytes`);
        }
      } catch (error) {
        if (!(error instanceof DownloadError)) throw error;
        failures.set(url, error);
        if (error.code === "NETWORK" && attempt < ATTEMPTS_PER_SOURCE) {
          await Bun.sleep(100 * attempt);
          continue;
        }
        break;
      }
      try {
        await opts.check?.(part, { url, sha256: hasher!.digest("hex") });
      } catch (error) {
        fs.rmSync(part, { force: true });
        const message = error instanceof Error ? error.message : String(error);
        failures.set(url, new DownloadError("DOWNLOAD_CHECK", sources.length > 1 ? `${url}: ${message}` : message, { cause: error }));
        // A resumed file may carry a stale beginning: one more try from the start.
        if (from > 0 && attempt < ATTEMPTS_PER_SOURCE) continue;
        break;
      }
      fs.renameSync(part, dest);
      return { bytes, url, ...(etag === undefined ? {} : { etag }) };
    }
  }
  const all = [...failures.values()];
  const last = all.at(-1)!;
  if (all.length === 1) throw last;
  const others = all.slice(0, -1).map((f) => f.message).join("; ");
  throw new DownloadError(last.code as DownloadErrorCode, `${last.message} (${all.length - 1} other source${all.length > 2 ? "s" : ""} failed too: ${others})`, { cause: last });
}

/** The body of `url` as text (small documents: the root index). */
export async function fetchText(url: string): Promise<string> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of (await open(url, 0)).chunks) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}
