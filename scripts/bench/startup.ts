/**
 * Start-up cost and size of the binary:
 *
 *   bun scripts/bench/startup.ts [--runs 20]
 *
 * Wall time of `dist/moss --version` and of `dist/moss inspect` on a small fixture (a command that
 * loads citty, the stone reader and hash-wasm), min and median of N runs, and the binary's size.
 */
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { freshBinary, ROOT } from "./binary.ts";

const { values: args } = parseArgs({ options: { runs: { type: "string", default: "20" } } });
const runs = Number(args.runs);
const moss = freshBinary((line) => console.error(line));
const fixture = path.join(ROOT, "..", "shared", "fixtures", fs.readdirSync(path.join(ROOT, "..", "shared", "fixtures")).find((f) => f.endsWith(".stone"))!);

function time(argv: string[]): number[] {
  const samples: number[] = [];
  Bun.spawnSync([moss, ...argv], { stdout: "ignore" }); // warm the page cache
  for (let i = 0; i < runs; i++) {
    const started = Bun.nanoseconds();
    const result = Bun.spawnSync([moss, ...argv], { stdout: "ignore", stderr: "ignore" });
    samples.push((Bun.nanoseconds() - started) / 1e6);
    if (result.exitCode !== 0) throw new Error(`moss ${argv.join(" ")} exited ${result.exitCode}`);
  }
  return samples.sort((a, b) => a - b);
}

const size = fs.statSync(moss).size;
console.log(`dist/moss: ${size.toLocaleString("en")} bytes (${(size / 2 ** 20).toFixed(1)} MiB); ${runs} runs each\n`);
console.log("| command | min ms | median ms |\n| --- | ---: | ---: |");
for (const argv of [["--version"], ["inspect", fixture]]) {
  const samples = time(argv);
  const label = argv.map((a) => (a === fixture ? path.basename(a) : a)).join(" ");
  console.log(`| moss ${label} | ${samples[0]!.toFixed(1)} | ${samples[Math.floor(samples.length / 2)]!.toFixed(1)} |`);
}
