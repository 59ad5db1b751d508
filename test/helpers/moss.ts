/** Runs the real compiled binary, building it first when a test is run on its own. */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

export const ROOT = path.resolve(import.meta.dir, "..", "..");
export const MOSS = path.join(ROOT, "dist", "moss");
export const FIXTURES = path.resolve(ROOT, "..", "shared", "fixtures");

/**
 * The machine boot management probes in tests unless a test gives its own: a host root with
 * nothing in it (a BIOS machine without disks), so that no test depends on, or touches, the
 * boot partitions of the machine it runs on.
 */
export const NO_MACHINE = path.join(require("node:os").tmpdir(), "moss-test-no-machine");

let built = false;
export function ensureBinary(): string {
  if (!built && !fs.existsSync(MOSS)) {
    const result = spawnSync(process.execPath, [path.join(ROOT, "scripts", "build.ts")], { stdio: "inherit" });
    if (result.status !== 0) throw new Error("building dist/moss failed");
  }
  built = true;
  return MOSS;
}

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function moss(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): RunResult {
  const result = spawnSync(ensureBinary(), args, {
    cwd: opts.cwd, encoding: "utf8", env: { ...process.env, NO_COLOR: "1", MOSS_BOOT_HOST: NO_MACHINE, ...opts.env }, timeout: 60_000,
  });
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/**
 * `moss` without blocking the test's event loop: for tests whose HTTP server runs in the test
 * process itself (a spawnSync would keep it from answering).
 */
export async function mossAsync(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<RunResult> {
  const child = Bun.spawn([ensureBinary(), ...args], {
    cwd: opts.cwd, env: { ...process.env, NO_COLOR: "1", MOSS_BOOT_HOST: NO_MACHINE, ...opts.env }, stdin: "ignore", stdout: "pipe", stderr: "pipe", timeout: 60_000,
  });
  const [stdout, stderr, status] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  return { status, stdout, stderr };
}

export function tempDir(prefix = "moss-test-"): string {
  return fs.mkdtempSync(path.join(fs.realpathSync(require("node:os").tmpdir()), prefix));
}
