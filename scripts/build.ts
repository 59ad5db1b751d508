/**
 * Builds `dist/moss`: one self-contained binary. Flags measured in
 * shared/notes/dependency-measurements.md §4: bytecode needs ESM; a system tool must not read
 * `.env` or `bunfig.toml` from whatever directory it runs in.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import packageJson from "../package.json" with { type: "json" };
import { WORKER_ENTRY_POINTS } from "../src/worker-threads.ts";

const root = path.resolve(import.meta.dir, "..");
const outfile = path.join(root, "dist", "moss");

function git(...args: string[]): string {
  const result = spawnSync("git", args, { cwd: root, encoding: "utf8" });
  return result.status === 0 ? result.stdout.trim() : "";
}

const sha = git("rev-parse", "--short", "HEAD");
const dirty = sha && git("status", "--porcelain", "--untracked-files=no") ? "-dirty" : "";
const epoch = process.env.SOURCE_DATE_EPOCH;
const builtAt = (epoch ? new Date(Number(epoch) * 1000) : new Date()).toISOString().replace(/\.\d{3}Z$/, "+00:00");

const defines = {
  MOSS_VERSION: packageJson.version,
  MOSS_GIT_REF: sha ? `${sha}${dirty}` : "",
  MOSS_BUILD_TIME: builtAt,
};

fs.mkdirSync(path.dirname(outfile), { recursive: true });
const args = [
  "build", "--compile", "--minify", "--bytecode", "--format=esm",
  "--no-compile-autoload-dotenv", "--no-compile-autoload-bunfig",
  ...Object.entries(defines).flatMap(([name, value]) => ["--define", `${name}=${JSON.stringify(value)}`]),
  // Worker threads are entry points of their own (bun's rule for --compile), embedded at their
  // path below src/ (src/worker-threads.ts).
  path.join(root, "src", "main.ts"),
  ...WORKER_ENTRY_POINTS.map((entry) => path.join(root, "src", entry)),
  "--outfile", outfile,
];
const result = spawnSync(process.execPath, args, { cwd: root, stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" });
if (result.status !== 0) {
  process.stderr.write(result.stdout ?? "");
  process.exit(result.status ?? 1);
}
const size = fs.statSync(outfile).size;
console.log(`built ${path.relative(process.cwd(), outfile) || outfile}: ${size.toLocaleString("en")} bytes (${(size / 2 ** 20).toFixed(1)} MiB), moss v${defines.MOSS_VERSION}${defines.MOSS_GIT_REF ? ` (${defines.MOSS_GIT_REF})` : ""}`);
