/**
 * The blit of a 65,000-entry state against its floors, in one run (issue 4 goal: ≥ 0.8× the
 * entries/s of linkfarm):
 *
 *   bun scripts/bench/blit.ts [--data /var/tmp/moss-bench] [--rounds 5] [--json]
 *
 * Uses the peer rig's distribution (made on first use, see rig.ts) and a root with its 300
 * packages installed by `dist/moss` (cached in the data dir). Then, interleaved and rotated each
 * round, each into a fresh directory that is parked, not deleted:
 *   - linkfarm: the rig's C floor, one *at call per entry from a manifest of the union tree;
 *   - cp -al of the union tree;
 *   - blitVfs in this process, from the VFS of the installed state's layout rows (the assets
 *     already carry their modes, as on every blit after the first), with 1 and with 2 threads;
 *   - `moss install --to DIR` with the same .stone files, all cached: the whole process
 *     (planning 300 files, reading the layout DB, the VFS and the blit).
 */
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { openDatabases } from "../../src/db/index.ts";
import { openInstallation } from "../../src/installation/index.ts";
import { blitVfs } from "../../src/transaction/blit.ts";
import { buildVfs, type Vfs } from "../../src/vfs/index.ts";
import { freshBinary } from "./binary.ts";
import { DEFAULT_DATA_DIR, ensureLinkfarm, ensureRigData, median, ParkingLot, rotated, run, timed, type RigData } from "./rig.ts";

const { values: args } = parseArgs({
  options: {
    data: { type: "string", default: DEFAULT_DATA_DIR },
    rounds: { type: "string", default: "5" },
    json: { type: "boolean", default: false },
    "skip-binary": { type: "boolean", default: false },
  },
});
const rounds = Number(args.rounds);
const log = (line: string) => process.stderr.write(`${line}\n`);

const data = ensureRigData(path.resolve(args.data!));
const moss = freshBinary(log);
const linkfarm = ensureLinkfarm(data);
const installedRoot = ensureInstalledRoot(data, moss);
const { vfs, seconds: vfsSeconds } = loadVfs(installedRoot);
const vfsEntries = vfs.entries.length;
log(`state of ${vfsEntries} VFS entries (layout read + VFS build ${vfsSeconds.toFixed(2)} s)`);

type Method = "linkfarm" | "cp -al" | "blitVfs, 1 thread" | "blitVfs, 2 threads" | "moss install --to (whole process)";
const methods: Method[] = ["linkfarm", "cp -al", "blitVfs, 1 thread", "blitVfs, 2 threads"];
if (!args["skip-binary"]) methods.push("moss install --to (whole process)");
const lot = new ParkingLot(data, "blit");
const results = new Map<Method, number[]>(methods.map((m) => [m, []]));
const perRound: Record<string, number>[] = [];
let madeByUs = 0;

try {
  for (let round = 0; round < rounds; round++) {
    const times: Record<string, number> = {};
    for (const method of rotated(methods, round)) {
      const dir = lot.fresh(method);
      let seconds: number;
      switch (method) {
        case "linkfarm":
          seconds = timed([linkfarm, data.manifest, data.unionV1, path.join(dir, "root")]).seconds;
          break;
        case "cp -al":
          seconds = timed(["cp", "-al", data.unionV1, path.join(dir, "root")]).seconds;
          break;
        case "blitVfs, 1 thread":
        case "blitVfs, 2 threads": {
          run(["sync"]);
          const threads = method === "blitVfs, 1 thread" ? 1 : 2;
          const summary = blitVfs(vfs, dir, path.join(installedRoot, ".moss", "assets"), { strategy: "hardlink", threads });
          seconds = summary.seconds;
          madeByUs = summary.entries;
          break;
        }
        case "moss install --to (whole process)":
          seconds = timed([moss, "-D", installedRoot, "-y", "install", "--to", path.join(dir, "root"), ...data.stones]).seconds;
          break;
      }
      results.get(method)!.push(seconds);
      times[method] = seconds;
      log(`round ${round + 1}/${rounds} ${method}: ${seconds.toFixed(3)} s`);
    }
    perRound.push(times);
  }
} finally {
  lot.deleteParked();
}

const linkfarmEntries = fs.readFileSync(data.manifest, "utf8").trimEnd().split("\n").length;
const ratio = (method: Method, base: Method) => median(perRound.map((t) => t[base]! / t[method]!));
const rows = methods.map((method) => {
  const times = results.get(method)!;
  const entries = method === "linkfarm" || method === "cp -al" ? linkfarmEntries : madeByUs;
  return {
    method,
    minSeconds: Math.min(...times),
    medianSeconds: median(times),
    entriesPerSecond: entries / median(times),
    speedVsLinkfarm: ratio(method, "linkfarm"),
    speedVsCpAl: ratio(method, "cp -al"),
  };
});

if (args.json) {
  console.log(JSON.stringify({ rounds, linkfarmEntries, blitEntries: madeByUs, vfsSeconds, rows }, null, 2));
} else {
  console.log(`\nBlit of one state: ${madeByUs.toLocaleString("en")} entries made by moss, ${linkfarmEntries.toLocaleString("en")} by linkfarm and cp -al; ${rounds} interleaved rounds.`);
  console.log("Speed = the floor's time / this method's time, median of the ratios within each round (1.00 = as fast; goal vs linkfarm ≥ 0.80).\n");
  console.log("| method | min s | median s | entries/s (median) | speed vs linkfarm | speed vs cp -al |");
  console.log("| --- | --- | --- | --- | --- | --- |");
  for (const row of rows) {
    console.log(`| ${row.method} | ${row.minSeconds.toFixed(3)} | ${row.medianSeconds.toFixed(3)} | ${Math.round(row.entriesPerSecond).toLocaleString("en")} | ${row.speedVsLinkfarm.toFixed(2)} | ${row.speedVsCpAl.toFixed(2)} |`);
  }
  console.log(`\nNot in the blit rows: reading the layout DB and building the VFS took ${vfsSeconds.toFixed(2)} s in this process.`);
}

/** A root with every v1 package installed by the binary, made once and kept in the data dir. */
function ensureInstalledRoot(rig: RigData, binary: string): string {
  const root = path.join(rig.work, "blit-root");
  if (fs.existsSync(path.join(root, "usr", ".stateID"))) return root;
  if (fs.existsSync(root)) fs.renameSync(root, path.join(rig.work, `blit-root-broken-${Date.now()}`));
  fs.mkdirSync(root, { recursive: true });
  log(`installing the ${rig.stones.length} packages into ${root} (once)`);
  run([binary, "-D", root, "-y", "install", ...rig.stones], { quiet: true });
  return root;
}

function loadVfs(root: string): { vfs: Vfs; seconds: number } {
  const started = performance.now();
  const installation = openInstallation(root, { readOnly: true });
  using dbs = openDatabases(installation.dbDir, { readonly: true });
  const active = installation.activeStateId;
  const state = active === undefined ? undefined : dbs.state.get(active);
  if (!state) throw new Error(`${root} has no active state`);
  const vfs = buildVfs(dbs.layout.forPackages(state.selections.map((s) => s.packageId)));
  return { vfs, seconds: (performance.now() - started) / 1000 };
}
