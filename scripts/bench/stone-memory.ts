/**
 * Peak memory of `dist/moss extract` and `dist/moss inspect --check` on large packages (stone §4, §11):
 *
 *   bun scripts/bench/stone-memory.ts [--size-mib 1024] [--runs 3] [--level 3] [--keep] [--json]
 *
 * Two packages with the same synthetic content (scripts/bench/synthetic.ts, generated lazily):
 * (a) our writer's default frame, windowLog 27, so the decoder holds a 128 MiB window whatever the
 *     size: goal peak RSS < 256 MiB;
 * (b) the Rust writer's frame, windowLog 31 with the content size pledged, which makes it
 *     single-segment (window = content size; checked in the frame header): goal ≤ content + 128 MiB.
 * Peak RSS is the command's `ru_maxrss` as GNU `/usr/bin/time -f %M` reports it (peak-rss.ts says
 * why not Bun.spawn's own maxRSS: after writing a GiB package this process is itself larger than
 * what it measures). Everything lives in one temporary directory that is removed at the end.
 * Exit status: 0 when every goal is met, 1 when one is missed, 2 when the disk has < 8 GiB free.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { freshBinary } from "./binary.ts";
import { peakRss } from "./peak-rss.ts";
import { writeSyntheticStone, type SyntheticStone } from "./synthetic.ts";

const MiB = 1 << 20;
const GiB = 1 << 30;
const REQUIRED_FREE = 8 * GiB;

const { values: args } = parseArgs({
  options: {
    "size-mib": { type: "string", default: "1024" },
    runs: { type: "string", default: "3" },
    level: { type: "string", default: "3" },
    keep: { type: "boolean", default: false },
    json: { type: "boolean", default: false },
  },
});
const plainBytes = Number(args["size-mib"]) * MiB;
const runs = Number(args.runs);
const level = Number(args.level);
const log = (line: string) => process.stderr.write(`${line}\n`);

const tmp = fs.realpathSync(os.tmpdir());
const free = freeBytes(tmp);
if (free < REQUIRED_FREE) {
  log(`Not running: this benchmark writes two packages and extracts ${fmtMiB(plainBytes)} twice, and wants ${fmtGiB(REQUIRED_FREE)} free in ${tmp}; only ${fmtGiB(free)} is free there.`);
  process.exit(2);
}
const moss = freshBinary(log);
const work = fs.mkdtempSync(path.join(tmp, "moss-bench-memory-"));
const cleanup = () => {
  if (!args.keep) fs.rmSync(work, { recursive: true, force: true });
};
process.on("SIGINT", () => {
  cleanup();
  process.exit(130);
});

interface Row {
  frame: string;
  command: string;
  plainSize: number;
  storedSize: number;
  window: number;
  singleSegment: boolean;
  peakRssMiB: number[];
  wallMs: number[];
  goalMiB: number;
  ok: boolean;
}
const rows: Row[] = [];
let method = "";
try {
  const kinds = [
    { frame: "windowLog 27 (moss-ts writer)", windowLog: 27, goal: () => 256 },
    { frame: "windowLog 31, single segment (Rust writer)", windowLog: 31, goal: (stone: SyntheticStone) => stone.plainSize / MiB + 128 },
  ];
  for (const kind of kinds) {
    const stonePath = path.join(work, `synthetic-wlog${kind.windowLog}.stone`);
    const started = performance.now();
    const stone = await writeSyntheticStone(stonePath, { plainBytes, windowLog: kind.windowLog, level });
    log(`${kind.frame}: wrote ${stone.files.length} files, ${fmtMiB(stone.plainSize)} → ${fmtMiB(stone.storedSize)} in ${((performance.now() - started) / 1000).toFixed(1)} s; frame window ${fmtMiB(stone.frame.windowSize)}, single segment ${stone.frame.singleSegment}, content size ${stone.frame.contentSize}`);
    checkFrame(stone, kind.windowLog);
    const commands = [
      { command: "moss extract", argv: (out: string) => [moss, "extract", "-o", out, stonePath] },
      { command: "moss inspect --check", argv: () => [moss, "inspect", "--check", stonePath] },
    ];
    for (const { command, argv } of commands) {
      const row: Row = {
        frame: kind.frame, command, plainSize: stone.plainSize, storedSize: stone.storedSize, window: stone.frame.windowSize,
        singleSegment: stone.frame.singleSegment, peakRssMiB: [], wallMs: [], goalMiB: kind.goal(stone), ok: true,
      };
      for (let run = 0; run < runs; run++) {
        const out = path.join(work, "extracted");
        fs.rmSync(out, { recursive: true, force: true });
        const measured = await peakRss(argv(out));
        if (measured.status !== 0) throw new Error(`${command} exited ${measured.status}: ${measured.stderr}`);
        if (command === "moss extract") checkExtracted(out, stone);
        fs.rmSync(out, { recursive: true, force: true });
        row.peakRssMiB.push(Math.round(measured.peakRss / MiB));
        row.wallMs.push(Math.round(measured.wallMs));
        method = measured.method;
      }
      const peak = Math.max(...row.peakRssMiB);
      row.ok = kind.windowLog === 31 ? peak <= row.goalMiB : peak < row.goalMiB;
      rows.push(row);
      log(`  ${command}: peak RSS ${row.peakRssMiB.join(", ")} MiB; wall ${row.wallMs.join(", ")} ms`);
    }
    fs.rmSync(stonePath, { force: true });
  }
} finally {
  cleanup();
}

const table = [
  `Peak RSS = ru_maxrss of the command (${method}); ${runs} run(s) each, max (median); synthetic content, zstd level ${level}; ${os.cpus().length} CPUs, Bun ${Bun.version}`,
  "",
  "| frame | command | plain size | stored size | window | peak RSS max (median) | wall min (median) | goal | met |",
  "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- |",
  ...rows.map((r) =>
    `| ${r.frame} | ${r.command} | ${fmtMiB(r.plainSize)} | ${fmtMiB(r.storedSize)} | ${fmtMiB(r.window)} | ${Math.max(...r.peakRssMiB)} MiB (${median(r.peakRssMiB)}) | ${(Math.min(...r.wallMs) / 1000).toFixed(2)} s (${(median(r.wallMs) / 1000).toFixed(2)}) | ${r.frame.includes("31") ? "≤" : "<"} ${Math.round(r.goalMiB)} MiB | ${r.ok ? "yes" : "**no**"} |`),
].join("\n");
if (args.json) {
  log(table);
  console.log(JSON.stringify({ plainBytes, level, runs, method, machine: { cpus: os.cpus().length, bun: Bun.version }, rows }, null, 2));
} else {
  console.log(table);
}
process.exit(rows.every((r) => r.ok) ? 0 : 1);

// ---- checks ----------------------------------------------------------------------------------

/** The frame must be what the row claims: a 128 MiB window, or one segment as large as the content. */
function checkFrame(stone: SyntheticStone, windowLog: number): void {
  const { frame } = stone;
  const fine = windowLog === 31
    ? frame.singleSegment && frame.contentSize === stone.plainSize && frame.windowSize === stone.plainSize
    : !frame.singleSegment && frame.windowSize === 2 ** windowLog;
  if (!fine) throw new Error(`unexpected frame header for windowLog ${windowLog}: ${JSON.stringify(frame)}`);
}

/** Every file present with its size (digests are checked by test/stone/memory.test.ts). */
function checkExtracted(out: string, stone: SyntheticStone): void {
  const [root] = fs.readdirSync(out);
  for (const file of stone.files) {
    const size = fs.statSync(path.join(out, root!, "usr", file.target)).size;
    if (size !== file.size) throw new Error(`extracted ${file.target} has ${size} bytes, expected ${file.size}`);
  }
}

function freeBytes(dir: string): number {
  const output = execFileSync("df", ["-B1", "--output=avail", dir], { encoding: "utf8" });
  return Number(output.trim().split("\n").at(-1));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : Math.round((sorted[mid - 1]! + sorted[mid]!) / 2);
}
function fmtMiB(bytes: number): string {
  return `${(bytes / MiB).toFixed(1)} MiB`;
}
function fmtGiB(bytes: number): string {
  return `${(bytes / GiB).toFixed(1)} GiB`;
}
