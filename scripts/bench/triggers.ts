/**
 * What triggers cost (issue 8): a fresh install of the peer rig's 300 packages (65,000 files)
 * with and without a package shipping ten transaction triggers whose patterns match across the
 * whole tree (libraries, fonts, icons, man pages, modules…), in interleaved rounds:
 *
 *   bun scripts/bench/triggers.ts [--data /var/tmp/moss-bench] [--rounds 3] [--json]
 *
 * Each run's own MOSS_PROFILE marks give the triggers' phase (loading the trigger files,
 * matching every path of the tree against every pattern, and the container running the
 * handlers) next to the whole install.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { freshBinary } from "./binary.ts";
import { DEFAULT_DATA_DIR, ensureRigData, median, ParkingLot, rotated } from "./rig.ts";
import { packTree } from "../../src/stone/index.ts";

const { values: args } = parseArgs({
  options: { data: { type: "string", default: DEFAULT_DATA_DIR }, rounds: { type: "string", default: "3" }, json: { type: "boolean", default: false } },
});
const log = (line: string) => process.stderr.write(`${line}\n`);
const data = ensureRigData(path.resolve(args.data!));
const moss = freshBinary(log);

const busybox = Bun.which("busybox");
if (!busybox) throw new Error("busybox-static is needed (apt-get install busybox-static)");

/** Ten triggers, each matching a different part of the tree; every handler is one busybox call. */
const PATTERNS = [
  "/usr/lib/(lib:lib*).so*", "/usr/share/(dir:*)/**", "/usr/bin/(bin:*)", "/usr/lib/**/(name:*).so", "/usr/share/man/**",
  "/usr/share/doc/(pkg:*)", "/usr/lib/modules/(kver:*)/modules.dep", "/usr/share/icons/**", "/usr/include/(inc:*)", "/usr/lib/systemd/**",
];
const work = fs.mkdtempSync(path.join(data.work, "triggers-"));
async function pack(name: string, files: Record<string, string | Buffer>, mode?: Record<string, number>): Promise<string> {
  const tree = path.join(work, `tree-${name}`);
  for (const [file, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(tree, file)), { recursive: true });
    fs.writeFileSync(path.join(tree, file), content);
    if (mode?.[file]) fs.chmodSync(path.join(tree, file), mode[file]!);
  }
  const out = path.join(work, `${name}.stone`);
  await packTree(tree, { name, version: "1", release: 1, buildRelease: 1, architecture: "x86_64", summary: name, description: name, sourceId: name, homepage: "", licenses: [], dependencies: [], providers: [], conflicts: [] }, out, { level: 3 });
  return out;
}
const triggerFiles: Record<string, string> = {};
PATTERNS.forEach((pattern, i) => {
  triggerFiles[`share/moss/triggers/tx.d/t${i}.yaml`] = JSON.stringify({
    name: `t${i}`, description: `trigger ${i}`, ...(i > 0 ? { after: `t${i - 1}` } : {}),
    paths: { [pattern]: { handlers: ["h"] } },
    handlers: { h: { run: "/usr/bin/busybox", args: ["true"] } },
  });
});
const extra = [
  await pack("bench-busybox", { "bin/busybox": fs.readFileSync(busybox) }, { "bin/busybox": 0o755 }),
  await pack("bench-triggers", triggerFiles),
];

const lot = new ParkingLot(data, "triggers");
const variants = { "without triggers": [] as string[], "with ten triggers": extra };
const results: Record<string, { seconds: number[]; triggers: number[]; handlers: number[] }> = {};
const rounds = Number(args.rounds);
for (let round = 0; round < rounds; round++) {
  for (const name of rotated(Object.keys(variants) as (keyof typeof variants)[], round)) {
    const root = lot.fresh(name);
    spawnSync("sync");
    const started = performance.now();
    const result = spawnSync(moss, ["-D", root, "-y", "install", ...data.stones, ...variants[name]], { env: { ...process.env, MOSS_PROFILE: "1" }, encoding: "utf8", maxBuffer: 1 << 26 });
    const seconds = (performance.now() - started) / 1000;
    if (result.status !== 0) throw new Error(`install (${name}) failed:\n${result.stdout.slice(-2000)}${result.stderr.slice(-2000)}`);
    const phase = (label: string) => Number(new RegExp(`\\[profile\\] ${label}\\s+([\\d.]+) ms`).exec(result.stderr)?.[1] ?? 0) / 1000;
    const entry = (results[name] ??= { seconds: [], triggers: [], handlers: [] });
    entry.seconds.push(seconds);
    entry.triggers.push(phase("transaction triggers"));
    log(`round ${round + 1}/${rounds} ${name}: ${seconds.toFixed(2)} s, transaction triggers ${phase("transaction triggers").toFixed(3)} s`);
  }
}
lot.deleteParked();
fs.rmSync(work, { recursive: true, force: true });
if (args.json) console.log(JSON.stringify(results, null, 2));
else {
  console.log(`\nFresh install of ${data.stones.length} packages (65,000 files), ${rounds} interleaved rounds.\n`);
  console.log("| install | wall s (min / med / max) | transaction-trigger phase s (min / med / max) |");
  console.log("| --- | --- | --- |");
  for (const [name, r] of Object.entries(results)) {
    const f = (v: number[]) => `${Math.min(...v).toFixed(2)} / ${median(v).toFixed(2)} / ${Math.max(...v).toFixed(2)}`;
    const g = (v: number[]) => `${Math.min(...v).toFixed(3)} / ${median(v).toFixed(3)} / ${Math.max(...v).toFixed(3)}`;
    console.log(`| ${name} | ${f(r.seconds)} | ${g(r.triggers)} |`);
  }
}
