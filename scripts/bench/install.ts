/**
 * A fresh install of the peer rig's distribution (300 packages, 65,000 entries, 600 MiB) against
 * pacman and the tar floor in one run, then `state activate` on the installed root (issue 4
 * goals: faster than `pacman -U` with peak RSS ≤ 128 MiB; activation < 100 ms):
 *
 *   bun scripts/bench/install.ts [--data /var/tmp/moss-bench] [--rounds 3] [--activations 10] [--json]
 *
 * Each round runs, in rotated order and each into a fresh empty root (parked, deleted at the end):
 *   - `pacman -U` exactly as the rig's run.py runs it (same pacman.conf, empty hook dir, root setup);
 *   - `tar -x` of the union tarball (the unpack floor: decompress and write every file);
 *   - `dist/moss -D ROOT -y install <the 300 v1 .stone files>` (and with `--single-thread`, the
 *     same with one unpack thread and one blit thread);
 *   - with `--http`: `dist/moss -D ROOT -y install <the 300 names>` from a repository served over
 *     HTTP on 127.0.0.1 by a separate process (an index of v1 made by `moss index`, added untimed
 *     with `repo add`): the same install with the downloads, checks and download cache on top.
 * Each is preceded by an untimed `sync` and followed by a timed one (`+ sync`), as in run.py;
 * moss makes its tree durable itself (syncfs before the state goes live), so its `+ sync` is the
 * rest. Peak RSS is GNU time's %M.
 *
 * Then one moss root gets a second state (one package removed) and the two are activated in
 * turn, `moss -D ROOT state activate -y --skip-triggers N` as a whole process, `--activations`
 * times each way.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { freshBinary } from "./binary.ts";
import { DEFAULT_DATA_DIR, ensureRigData, median, ParkingLot, rotated, run, timed, type RigData, type TimedRun } from "./rig.ts";

const { values: args } = parseArgs({
  options: {
    data: { type: "string", default: DEFAULT_DATA_DIR },
    rounds: { type: "string", default: "3" },
    activations: { type: "string", default: "10" },
    json: { type: "boolean", default: false },
    only: { type: "string", default: "" },
    /** Also time moss with one unpack thread and one blit thread (MOSS_UNPACK_THREADS=1 MOSS_BLIT_THREADS=1). */
    "single-thread": { type: "boolean", default: false },
    /** Also time the install from a local HTTP repository. */
    http: { type: "boolean", default: false },
  },
});
const rounds = Number(args.rounds);
const activations = Number(args.activations);
const log = (line: string) => process.stderr.write(`${line}\n`);

const data = ensureRigData(path.resolve(args.data!));
const moss = freshBinary(log);
const lot = new ParkingLot(data, "install");
const pacmanSetup = preparePacman(data);

type Method = "pacman -U" | "tar -x zstd (floor)" | "moss install" | "moss install, 1 thread" | "moss install from HTTP";
const allMethods: Method[] = ["pacman -U", "tar -x zstd (floor)", "moss install"];
if (args["single-thread"]) allMethods.push("moss install, 1 thread");
if (args.http) allMethods.push("moss install from HTTP");
const methods = allMethods.filter((m) => !args.only || args.only.split(",").some((s) => m.includes(s)));
interface Sample extends TimedRun {
  round: number;
  syncSeconds: number;
}
const samples = new Map<Method, Sample[]>(methods.map((m) => [m, []]));
let lastMossRoot: string | undefined;
let activation: { toFirst: number[]; toSecond: number[]; peakKiB: number } | undefined;

const http = methods.includes("moss install from HTTP") ? serveV1Repository() : undefined;
try {
  for (let round = 0; round < rounds; round++) {
    for (const method of rotated(methods, round)) {
      const root = lot.fresh(method);
      const result = runMethod(method, root);
      const syncStarted = performance.now();
      spawnSync("sync");
      const syncSeconds = (performance.now() - syncStarted) / 1000;
      samples.get(method)!.push({ ...result, round, syncSeconds });
      if (method === "moss install") lastMossRoot = root;
      log(`round ${round + 1}/${rounds} ${method}: ${result.seconds.toFixed(2)} s (+ sync ${syncSeconds.toFixed(2)} s), peak ${(result.peakKiB / 1024).toFixed(0)} MiB`);
    }
  }
  if (lastMossRoot && activations > 0) activation = measureActivation(lastMossRoot);
} finally {
  http?.server.kill();
  lot.deleteParked();
}

const base = new Map(samples.get("pacman -U")?.map((s) => [s.round, s.seconds]) ?? []);
const rows = methods.map((method) => {
  const list = samples.get(method)!;
  const seconds = list.map((s) => s.seconds);
  const ratios = list.filter((s) => base.has(s.round)).map((s) => base.get(s.round)! / s.seconds);
  return {
    method,
    minSeconds: Math.min(...seconds),
    medianSeconds: median(seconds),
    maxSeconds: Math.max(...seconds),
    entriesPerSecond: data.entries / median(seconds),
    speedVsPacman: ratios.length > 0 ? median(ratios) : undefined,
    syncSeconds: median(list.map((s) => s.syncSeconds)),
    peakMiB: Math.max(...list.map((s) => s.peakKiB)) / 1024,
  };
});

