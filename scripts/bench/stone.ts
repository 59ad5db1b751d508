/**
 * Content decode throughput against the `zstd -d` floor (stone §11):
 *
 *   bun scripts/bench/stone.ts [--size-mib 256] [--runs 5] [--level 12] [--window-log 27] [--profile] [--json]
 *
 * Builds (once; cached under /tmp by its parameters) a `.stone` of real system files, then times,
 * interleaved, (a) `zstd -d -c` of exactly its content body to /dev/null, (b) `streamContent` with
 * the discard sink in this process (XXH3-64 of the body, zstd decode, XXH3-128 of every file) and
 * (c) `dist/moss inspect --check` as a whole process. `--profile` adds the stages of (b) alone.
 * Throughput ratio = floor time / our time: 1.0 matches the CLI, the goal is ≥ 0.8.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { READ_CHUNK_SIZE } from "../../src/constants.ts";
import { createXxh3_128, createXxh3_64 } from "../../src/hash/xxh3.ts";
import { metaRecordsFor, StoneReader, streamContent, writeStone, type ContentFile, type LayoutRecord } from "../../src/stone/index.ts";
import { LayoutEntryType } from "../../src/stone/types.ts";
import { zstdDecodeStream } from "../../src/zstd/index.ts";
import { freshBinary } from "./binary.ts";
import { describeContent, extractContentBody } from "./synthetic.ts";

const MiB = 1 << 20;
/** Directories walked for content, taken in turn so libraries, data and Python source mix. */
const CORPUS_ROOTS = ["/usr/lib/x86_64-linux-gnu", "/usr/share", "/usr/lib/python3", "/usr/lib/python3.11"];
/** Larger files are skipped: one would dominate the package. */
const MAX_FILE = 64 * MiB;
/** Level 19 takes ~200 s per 256 MiB on this machine; 13 ~75 s; 12 ~25 s (`zstd -T1 --long=27`). */
const DEFAULT_LEVEL = 12;
const CACHE_FORMAT = 1;

const { values: args } = parseArgs({
  options: {
    "size-mib": { type: "string", default: "256" },
    runs: { type: "string", default: "5" },
    level: { type: "string", default: String(DEFAULT_LEVEL) },
    "window-log": { type: "string", default: "27" },
    profile: { type: "boolean", default: false },
    json: { type: "boolean", default: false },
  },
});
const sizeMiB = Number(args["size-mib"]);
const runs = Number(args.runs);
const level = Number(args.level);
const windowLog = Number(args["window-log"]);
const log = (line: string) => process.stderr.write(`${line}\n`);

const moss = freshBinary(log);
const bench = await ensureBenchStone();
const plainSize = bench.plainSize;
log(`package: ${bench.path}\n  ${bench.files} files, plain ${fmtMiB(plainSize)}, stored ${fmtMiB(bench.storedSize)} (level ${level}, windowLog ${windowLog}, frame window ${fmtMiB(bench.windowSize)}${bench.singleSegment ? ", single segment" : ""})`);

type Job = { name: string; run: () => Promise<void> };
const devNull = Bun.file("/dev/null");
const jobs: Job[] = [
  { name: "zstd -d -c (floor)", run: () => spawnOk(["zstd", "-q", "-d", "-c", "--memory=2048MB", bench.zstPath]) },
  { name: "streamContent (in-process)", run: () => decodeInProcess(bench.path) },
  { name: "moss inspect --check (process)", run: () => spawnOk([moss, "inspect", "--check", bench.path]) },
];
if (args.profile) jobs.push(...profileJobs(bench.path));

const samples = new Map<string, number[]>(jobs.map((job) => [job.name, []]));
/** Per in-process run: CPU of this (main) thread and of Bun's worker pool, where zlib decodes. */
const cpuSplit: { mainMs: number; poolMs: number }[] = [];
log(`warm-up round, then ${runs} interleaved rounds`);
for (const job of jobs) await job.run();
for (let round = 0; round < runs; round++) {
  // Rotate the order so no job always runs right after the same neighbour.
  for (let i = 0; i < jobs.length; i++) {
    const job = jobs[(i + round) % jobs.length]!;
    const started = performance.now();
    await job.run();
    samples.get(job.name)!.push(performance.now() - started);
  }
}

const floor = stats(samples.get(jobs[0]!.name)!);
const results = jobs.map((job) => {
  const own = stats(samples.get(job.name)!);
  return {
    name: job.name,
    minMs: round1(own.min),
    medianMs: round1(own.median),
    minMBps: Math.round(plainSize / 1e6 / (own.min / 1000)),
    medianMBps: Math.round(plainSize / 1e6 / (own.median / 1000)),
    ratioMin: round2(floor.min / own.min),
    ratioMedian: round2(floor.median / own.median),
    samplesMs: samples.get(job.name)!.map(round1),
  };
});

