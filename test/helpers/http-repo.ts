/**
 * A real HTTP server on 127.0.0.1 serving a directory, for repository tests: it counts the bytes
 * it sends, and a test can make it answer with an error status for chosen paths.
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
  stop(): Promise<void>;
}

export function serveDirectory(dir: string): RepoServer {
  const state: RepoServer = {
    url: "",
    bytesSent: 0,
    requests: [],
    failures: new Map(),
    stop: async () => {
      await server.stop(true);
    },
  };
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(request) {
      const pathname = decodeURIComponent(new URL(request.url).pathname);
      state.requests.push(pathname);
      const status = state.failures.get(pathname);
      if (status !== undefined) return new Response(`failing on purpose: ${status}`, { status });
      const file = path.join(dir, pathname);
      if (!file.startsWith(dir) || !fs.existsSync(file) || !fs.statSync(file).isFile()) return new Response("not found", { status: 404 });
      const body = fs.readFileSync(file);
      state.bytesSent += body.length;
      return new Response(body);
    },
  });
  state.url = `http://127.0.0.1:${server.port}/`;
  return state;
}
