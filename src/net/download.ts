/**
 * Fetching one URL into a file: `http(s)://` through ofetch, `file://` from disk, streamed into
 * `<dest>.part` and renamed into place only once it is whole, so a reader never sees half a
 * file. Errors are one line naming the URL and what went wrong.
 */
import fs from "node:fs";
import { fileURLToPath } from "node:url";
import { MossError } from "../errors.ts";
import { VERSION } from "../version.ts";

export class DownloadError extends MossError {
  constructor(code: "HTTP_STATUS" | "NETWORK" | "FILE_SOURCE", message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = "DownloadError";
  }
}

export const USER_AGENT = `moss/${VERSION}`;

/** The body of `url` as a stream of chunks. */
async function* open(url: string): AsyncGenerator<Uint8Array> {
  if (url.startsWith("file:")) {
    const file = fileURLToPath(url);
    try {
      yield* fs.createReadStream(file, { highWaterMark: 1 << 20 });
    } catch (error) {
      throw new DownloadError("FILE_SOURCE", `${url}: ${(error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message}`, { cause: error });
    }
    return;
  }
  const { ofetch } = await import("ofetch");
  let body: ReadableStream<Uint8Array> | undefined;
  try {
    const response = await ofetch.raw(url, { responseType: "stream", retry: 0, headers: { "user-agent": USER_AGENT } });
    body = response._data ?? undefined;
  } catch (error) {
    const status = (error as { status?: number; statusText?: string }).status;
    if (status !== undefined) throw new DownloadError("HTTP_STATUS", `GET ${url}: ${status} ${(error as { statusText?: string }).statusText ?? ""}`.trimEnd(), { cause: error });
    throw new DownloadError("NETWORK", `GET ${url}: ${networkReason(error)}`, { cause: error });
  }
  if (!body) return;
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

/**
 * Downloads `url` to `dest` (through `<dest>.part`); the number of bytes written. `check` sees the
 * whole `.part` file before it is renamed: when it throws, the file is removed and `dest` is left
 * as it was.
 */
export async function downloadFile(url: string, dest: string, check?: (part: string) => void | Promise<void>): Promise<number> {
  const part = `${dest}.part`;
  const fd = fs.openSync(part, "w", 0o644);
  let bytes = 0;
  try {
    for await (const chunk of open(url)) {
      let at = 0;
      while (at < chunk.length) at += fs.writeSync(fd, chunk, at, chunk.length - at);
      bytes += chunk.length;
    }
    fs.fsyncSync(fd);
  } catch (error) {
    fs.closeSync(fd);
    fs.rmSync(part, { force: true });
    throw error;
  }
  fs.closeSync(fd);
  try {
    await check?.(part);
  } catch (error) {
    fs.rmSync(part, { force: true });
    throw error;
  }
  fs.renameSync(part, dest);
  return bytes;
}

/** The body of `url` as text (small documents: the root index). */
export async function fetchText(url: string): Promise<string> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of open(url)) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}
