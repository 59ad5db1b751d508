/**
 * Peak RSS of a command, for the memory benchmark and its test guard.
 *
 * Not `Bun.spawn(...).resourceUsage().maxRSS` on its own: Linux carries the RSS high-water mark
 * of the process image an `execve` replaces into the new program's `ru_maxrss`, and Bun spawns
 * children sharing its own memory until they exec, so a child reports max(its parent's peak RSS,
 * its own). Measured here: a Bun parent holding 425 MiB spawned `moss --version`, whose maxRSS
 * came back as 423 MiB; GNU time said 36 MiB. So the command runs under GNU `time -f %M` (which
 * forks from its own tiny image), or, where that is not installed, under a fresh small Bun
 * process whose peak (~40 MiB) is far below anything measured with it.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const GNU_TIME = "/usr/bin/time";

export interface PeakRss {
  status: number;
  /** Bytes. */
  peakRss: number;
  wallMs: number;
  stderr: string;
  method: "GNU time -f %M" | "Bun.spawn maxRSS from a fresh launcher";
}

export async function peakRss(argv: string[], env: Record<string, string | undefined> = process.env): Promise<PeakRss> {
  return fs.existsSync(GNU_TIME) ? underGnuTime(argv, env) : underLauncher(argv, env);
}

async function underGnuTime(argv: string[], env: Record<string, string | undefined>): Promise<PeakRss> {
  const report = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "peak-rss-")), "report");
  try {
    const started = performance.now();
    const child = Bun.spawn([GNU_TIME, "-f", "%M", "-o", report, ...argv], { stdout: "ignore", stderr: "pipe", env });
    const [status, stderr] = await Promise.all([child.exited, new Response(child.stderr).text()]);
    const wallMs = performance.now() - started;
    // On failure GNU time writes "Command exited with non-zero status N" before the number.
    const kib = Number(fs.readFileSync(report, "utf8").trim().split("\n").at(-1));
    return { status, peakRss: kib * 1024, wallMs, stderr, method: "GNU time -f %M" };
  } finally {
    fs.rmSync(path.dirname(report), { recursive: true, force: true });
  }
}

const LAUNCHER = `
const argv = JSON.parse(process.env.PEAK_RSS_ARGV);
const started = performance.now();
const child = Bun.spawn(argv, { stdout: "ignore", stderr: "inherit" });
const status = await child.exited;
process.stdout.write(JSON.stringify({ status, peakRss: child.resourceUsage().maxRSS, wallMs: performance.now() - started }));
`;

async function underLauncher(argv: string[], env: Record<string, string | undefined>): Promise<PeakRss> {
  const child = Bun.spawn([process.execPath, "-e", LAUNCHER], {
    stdout: "pipe", stderr: "pipe", env: { ...env, PEAK_RSS_ARGV: JSON.stringify(argv) },
  });
  const [stdout, stderr] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  const result = JSON.parse(stdout) as Omit<PeakRss, "stderr" | "method">;
  return { ...result, stderr, method: "Bun.spawn maxRSS from a fresh launcher" };
}
