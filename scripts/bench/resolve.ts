/**
 * Resolution at repository scale: a generated index of 5,000 packages whose dependencies form
 * deep chains (each package needs its predecessor and a few older ones, through soname, binary
 * and pkgconfig providers), installed in a root as a file:// repository. Measures, min and median
 * of N runs:
 *   - resolution alone, in this process: loading the repository's package keys, then the
 *     transaction of the package at the end of the longest chain, including reading the chosen
 *     packages whole (goal < 100 ms);
 *   - the whole `dist/moss install --dry-run` process for it (goal < 400 ms).
 *
 *   bun scripts/bench/resolve.ts [--runs 10] [--packages 5000]
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { openSession } from "../../src/client/session.ts";
import { availableSources } from "../../src/client/repositories.ts";
import { Transaction } from "../../src/registry/transaction.ts";
import { FileType, metaRecordsFor, parseDependency, writeStone } from "../../src/stone/index.ts";
import { freshBinary } from "./binary.ts";

const { values: args } = parseArgs({ options: { runs: { type: "string", default: "10" }, packages: { type: "string", default: "5000" } } });
const runs = Number(args.runs);
const count = Number(args.packages);
const moss = freshBinary((line) => console.error(line));
const work = fs.mkdtempSync(path.join(os.tmpdir(), "moss-bench-resolve-"));

const KINDS = ["soname", "binary", "pkgconfig"] as const;
const provider = (i: number) => (KINDS[i % 3] === "soname" ? `soname(libp${i}.so.1(x86_64))` : `${KINDS[i % 3]}(p${i})`);
// A fixed pseudo-random sequence, so every run and machine resolves the same graph.
let seed = 12345;
const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);

const metas = [];
let edges = 0;
for (let i = 0; i < count; i++) {
  const depends = new Set<string>();
  if (i > 0) depends.add(provider(i - 1));
  for (let k = 0; k < 3 && i > 1; k++) depends.add(provider(Math.floor(random() * i)));
  edges += depends.size;
  metas.push(metaRecordsFor({
    name: `p${i}`, version: "1.0", release: 1, buildRelease: 1, architecture: "x86_64", summary: `package ${i}`, description: "generated",
    sourceId: `p${i}`, homepage: "https://example.org", licenses: ["MIT"], uri: `p${i}-1.0-1-1-x86_64.stone`,
    hash: i.toString(16).padStart(64, "0"), downloadSize: 1000,
    dependencies: [...depends].map((d) => parseDependency(d)), providers: [parseDependency(provider(i))],
  }));
}
const repoDir = path.join(work, "repo");
fs.mkdirSync(repoDir);
await writeStone(path.join(repoDir, "stone.index"), { fileType: FileType.Repository, metas });
const root = path.join(work, "root");
fs.mkdirSync(path.join(root, "etc", "moss", "repo.d"), { recursive: true });
fs.writeFileSync(path.join(root, "etc", "moss", "repo.d", "bench.kdl"), `bench {\n    uri "file://${repoDir}/stone.index"\n    priority 0\n}\n`);
const updated = Bun.spawnSync([moss, "-D", root, "repo", "update"]);
if (updated.exitCode !== 0) throw new Error(`repo update: ${updated.stdout}`);

const target = `p${count - 1}`;
const median = (samples: number[]) => samples.sort((a, b) => a - b)[Math.floor(samples.length / 2)]!;

const resolveSamples: number[] = [];
const loadSamples: number[] = [];
const graphSamples: number[] = [];
let closure = 0;
for (let i = 0; i < runs; i++) {
  // Each process starts on an empty heap: collect the previous run's garbage outside the timing.
  Bun.gc(true);
  const session = await openSession({ root, write: false });
  const started = Bun.nanoseconds();
  const sources = await availableSources(session);
  const loaded = Bun.nanoseconds();
  const transaction = new Transaction(sources);
  transaction.add([sources[0]!.keysProviding(`name(${target})`)[0]!.id]);
  const resolved = Bun.nanoseconds();
  closure = transaction.finalize().length;
  const done = Bun.nanoseconds();
  session.close();
  loadSamples.push((loaded - started) / 1e6);
  graphSamples.push((resolved - loaded) / 1e6);
  resolveSamples.push((done - started) / 1e6);
}

const processSamples: number[] = [];
for (let i = 0; i <= runs; i++) {
  const started = Bun.nanoseconds();
  const result = Bun.spawnSync([moss, "-D", root, "install", "--dry-run", "--json", target]);
  if (result.exitCode !== 0) throw new Error(`install --dry-run: ${result.stdout}`);
  if (i > 0) processSamples.push((Bun.nanoseconds() - started) / 1e6);
}
if (!process.env.KEEP_BENCH) fs.rmSync(work, { recursive: true, force: true }); else console.error(`kept ${work}`);

console.log(`${count} packages, ${edges} dependencies; installing ${target} selects ${closure} packages; ${runs} runs\n`);
console.log("| measure | min ms | median ms | goal |\n| --- | ---: | ---: | --- |");
const row = (label: string, samples: number[], goal: string) => console.log(`| ${label} | ${Math.min(...samples).toFixed(1)} | ${median(samples).toFixed(1)} | ${goal} |`);
row("loading the repository's package keys", loadSamples, "");
row("transaction graph", graphSamples, "");
row("resolution (keys + graph + reading the chosen packages whole)", resolveSamples, "< 100 ms");
row("`moss install --dry-run` process", processSamples, "< 400 ms");
