/** The benchmarks and the memory guard measure `dist/moss`: rebuild it first when src/ is newer. */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

export const ROOT = path.resolve(import.meta.dir, "..", "..");
export const MOSS = path.join(ROOT, "dist", "moss");

/** Rebuilds `dist/moss` when it is missing or older than any file it is built from; returns its path. */
export function freshBinary(log: (line: string) => void = () => {}): string {
  const builtAt = fs.existsSync(MOSS) ? fs.statSync(MOSS).mtimeMs : -1;
  const newer = newestSource();
  if (builtAt >= newer.mtimeMs) return MOSS;
  log(builtAt < 0 ? "dist/moss is missing: building it" : `dist/moss is older than ${path.relative(ROOT, newer.file)}: rebuilding it`);
  const result = spawnSync(process.execPath, [path.join(ROOT, "scripts", "build.ts")], { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" });
  if (result.status !== 0) throw new Error(`building dist/moss failed (exit ${result.status}):\n${result.stdout ?? ""}`);
  return MOSS;
}

function newestSource(): { file: string; mtimeMs: number } {
  let newest = { file: "", mtimeMs: 0 };
  const consider = (file: string) => {
    const mtimeMs = fs.statSync(file).mtimeMs;
    if (mtimeMs > newest.mtimeMs) newest = { file, mtimeMs };
  };
  for (const entry of fs.readdirSync(path.join(ROOT, "src"), { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) consider(path.join(entry.parentPath, entry.name));
  }
  for (const file of ["package.json", "bun.lock", "bunfig.toml", "tsconfig.json", "scripts/build.ts"]) {
    if (fs.existsSync(path.join(ROOT, file))) consider(path.join(ROOT, file));
  }
  return newest;
}
