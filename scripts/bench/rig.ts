/**
 * The peer rig's data for moss-ts' own benchmarks (shared/bench-peers): the generated
 * distribution (gen.py defaults: 300 packages, 65,000 entries, 600 MiB), packed as `.stone` and
 * pacman packages plus the union tree, its tarball and linkfarm's manifest. Everything lives in
 * a scratch directory outside the repository (several GB) and is made once, then reused.
 *
 * Timed runs follow the rig's rules: roots are parked in `<scratch>/parked` and deleted only at
 * the end (on ext4 with `discard`, deleting a 600 MB tree slows the next run several times),
 * `sync` runs untimed before each timed run, and methods are interleaved, their order rotating
 * from round to round.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

export const RIG_DIR = path.resolve(import.meta.dir, "..", "..", "..", "shared", "bench-peers");
export const DEFAULT_DATA_DIR = "/var/tmp/moss-bench";
const PYTHON = "/usr/bin/python3";
const GNU_TIME = "/usr/bin/time";

export interface RigData {
  dir: string;
  /** `.stone` packages of v1, sorted. */
  stones: string[];
  /** pacman packages of v1, sorted. */
  pacmanPackages: string[];
  unionV1: string;
  unionTarball: string;
  manifest: string;
  /** Regular files plus symlinks of v1, from gen.py's manifest. */
  entries: number;
  /** Where this script keeps what it builds (linkfarm, cached roots, parked roots). */
  work: string;
}

const log = (line: string) => process.stderr.write(`${line}\n`);

/** Generate and pack the distribution where it is missing; compile nothing else. */
export function ensureRigData(dir: string): RigData {
  fs.mkdirSync(dir, { recursive: true });
  const manifestJson = path.join(dir, "dist", "manifest.json");
  if (!fs.existsSync(manifestJson)) {
    log(`generating the distribution in ${dir}/dist (gen.py defaults, seed 42)`);
    run([PYTHON, path.join(RIG_DIR, "gen.py"), "--out", path.join(dir, "dist"), "--seed", "42"]);
  }
  const stoneDir = path.join(dir, "repo", "moss", "v1");
  const pacmanDir = path.join(dir, "repo", "pacman", "v1");
  const tarball = path.join(dir, "repo", "tar", "union-v1.tar.zst");
  const peers = [
    ["union", path.join(dir, "union", "v1")],
    ["pacman", pacmanDir],
    ["tar", tarball],
    ["moss", path.join(dir, "repo", "moss", "index", "stone.index")],
  ].filter(([, made]) => !fs.existsSync(made!)).map(([peer]) => peer!);
  if (peers.length > 0) {
    log(`packing ${peers.join(", ")} (pack.py)`);
    run([PYTHON, path.join(RIG_DIR, "pack.py"), "--data", dir, "--peers", peers.join(",")]);
  }
  const unionV1 = path.join(dir, "union", "v1");
  const manifest = path.join(dir, "union", "v1.manifest");
  if (!fs.existsSync(manifest)) {
    log("writing linkfarm's manifest (run.py write_manifest)");
    run([PYTHON, "-c", `import sys; sys.path.insert(0, ${JSON.stringify(RIG_DIR)}); import run; run.write_manifest(sys.argv[1], sys.argv[2])`, unionV1, manifest]);
  }
  const totals = (JSON.parse(fs.readFileSync(manifestJson, "utf8")) as { v1_totals: { files: number; symlinks: number } }).v1_totals;
  const work = path.join(dir, "moss-work");
  fs.mkdirSync(work, { recursive: true });
  return {
    dir,
    stones: listSorted(stoneDir, ".stone"),
    pacmanPackages: listSorted(pacmanDir, ".pkg.tar.zst"),
    unionV1,
    unionTarball: tarball,
    manifest,
    entries: totals.files + totals.symlinks,
    work,
  };
}

/** linkfarm.c compiled into the work dir (as run.py does). */
export function ensureLinkfarm(data: RigData): string {
  const binary = path.join(data.work, "linkfarm");
  const source = path.join(RIG_DIR, "linkfarm.c");
  if (!fs.existsSync(binary) || fs.statSync(binary).mtimeMs < fs.statSync(source).mtimeMs) {
    run(["gcc", "-O2", "-o", binary, source]);
  }
  return binary;
}