const table = [
  `plain ${fmtMiB(plainSize)} (${bench.files} files), stored ${fmtMiB(bench.storedSize)}, zstd level ${level}, windowLog ${windowLog}; ${runs} runs, min / median; MB/s = 10^6 bytes of plain content per second; ratio = floor time / our time`,
  "",
  "| job | min ms | median ms | MB/s (min) | MB/s (median) | ratio (min) | ratio (median) |",
  "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
  ...results.map((r) => `| ${r.name} | ${r.minMs} | ${r.medianMs} | ${r.minMBps} | ${r.medianMBps} | ${r.ratioMin.toFixed(2)} | ${r.ratioMedian.toFixed(2)} |`),
].join("\n");
const inProcessRuns = cpuSplit.slice(1); // the warm-up run is not counted
const cpu = {
  mainThreadMs: stats(inProcessRuns.map((run) => run.mainMs)).median,
  poolThreadsMs: stats(inProcessRuns.map((run) => run.poolMs)).median,
};
const cpuLine = `\nstreamContent CPU (median): main thread ${cpu.mainThreadMs} ms (reading, XXH3-64, splitting, XXH3-128, stream plumbing), Bun pool threads ${cpu.poolThreadsMs} ms (zstd decode)`;
if (args.json) {
  log(table + cpuLine);
  console.log(JSON.stringify({
    package: { path: bench.path, files: bench.files, plainSize, storedSize: bench.storedSize, level, windowLog, frameWindow: bench.windowSize },
    runs, machine: { cpus: os.cpus().length, bun: Bun.version }, results, inProcessCpu: cpu,
  }, null, 2));
} else {
  console.log(table + cpuLine);
}

// ---- the jobs --------------------------------------------------------------------------------

async function spawnOk(cmd: string[]): Promise<void> {
  const child = Bun.spawn(cmd, { stdout: devNull, stderr: "pipe" });
  const status = await child.exited;
  if (status !== 0) throw new Error(`${cmd.join(" ")} exited ${status}: ${await new Response(child.stderr).text()}`);
}

async function decodeInProcess(stonePath: string): Promise<void> {
  using reader = StoneReader.open(stonePath);
  const { index } = reader.records();
  const before = threadCpu();
  const summary = await streamContent(reader, index);
  const after = threadCpu();
  cpuSplit.push({ mainMs: after.mainMs - before.mainMs, poolMs: after.poolMs - before.poolMs });
  if (summary.plainBytes !== plainSize) throw new Error(`decoded ${summary.plainBytes} bytes, expected ${plainSize}`);
}

/** CPU time (user + system, 10 ms ticks) of the main thread and of the "Bun Pool" threads, from /proc. */
function threadCpu(): { mainMs: number; poolMs: number } {
  let mainMs = 0;
  let poolMs = 0;
  for (const tid of fs.readdirSync("/proc/self/task")) {
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
    } catch {
      continue; // the thread ended
    }
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ms = (Number(fields[11]) + Number(fields[12])) * 10;
    if (Number(tid) === process.pid) mainMs += ms;
    else if (stat.includes("(Bun Pool")) poolMs += ms;
  }
  return { mainMs, poolMs };
}

/** The stages of streamContent one at a time, each a superset of the one before. */
function profileJobs(stonePath: string): Job[] {
  const body = (reader: StoneReader) => {
    const payload = reader.contentPayload!;
    return { start: payload.bodyOffset, end: payload.bodyOffset + payload.header.storedSize };
  };
  async function* read(reader: StoneReader, hash: boolean) {
    using hasher = await createXxh3_64();
    const { start, end } = body(reader);
    for (let pos = start; pos < end; pos += READ_CHUNK_SIZE) {
      const chunk = reader.source.read(pos, Math.min(READ_CHUNK_SIZE, end - pos));
      if (hash) hasher.update(chunk);
      yield chunk;
    }
  }
  const drain = async (chunks: AsyncIterable<Uint8Array>, onChunk?: (chunk: Uint8Array) => void) => {
    for await (const chunk of chunks) onChunk?.(chunk);
  };
  const withReader = (fn: (reader: StoneReader) => Promise<void>) => async () => {
    using reader = StoneReader.open(stonePath);
    await fn(reader);
  };
  return [
    { name: "profile: read body", run: withReader((r) => drain(read(r, false))) },
    { name: "profile: read + XXH3-64", run: withReader((r) => drain(read(r, true))) },
    { name: "profile: read + zstdDecodeStream", run: withReader((r) => drain(zstdDecodeStream(read(r, false)))) },
    {
      name: "profile: read + XXH3-64 + decode + XXH3-128", run: withReader(async (r) => {
        using fileHasher = await createXxh3_128();
        await drain(zstdDecodeStream(read(r, true)), (chunk) => fileHasher.update(chunk));
      }),
    },
  ];
}

// ---- the package -----------------------------------------------------------------------------