if (args.json) {
  console.log(JSON.stringify({ rounds, entries: data.entries, packages: data.stones.length, rows, activation }, null, 2));
} else {
  console.log(`\nFresh install of ${data.stones.length} packages, ${data.entries.toLocaleString("en")} entries; ${rounds} interleaved rounds.`);
  console.log("Speed vs pacman = pacman's time / this time, median of the ratios within each round (> 1 is faster).\n");
  console.log("| method | wall s (min / med / max) | entries/s (med) | speed vs pacman | + sync s (med) | peak RSS MiB |");
  console.log("| --- | --- | --- | --- | --- | --- |");
  for (const row of rows) {
    console.log(
      `| ${row.method} | ${row.minSeconds.toFixed(2)} / ${row.medianSeconds.toFixed(2)} / ${row.maxSeconds.toFixed(2)} | ` +
        `${Math.round(row.entriesPerSecond).toLocaleString("en")} | ${row.speedVsPacman?.toFixed(2) ?? "–"} | ${row.syncSeconds.toFixed(2)} | ${row.peakMiB.toFixed(0)} |`,
    );
  }
  if (activation) {
    const all = [...activation.toFirst, ...activation.toSecond];
    console.log(`\n\`moss state activate -y --skip-triggers N\` on the 65k-entry root, whole process, ${all.length} runs alternating 1 ↔ 2:`);
    console.log("\n| activation | min ms | median ms | max ms | peak RSS MiB |");
    console.log("| --- | --- | --- | --- | --- |");
    for (const [label, list] of [["to state 1", activation.toFirst], ["to state 2", activation.toSecond], ["all", all]] as const) {
      console.log(`| ${label} | ${(Math.min(...list) * 1000).toFixed(0)} | ${(median(list) * 1000).toFixed(0)} | ${(Math.max(...list) * 1000).toFixed(0)} | ${(activation.peakKiB / 1024).toFixed(0)} |`);
    }
  }
}

function runMethod(method: Method, root: string): TimedRun {
  switch (method) {
    case "pacman -U":
      fs.mkdirSync(path.join(root, "var", "lib", "pacman"), { recursive: true });
      fs.mkdirSync(path.join(root, "var", "cache", "pacman", "pkg"), { recursive: true });
      return timed(pacmanArgv(root));
    case "tar -x zstd (floor)":
      return timed(["tar", "-C", root, "-I", "zstd", "-xf", data.unionTarball]);
    case "moss install":
      return timed([moss, "-D", root, "-y", "install", ...data.stones]);
    case "moss install, 1 thread":
      return timed([moss, "-D", root, "-y", "install", ...data.stones], { ...process.env, MOSS_UNPACK_THREADS: "1", MOSS_BLIT_THREADS: "1" });
    case "moss install from HTTP":
      run([moss, "-D", root, "repo", "add", "bench", http!.indexUrl], { quiet: true });
      return timed([moss, "-D", root, "-y", "install", ...http!.names]);
  }
}

/**
 * An index of the v1 packages (`moss index -o`, beside the rig's data) and a web server for the
 * data directory in a process of its own (the timed runs block this one).
 */
function serveV1Repository() {
  const indexDir = path.join(data.dir, "moss-work", "http-v1");
  fs.mkdirSync(indexDir, { recursive: true });
  const indexed = JSON.parse(run([moss, "index", "--json", "-o", indexDir, path.dirname(data.stones[0]!)], { quiet: true }));
  const names: string[] = indexed.packages.map((p: { name: string }) => p.name);
  const port = 20000 + (process.pid % 20000);
  const server = Bun.spawn(["python3", "-m", "http.server", "--bind", "127.0.0.1", "--directory", data.dir, String(port)], { stdout: "ignore", stderr: "ignore" });
  for (let i = 0; i < 50 && spawnSync("sh", ["-c", `exec 3<>/dev/tcp/127.0.0.1/${port}`]).status !== 0; i++) Bun.sleepSync(100);
  return { server, names, indexUrl: `http://127.0.0.1:${port}/${path.relative(data.dir, indexDir)}/stone.index` };
}

/** run.py's pacman command line, word for word. */
function pacmanArgv(root: string): string[] {
  const { config, hooks, gnupg } = pacmanSetup;
  return ["pacman", "-U", "--config", config, "--root", root, "--dbpath", `${root}/var/lib/pacman`,
    "--cachedir", `${root}/var/cache/pacman/pkg`, "--hookdir", hooks, "--gpgdir", gnupg, "--noconfirm",
    "--noprogressbar", "--nodeps", ...data.pacmanPackages];
}

function preparePacman(rig: RigData) {
  const dir = path.join(rig.work, "pacman-setup");
  const config = path.join(dir, "pacman.conf");
  const hooks = path.join(dir, "hooks-empty");
  const gnupg = path.join(dir, "gnupg");
  fs.mkdirSync(hooks, { recursive: true });
  fs.mkdirSync(gnupg, { recursive: true });
  fs.writeFileSync(config, "[options]\nArchitecture = auto\nSigLevel = Never\nLocalFileSigLevel = Never\nCheckSpace\n");
  return { config, hooks, gnupg };
}

/** A second state (one package removed), then activations alternating 1 ↔ 2, each a whole process. */
function measureActivation(root: string) {
  const victim = path.basename(data.stones.at(-1)!).replace(/-[^-]+-\d+-\d+-[^-]+\.stone$/, "");
  log(`making state 2 of ${root}: removing ${victim}`);
  run([moss, "-D", root, "-y", "remove", victim], { quiet: true });
  const toFirst: number[] = [];
  const toSecond: number[] = [];
  let peakKiB = 0;
  for (let i = 0; i < activations; i++) {
    for (const [id, list] of [[1, toFirst], [2, toSecond]] as const) {
      const result = timed([moss, "-D", root, "state", "activate", "-y", "--skip-triggers", String(id)]);
      list.push(result.seconds);
      peakKiB = Math.max(peakKiB, result.peakKiB);
    }
  }
  log(`activation median ${(median([...toFirst, ...toSecond]) * 1000).toFixed(0)} ms`);
  return { toFirst, toSecond, peakKiB };
}