/**
 * How long after a big deletion creating files stays slow. ext4 without a journal (this VM's root)
 * skips, and reads the inode table for, every free inode deleted in the last 60 s, or 6 min while
 * its inode-table block is still dirty: right after a bench deleted its parked roots, making
 * 20,000 empty files took 3.8 s instead of 0.55 s. So the time of each deletion is kept, and the
 * next bench waits this long after it before timing anything.
 */
const SETTLE_AFTER_DELETE_MS = 400_000;

/** Fresh, empty directories for timed runs, parked until `deleteParked` at the very end. */
export class ParkingLot {
  readonly dir: string;
  private count = 0;
  private readonly stamp: string;

  constructor(data: RigData, name: string) {
    this.dir = path.join(data.work, `parked-${name}-${process.pid}`);
    this.stamp = path.join(data.work, "last-delete");
    fs.mkdirSync(this.dir, { recursive: true });
    waitForSettledDisk(this.stamp);
  }

  fresh(label: string): string {
    const dir = path.join(this.dir, `${++this.count}-${label.replace(/[^a-z0-9]+/gi, "_")}`);
    fs.mkdirSync(dir);
    return dir;
  }

  /** Deleting is the slow part on a discard-mounted disk: only ever after every timed run. */
  deleteParked(): void {
    log(`deleting ${this.dir}`);
    fs.rmSync(this.dir, { recursive: true, force: true });
    fs.writeFileSync(this.stamp, `${Date.now()}\n`);
  }
}

function waitForSettledDisk(stamp: string): void {
  let deletedAt: number;
  try {
    deletedAt = Number(fs.readFileSync(stamp, "utf8").trim());
  } catch {
    return;
  }
  const wait = deletedAt + SETTLE_AFTER_DELETE_MS - Date.now();
  if (!(wait > 0)) return;
  log(`waiting ${Math.ceil(wait / 1000)} s for the disk to settle after the last bench deleted its roots`);
  Bun.sleepSync(wait);
}

export interface TimedRun {
  seconds: number;
  /** GNU time's %M: peak RSS of the command, KiB. */
  peakKiB: number;
}

/** Run argv under GNU time after an untimed `sync`; fails loudly on a non-zero exit. */
export function timed(argv: string[], env: Record<string, string | undefined> = process.env): TimedRun {
  spawnSync("sync");
  const report = path.join(fs.mkdtempSync("/tmp/moss-bench-time-"), "t");
  try {
    const started = performance.now();
    const result = spawnSync(GNU_TIME, ["-f", "%M", "-o", report, ...argv], { stdio: ["ignore", "ignore", "pipe"], env, encoding: "utf8" });
    const seconds = (performance.now() - started) / 1000;
    if (result.status !== 0) throw new Error(`exit ${result.status}: ${argv.join(" ").slice(0, 300)}\n${(result.stderr ?? "").slice(-2000)}`);
    const peakKiB = Number(fs.readFileSync(report, "utf8").trim().split("\n").at(-1));
    return { seconds, peakKiB };
  } finally {
    fs.rmSync(path.dirname(report), { recursive: true, force: true });
  }
}

export function run(argv: string[], opts: { quiet?: boolean } = {}): string {
  const result = spawnSync(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", opts.quiet ? "pipe" : "inherit"], encoding: "utf8", maxBuffer: 1 << 28 });
  if (result.status !== 0) throw new Error(`exit ${result.status}: ${argv.join(" ").slice(0, 300)}\n${result.stdout?.slice(-2000) ?? ""}${result.stderr?.slice(-2000) ?? ""}`);
  return result.stdout;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The order of `names` in round `round`: rotated, so slow drifts of a noisy machine spread over all. */
export function rotated<T>(names: readonly T[], round: number): T[] {
  const shift = round % names.length;
  return [...names.slice(shift), ...names.slice(0, shift)];
}

function listSorted(dir: string, suffix: string): string[] {
  return fs.readdirSync(dir).filter((name) => name.endsWith(suffix)).sort().map((name) => path.join(dir, name));
}