interface BenchStone {
  path: string;
  zstPath: string;
  files: number;
  plainSize: number;
  storedSize: number;
  windowSize: number;
  singleSegment: boolean;
}

async function ensureBenchStone(): Promise<BenchStone> {
  const dir = path.join(os.tmpdir(), "moss-bench-stone", `v${CACHE_FORMAT}-size${sizeMiB}-level${level}-wlog${windowLog}`);
  const manifestPath = path.join(dir, "manifest.json");
  if (fs.existsSync(manifestPath)) {
    const cached = JSON.parse(fs.readFileSync(manifestPath, "utf8")) as BenchStone;
    if (fs.existsSync(cached.path) && fs.existsSync(cached.zstPath)) return cached;
  }
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const started = performance.now();
  const corpus = await collectCorpus(sizeMiB * MiB);
  log(`building ${dir}: ${corpus.length} files from ${CORPUS_ROOTS.join(", ")} at level ${level}...`);
  const stonePath = path.join(dir, "bench-content-1-1-1-x86_64.stone");
  const content: ContentFile[] = corpus.map((file) => ({ digest: file.digest, size: file.size, chunks: () => readChunks(file.path, file.size) }));
  const layout: LayoutRecord[] = corpus.map((file) => ({
    uid: 0, gid: 0, mode: 0o100644, tag: 0, entryType: LayoutEntryType.Regular, digest: file.digest, target: path.relative("/usr", file.path),
  }));
  const metas = [metaRecordsFor({
    name: "bench-content", version: "1", release: 1, buildRelease: 1, architecture: "x86_64",
    summary: "System files for the decode benchmark", description: "Regular files from /usr, for scripts/bench/stone.ts.",
    sourceId: "bench-content", homepage: "https://example.invalid/", licenses: ["various"],
  })];
  await writeStone(stonePath, { fileType: 1, metas, layout, content }, { level, windowLog });
  const zstPath = path.join(dir, "content.zst");
  extractContentBody(stonePath, zstPath);
  const described = describeContent(stonePath);
  const result: BenchStone = {
    path: stonePath, zstPath, files: corpus.length, plainSize: described.plainSize, storedSize: described.storedSize,
    windowSize: described.frame.windowSize, singleSegment: described.frame.singleSegment,
  };
  fs.writeFileSync(manifestPath, JSON.stringify(result, null, 2));
  log(`built in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return result;
}

interface CorpusFile { path: string; size: number; digest: string }

/** Regular files under the roots, in sorted order, taken from each root in turn, unique by digest. */
async function collectCorpus(budget: number): Promise<CorpusFile[]> {
  const lists = CORPUS_ROOTS.filter((root) => fs.existsSync(root)).map(regularFiles);
  const seen = new Set<string>();
  const picked: CorpusFile[] = [];
  using hasher = await createXxh3_128();
  let total = 0;
  for (let i = 0; total < budget && lists.some((list) => i < list.length); i++) {
    for (const list of lists) {
      const file = list[i];
      if (!file || total + file.size > budget) continue;
      let bytes: Uint8Array;
      try {
        bytes = fs.readFileSync(file.path);
      } catch {
        continue; // unreadable: not part of the corpus
      }
      hasher.reset();
      hasher.update(bytes);
      const digest = hasher.digestHex();
      if (bytes.length !== file.size || seen.has(digest)) continue;
      seen.add(digest);
      picked.push({ path: file.path, size: file.size, digest });
      total += file.size;
    }
  }
  return picked;
}

function regularFiles(root: string): { path: string; size: number }[] {
  const found: { path: string; size: number }[] = [];
  const walk = (dir: string) => {
    let names: string[];
    try {
      names = fs.readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const name of names) {
      const full = path.join(dir, name);
      const stat = fs.lstatSync(full, { throwIfNoEntry: false });
      if (stat?.isDirectory()) walk(full);
      else if (stat?.isFile() && stat.size > 0 && stat.size <= MAX_FILE) found.push({ path: full, size: stat.size });
    }
  };
  walk(root);
  return found;
}

/** Fresh buffers: the writer's zstd stream may still hold the previous chunk. */
function* readChunks(filePath: string, size: number): Generator<Uint8Array> {
  const fd = fs.openSync(filePath, "r");
  try {
    for (let left = size; ; ) {
      const chunk = new Uint8Array(Math.max(1, Math.min(MiB, left)));
      const count = fs.readSync(fd, chunk, 0, chunk.length, null);
      if (count === 0) return;
      left -= count;
      yield chunk.subarray(0, count);
    }
  } finally {
    fs.closeSync(fd);
  }
}

// ---- numbers ---------------------------------------------------------------------------------

function stats(values: number[]): { min: number; median: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return { min: sorted[0]!, median: sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2 };
}
function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
function fmtMiB(bytes: number): string {
  return `${(bytes / MiB).toFixed(1)} MiB`;
}
