/**
 * A real HTTP server on 127.0.0.1 serving a directory, for repository tests: it counts the bytes
 * it sends, and a test can make it answer with an error status, cut the connection, send other
 * bytes or hold the answer for chosen paths.
 */
import fs from "node:fs";
import path from "node:path";

export interface RepoServer {
  url: string;
  /** Bytes of file bodies sent so far. */
  bytesSent: number;
  requests: string[];
  /** Paths (from `/`) answered with this status instead of the file. */
  failures: Map<string, number>;
  /** Paths whose next answer stops after this many bytes of the body, the connection cut (once each). */
  cuts: Map<string, number>;
  /** Paths answered with these bytes instead of the file's. */
  replaced: Map<string, Uint8Array>;
  /** Range requests answered with 206, as `<path> <first byte>`. */
  ranges: string[];
  /** Paths whose answers wait until this promise settles. */
  holds: Map<string, Promise<unknown>>;
  /** Requests answered 304 because their If-None-Match named the file as it is (every answer carries an ETag). */
  notModified: string[];
  stop(): Promise<void>;
}

export function serveDirectory(dir: string): RepoServer {
  const state: RepoServer = {
    url: "",
    bytesSent: 0,
    requests: [],
    failures: new Map(),
    cuts: new Map(),
    replaced: new Map(),
    ranges: [],
    holds: new Map(),
    notModified: [],
    stop: async () => {
      await server.stop(true);
    },
  };
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const pathname = decodeURIComponent(new URL(request.url).pathname);
      state.requests.push(pathname);
      await state.holds.get(pathname);
      const failure = state.failures.get(pathname);
      if (failure !== undefined) return new Response(`failing on purpose: ${failure}`, { status: failure });
      const file = path.join(dir, pathname);
      const replacement = state.replaced.get(pathname);
      if (!replacement && (!file.startsWith(dir) || !fs.existsSync(file) || !fs.statSync(file).isFile())) return new Response("not found", { status: 404 });
      const whole = replacement ?? fs.readFileSync(file);
      const range = /^bytes=(\d+)-$/.exec(request.headers.get("range") ?? "");
      const from = range ? Number(range[1]) : 0;
      if (from > whole.length) return new Response("bad range", { status: 416 });
      const etag = `"${new Bun.CryptoHasher("sha256").update(whole).digest("hex").slice(0, 32)}"`;
      if (!range && request.headers.get("if-none-match") === etag) {
        state.notModified.push(pathname);
        return new Response(null, { status: 304, headers: { etag } });
      }
      const body = whole.subarray(from);
      const headers: Record<string, string> = { "content-length": String(body.length), etag };
      if (range) {
        state.ranges.push(`${pathname} ${from}`);
        headers["content-range"] = `bytes ${from}-${whole.length - 1}/${whole.length}`;
      }
      const status = range ? 206 : 200;
      const cut = state.cuts.get(pathname);
      if (cut !== undefined) {
        state.cuts.delete(pathname);
        const sent = body.subarray(0, cut);
        state.bytesSent += sent.length;
        // The promised length never arrives: the client sees the connection end mid-body.
        return new Response(new ReadableStream({
          start(controller) {
            controller.enqueue(sent);
            controller.close();
          },
        }), { status, headers });
      }
      state.bytesSent += body.length;
      return new Response(body, { status, headers });
    },
  });
  state.url = `http://127.0.0.1:${server.port}/`;
  return state;
}
