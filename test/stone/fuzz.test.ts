/**
 * Hostile input for the reader: every truncation, seeded bit flips, garbage and absurd size fields.
 * The only acceptable outcomes are a StoneError (code `STONE_*`, message naming the file) or a
 * valid read, and a valid read only where the format leaves bytes unchecked. Everything runs on
 * in-memory buffers; RSS is sampled throughout to prove that no size field is trusted for an
 * allocation.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { xxh3_128Hex, xxh3_64 } from "../../src/hash/xxh3.ts";
import {
  Compression, FileType, LayoutEntryType, MetaPrimitive, packageFromMeta, PayloadKind, StoneError, StoneReader,
  streamContent, writeStone,
  type ContentSummary, type PayloadEntry, type StoneRecords,
} from "../../src/stone/index.ts";

const FIXTURES = "/work/shared/fixtures";
const KNOWN_KINDS = new Set<number>(Object.values(PayloadKind));
const KNOWN_COMPRESSIONS = new Set<number>(Object.values(Compression));
const RSS_BUDGET = 64 * 1024 * 1024;
/** bun 1.4.5 ignores `[test] timeout` in bunfig.toml, so the long loops say it themselves. */
const LONG = 120_000;

// ---------------------------------------------------------------------------------------------
// Subjects, outcomes, memory

interface Subject {
  label: string;
  /** The name the reader is given; every error message must contain it. */
  name: string;
  bytes: Uint8Array;
  payloads: PayloadEntry[];
  fileType: number;
  baseline: Fingerprint;
  summary: ContentSummary;
}

interface FullRead {
  header: StoneReader["header"];
  payloads: PayloadEntry[];
  records: StoneRecords;
  summary: ContentSummary;
}

/** What the brief calls "the full read": header chain, every record payload, package view, content. */
async function fullRead(name: string, bytes: Uint8Array): Promise<FullRead> {
  const reader = StoneReader.fromBytes(name, bytes);
  const records = reader.records();
  const metaPayloads = reader.payloads.filter((p) => p.header.kind === PayloadKind.Meta && !records.skipped.includes(p));
  records.metas.forEach((meta, i) => packageFromMeta(meta, { file: name, payload: reader.describe(metaPayloads[i]!) }));
  const summary = await streamContent(reader, records.index);
  return { header: reader.header, payloads: reader.payloads, records, summary };
}

type Outcome = { valid: true; read: FullRead } | { valid: false; code: string };

/** Runs one case; anything but a well-formed StoneError or a valid read is recorded as a problem. */
async function attempt(name: string, bytes: Uint8Array, problems: string[], what: string): Promise<Outcome> {
  try {
    return { valid: true, read: await fullRead(name, bytes) };
  } catch (error) {
    return failure(name, error, problems, what);
  } finally {
    afterCase();
  }
}

function failure(name: string, error: unknown, problems: string[], what: string): Outcome {
  if (!(error instanceof StoneError)) {
    problems.push(`${what}: ${(error as Error)?.constructor?.name} that is not a StoneError: ${(error as Error)?.message}`);
    return { valid: false, code: "NOT_A_STONE_ERROR" };
  }
  if (!/^STONE_[A-Z0-9_]+$/.test(error.code)) problems.push(`${what}: code ${error.code}`);
  if (error.file !== name || !error.message.startsWith(`${name}: `)) problems.push(`${what}: message does not name the file: ${error.message}`);
  return { valid: false, code: error.code };
}

type Fingerprint = Record<"metas" | "layout" | "index" | "attributes", string>;
const json = (value: unknown) => JSON.stringify(value, (_, v) => (typeof v === "bigint" ? `${v}n` : v instanceof Uint8Array ? [...v] : v));
function fingerprint(records: StoneRecords): Fingerprint {
  return { metas: json(records.metas), layout: json(records.layout), index: json(records.index), attributes: json(records.attributes) };
}
const FIELD_OF_KIND: Record<number, keyof Fingerprint> = {
  [PayloadKind.Meta]: "metas", [PayloadKind.Layout]: "layout", [PayloadKind.Index]: "index", [PayloadKind.Attributes]: "attributes",
};

const memory = { baseline: 0, peak: 0, cases: 0, collectedAt: 0 };
function sampleRss() {
  const rss = process.memoryUsage().rss;
  if (rss > memory.peak) memory.peak = rss;
}
/**
 * Called after every case: RSS is sampled often, and garbage is collected every 50 ms, so the
 * peak shows what cases allocate and hold rather than how far the collector has fallen behind
 * (a thousand decoded contents leave ~50 MiB of native buffers until Bun collects them).
 */
function afterCase() {
  memory.cases++;
  if ((memory.cases & 7) === 0) sampleRss();
  const now = performance.now();
  if (now - memory.collectedAt > 50) {
    sampleRss();
    Bun.gc(true);
    memory.collectedAt = performance.now();
  }
}

class Tally {
  readonly counts = new Map<string, number>();
  readonly problems: string[] = [];
  add(key: string) {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }
  get total() {
    return [...this.counts.values()].reduce((a, b) => a + b, 0);
  }
  get(key: string) {
    return this.counts.get(key) ?? 0;
  }
  summary(label: string) {
    const parts = [...this.counts.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`);
    console.log(`${label}: ${this.total} cases: ${parts.join(" ")}`);
  }
}

/** mulberry32: small, fast, and the same sequence everywhere for a given seed. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function subjectOf(label: string, bytes: Uint8Array): Promise<Subject> {
  const name = `${label}.stone`;
  const read = await fullRead(name, bytes);
  return { label, name, bytes, payloads: read.payloads, fileType: read.header.fileType, baseline: fingerprint(read.records), summary: read.summary };
}

const subjects: Subject[] = [];
const root = fs.mkdtempSync(path.join(os.tmpdir(), "moss-ts-stone-fuzz-"));

beforeAll(async () => {
  for (const [label, file] of [
    ["bash-completion", "bash-completion-2.11-1-1-x86_64.stone"],
    ["italian-pizza", "conflicts/italian-pizza-1-1-1-x86_64.stone"],
    ["pineapple", "conflicts/pineapple-1-1-1-x86_64.stone"],
  ] as const) {
    subjects.push(await subjectOf(label, new Uint8Array(fs.readFileSync(path.join(FIXTURES, file)))));
  }
  // Warm every path until the allocator holds its working set (a hundred failing content
  // streams), then take the baseline the whole file is measured against.
  for (const subject of subjects) await fullRead(subject.name, subject.bytes);
  const bash = subjects[0]!;
  for (let i = 0; i < 128; i++) {
    const bytes = bash.bytes.slice();
    bytes[bash.payloads[3]!.bodyOffset + i * 1000]! ^= 0x10;
    await fullRead(bash.name, bytes).catch(() => {});
    if ((i & 31) === 31) Bun.gc(true);
  }
  Bun.gc(true);
  memory.baseline = memory.peak = process.memoryUsage().rss;
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

// ---------------------------------------------------------------------------------------------
// Where a flipped bit may go unnoticed

/**
 * The bytes whose corruption a correct reader cannot see, with the reason. Everything else is
 * covered by the integrity bytes, the header chain, a checksum, a size or a count. The meta pad
 * byte and the layout padding are unchecked by the record decoders, but in a file they sit inside
 * a checksummed body (compressed or not), so a flip there must still fail: they are exercised by
 * the re-checksummed tests below instead.
 */
function uncheckedReason(subject: Subject, offset: number, mask: number): string | undefined {
  if (offset === 27) return "file-type"; // any value is accepted, as Rust does (stone §2.2)
  for (const payload of subject.payloads) {
    const rel = offset - payload.headerOffset;
    if (rel < 0 || rel >= 32) continue;
    if (rel === 28 || rel === 29) return "payload-version";
    if (rel >= 24 && rel < 28 && payload.header.kind === PayloadKind.Content) return "content-num-records";
    if (rel === 30 && !KNOWN_KINDS.has(payload.header.kind ^ mask)) return "skipped-kind";
    if (rel === 31 && !KNOWN_COMPRESSIONS.has(payload.header.compression ^ mask)) return "skipped-compression";
  }
  return undefined;
}

/** A valid read of a flipped file: it must be explained by an unchecked byte and change nothing else. */
function checkValidFlip(subject: Subject, offset: number, mask: number, read: FullRead, problems: string[]): string {
  const what = `${subject.label}: byte ${offset} ^ 0x${mask.toString(16)}`;
  const reason = uncheckedReason(subject, offset, mask);
  if (!reason) {
    problems.push(`${what}: read as valid, but that byte is checked by the format`);
    return "valid-unexplained";
  }
  const payload = subject.payloads.find((p) => offset >= p.headerOffset && offset < p.headerOffset + 32);
  const skipped = read.records.skipped.map((p) => p.ordinal);
  const expectSkipped = reason.startsWith("skipped-") ? [payload!.ordinal] : [];
  if (json(skipped) !== json(expectSkipped)) problems.push(`${what}: skipped payloads ${json(skipped)}, expected ${json(expectSkipped)}`);
  const actual = fingerprint(read.records);
  for (const field of Object.keys(actual) as (keyof Fingerprint)[]) {
    const lost = reason.startsWith("skipped-") && FIELD_OF_KIND[payload!.header.kind] === field;
    const expected = lost ? fingerprint({ metas: [], layout: [], index: [], attributes: [], skipped: [] })[field] : subject.baseline[field];
    if (actual[field] !== expected) problems.push(`${what} (${reason}): ${field} records changed`);
  }
  if (reason === "file-type" && read.header.fileType !== (subject.fileType ^ mask)) problems.push(`${what}: file type not reported as read`);
  if (reason === "payload-version" && read.payloads[payload!.ordinal]!.header.version !== (1 ^ (offset - payload!.headerOffset === 28 ? mask << 8 : mask))) {
    problems.push(`${what}: payload version not reported as read`);
  }
  // A skipped index leaves the content without records: only an empty content can still read.
  const indexSkipped = reason.startsWith("skipped-") && payload!.header.kind === PayloadKind.Index;
  const expectedSummary = indexSkipped ? { ...subject.summary, files: 0 } : subject.summary;
  if (json(read.summary) !== json(expectedSummary)) problems.push(`${what}: content summary ${json(read.summary)}, expected ${json(expectedSummary)}`);
  return reason;
}

async function flipCase(subject: Subject, offset: number, bit: number, tally: Tally) {
  const bytes = subject.bytes.slice();
  const mask = 1 << bit;
  bytes[offset]! ^= mask;
  const outcome = await attempt(subject.name, bytes, tally.problems, `${subject.label}: byte ${offset} bit ${bit}`);
  tally.add(outcome.valid ? `valid:${checkValidFlip(subject, offset, mask, outcome.read, tally.problems)}` : outcome.code);
}

const subject = (label: string) => subjects.find((s) => s.label === label)!;
const LABELS = ["bash-completion", "italian-pizza", "pineapple"];
const FLIP_SEEDS: Record<string, number> = { "bash-completion": 0x5eed0001, "italian-pizza": 0x5eed0002, pineapple: 0x5eed0003 };
const FLIPS = 2000;

// ---------------------------------------------------------------------------------------------

describe("truncation", () => {
  for (const label of LABELS) {
    test(`${label}: every length from 0 to size - 1 is a STONE_TRUNCATED error`, async () => {
      const { name, bytes } = subject(label);
      const tally = new Tally();
      for (let length = 0; length < bytes.length; length++) {
        const outcome = await attempt(name, bytes.subarray(0, length), tally.problems, `${label}: cut at ${length}`);
        tally.add(outcome.valid ? "valid" : outcome.code);
      }
      sampleRss();
      tally.summary(`${label} truncations`);
      expect(tally.problems.slice(0, 20)).toEqual([]);
      expect(tally.total).toBe(bytes.length);
      expect([...tally.counts.keys()]).toEqual(["STONE_TRUNCATED"]);
    }, LONG);
  }
});

describe("bit flips", () => {
  for (const label of LABELS) {
    const seed = FLIP_SEEDS[label]!;
    test(`${label}: ${FLIPS} seeded bit flips (seed 0x${seed.toString(16)}) are errors or reads explained by unchecked bytes`, async () => {
      const s = subject(label);
      const random = prng(seed);
      const tally = new Tally();
      for (let i = 0; i < FLIPS; i++) {
        await flipCase(s, Math.floor(random() * s.bytes.length), Math.floor(random() * 8), tally);
      }
      sampleRss();
      tally.summary(`${label} random flips (seed 0x${seed.toString(16)})`);
      expect(tally.problems.slice(0, 20)).toEqual([]);
      expect(tally.total).toBe(FLIPS);
      expect(tally.get("STONE_CHECKSUM")).toBeGreaterThan(FLIPS / 2);
    }, LONG);

    test(`${label}: every bit of every header`, async () => {
      const s = subject(label);
      const tally = new Tally();
      const headerStarts = [0, ...s.payloads.map((p) => p.headerOffset)];
      for (const start of headerStarts) {
        for (let offset = start; offset < start + 32; offset++) {
          for (let bit = 0; bit < 8; bit++) await flipCase(s, offset, bit, tally);
        }
        sampleRss();
      }
      tally.summary(`${label} header flips`);
      expect(tally.problems.slice(0, 20)).toEqual([]);
      expect(tally.total).toBe(headerStarts.length * 32 * 8);
      // What the format leaves unchecked must really read, not fail: Rust accepts all of these.
      expect(tally.get("valid:file-type")).toBe(8);
      expect(tally.get("valid:payload-version")).toBe(s.payloads.length * 16);
      expect(tally.get("valid:content-num-records")).toBe(32);
    }, LONG);
  }

  for (const label of ["italian-pizza", "pineapple"]) {
    test(`${label}: every bit of the whole file`, async () => {
      const s = subject(label);
      const tally = new Tally();
      for (let offset = 0; offset < s.bytes.length; offset++) {
        for (let bit = 0; bit < 8; bit++) await flipCase(s, offset, bit, tally);
      }
      tally.summary(`${label} exhaustive flips`);
      expect(tally.problems.slice(0, 20)).toEqual([]);
      expect(tally.total).toBe(s.bytes.length * 8);
    }, LONG);
  }
});

// ---------------------------------------------------------------------------------------------
// Corrupt bodies whose checksum has been made to match: the decoders themselves must hold.

function withChecksum(bytes: Uint8Array, payload: PayloadEntry): Uint8Array {
  const body = bytes.subarray(payload.bodyOffset, payload.bodyOffset + payload.header.storedSize);
  new DataView(bytes.buffer, bytes.byteOffset).setBigUint64(payload.headerOffset + 16, xxh3_64(body));
  return bytes;
}

async function rechecksummedFlip(s: Subject, payload: PayloadEntry, offset: number, bit: number, tally: Tally) {
  const bytes = s.bytes.slice();
  bytes[offset]! ^= 1 << bit;
  const outcome = await attempt(s.name, withChecksum(bytes, payload), tally.problems, `${s.label}: body byte ${offset} bit ${bit} (re-checksummed)`);
  tally.add(outcome.valid ? "valid" : outcome.code);
  return outcome;
}

describe("corrupt bodies with a matching checksum", () => {
  for (const label of LABELS) {
    const seed = 0xb0d1e500 + LABELS.indexOf(label);
    test(`${label}: 600 seeded flips inside zstd bodies (seed 0x${seed.toString(16)})`, async () => {
      const s = subject(label);
      const random = prng(seed);
      const tally = new Tally();
      for (let i = 0; i < 600; i++) {
        const payload = s.payloads[i % s.payloads.length]!;
        const offset = payload.bodyOffset + Math.floor(random() * payload.header.storedSize);
        await rechecksummedFlip(s, payload, offset, Math.floor(random() * 8), tally);
      }
      tally.summary(`${label} re-checksummed body flips`);
      expect(tally.problems.slice(0, 20)).toEqual([]);
      expect(tally.get("STONE_CHECKSUM")).toBe(0);
    }, LONG);
  }

  test("an uncompressed stone: every bit of every record body; pad bytes are ignored, the rest checked or decoded", async () => {
    const file = path.join(root, "plain.stone");
    await writeStone(file, {
      fileType: FileType.Binary,
      metas: [[
        { tag: 1, value: { type: "string", value: "plain ✓" } },
        { tag: 3, value: { type: "string", value: "1" } },
        { tag: 11, value: { type: "int", primitive: MetaPrimitive.Uint64, value: 3n } },
        { tag: 13, value: { type: "int", primitive: MetaPrimitive.Int8, value: 1n } },
        { tag: 2, value: { type: "string", value: "x86_64" } },
        { tag: 4, value: { type: "string", value: "" } },
        { tag: 5, value: { type: "string", value: "d" } },
        { tag: 7, value: { type: "string", value: "plain" } },
        { tag: 6, value: { type: "string", value: "h" } },
        { tag: 8, value: { type: "dependency", value: { kind: "soname", kindValue: 1, name: "libc.so.6(x86_64)" } } },
        { tag: 9, value: { type: "provider", value: { kind: "binary", kindValue: 6, name: "plain" } } },
        { tag: 77, value: { type: "unknown", primitive: 99, bytes: new Uint8Array([1, 2, 3]) } },
      ]],
      layout: [
        { uid: 0, gid: 0, mode: 0o100644, tag: 0, entryType: LayoutEntryType.Regular, digest: "99aa06d3014798d86001c324468d497f", target: "share/e" },
        { uid: 0, gid: 0, mode: 0o120777, tag: 0, entryType: LayoutEntryType.Symlink, source: "e", target: "share/l" },
        { uid: 0, gid: 0, mode: 0o040755, tag: 0, entryType: LayoutEntryType.Directory, target: "share/d" },
      ],
      attributes: [{ key: new Uint8Array([107]), value: new Uint8Array([118, 0]) }],
      content: [
        { digest: "99aa06d3014798d86001c324468d497f", size: 0, chunks: () => [] },
        { digest: await hash128("abc"), size: 3, chunks: () => [new TextEncoder().encode("abc")] },
      ],
    }, { compression: "none" });
    const s = await subjectOf("plain", new Uint8Array(fs.readFileSync(file)));
    expect(s.payloads.every((p) => p.header.compression === Compression.None)).toBe(true);

    const pads = padOffsets(s);
    expect(pads.size).toBe(12 + 3 * 11);
    const tally = new Tally();
    for (const payload of s.payloads) {
      for (let offset = payload.bodyOffset; offset < payload.bodyOffset + payload.header.storedSize; offset++) {
        for (let bit = 0; bit < 8; bit++) {
          const outcome = await rechecksummedFlip(s, payload, offset, bit, tally);
          if (pads.has(offset)) {
            if (!outcome.valid) tally.problems.push(`pad byte ${offset} bit ${bit}: ${outcome.code}`);
            else if (json(fingerprint(outcome.read.records)) !== json(s.baseline)) tally.problems.push(`pad byte ${offset} bit ${bit}: records changed`);
          }
        }
      }
      sampleRss();
    }
    // Without re-checksumming, the same pad flips are caught by the payload checksum.
    for (const offset of pads) {
      const bytes = s.bytes.slice();
      bytes[offset]! ^= 1;
      const outcome = await attempt(s.name, bytes, tally.problems, `pad byte ${offset}, checksum left alone`);
      if (outcome.valid || outcome.code !== "STONE_CHECKSUM") tally.problems.push(`pad byte ${offset}: not caught by the checksum`);
    }
    tally.summary("uncompressed record bodies (re-checksummed)");
    expect(tally.problems.slice(0, 20)).toEqual([]);
    expect(tally.get("valid")).toBeGreaterThanOrEqual(pads.size * 8);
    expect(tally.get("STONE_CHECKSUM")).toBe(0);
  }, LONG);
});

const hash128 = (text: string) => xxh3_128Hex(new TextEncoder().encode(text));

/** File offsets of the meta pad byte and the 11 layout pad bytes of every record, walked from the raw bodies. */
function padOffsets(s: Subject): Set<number> {
  const pads = new Set<number>();
  for (const payload of s.payloads) {
    const body = s.bytes.subarray(payload.bodyOffset, payload.bodyOffset + payload.header.storedSize);
    const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
    for (let pos = 0; pos < body.length; ) {
      if (payload.header.kind === PayloadKind.Meta) {
        pads.add(payload.bodyOffset + pos + 7);
        pos += 8 + view.getUint32(pos);
      } else if (payload.header.kind === PayloadKind.Layout) {
        for (let i = 21; i < 32; i++) pads.add(payload.bodyOffset + pos + i);
        pos += 32 + view.getUint16(pos + 16) + view.getUint16(pos + 18);
      } else break;
    }
  }
  return pads;
}

// ---------------------------------------------------------------------------------------------

describe("garbage", () => {
  const HEADER = new Uint8Array([0x00, 0x6d, 0x6f, 0x73, 0, 4, 0, 0, 1, 0, 0, 2, 0, 0, 3, 0, 0, 4, 0, 0, 5, 0, 0, 6, 0, 0, 7, 1, 0, 0, 0, 1]);
  const fill = (bytes: Uint8Array, random: () => number) => {
    for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(random() * 256);
    return bytes;
  };

  test("random buffers of every size up to 4 KiB and some larger (seed 0x9a5ba9e0)", async () => {
    const random = prng(0x9a5ba9e0);
    const tally = new Tally();
    const sizes = [...Array.from({ length: 4097 }, (_, i) => i), 65_536, 1 << 20, 3_000_001];
    for (const size of sizes) {
      const bytes = fill(new Uint8Array(size), random);
      if (size >= 4 && random() < 0.25) bytes.set(HEADER.subarray(0, 4)); // the magic alone gets no further
      const outcome = await attempt("garbage.stone", bytes, tally.problems, `garbage of ${size} bytes`);
      tally.add(outcome.valid ? "valid" : outcome.code);
    }
    tally.summary("random buffers");
    expect(tally.problems.slice(0, 20)).toEqual([]);
    expect(tally.get("valid")).toBe(0);
  }, LONG);

  test("garbage after a valid header (seed 0x9a5ba9e1)", async () => {
    const random = prng(0x9a5ba9e1);
    const tally = new Tally();
    for (let i = 0; i < 3000; i++) {
      const bytes = fill(new Uint8Array(32 + 1 + Math.floor(random() * 4096)), random);
      bytes.set(HEADER);
      bytes[4] = i % 3 === 0 ? 0 : Math.floor(random() * 256); // num_payloads
      bytes[5] = Math.floor(random() * 8);
      bytes[27] = [1, 3, 4, Math.floor(random() * 256)][i % 4]!;
      const outcome = await attempt("tail.stone", bytes, tally.problems, `garbage tail ${i}`);
      tally.add(outcome.valid ? "valid" : outcome.code);
    }
    tally.summary("garbage after a header");
    expect(tally.problems.slice(0, 20)).toEqual([]);
    expect(tally.get("valid")).toBe(0);
  }, LONG);

  test("well-formed chains of random payloads with correct checksums (seed 0x9a5ba9e2)", async () => {
    const random = prng(0x9a5ba9e2);
    const int = (n: number) => Math.floor(random() * n);
    const tally = new Tally();
    for (let i = 0; i < 2000; i++) {
      const parts: Uint8Array[] = [];
      const count = 1 + int(4);
      for (let p = 0; p < count; p++) {
        const kind = [1, 2, 3, 4, 5, 0, 6][int(7)]!;
        const compression = [1, 2, 2, 0][int(4)]!;
        const plain = fill(new Uint8Array(int(300)), random);
        // Mostly plausible record starts, so the decoders get past their first field.
        if (plain.length >= 8 && random() < 0.5) new DataView(plain.buffer).setUint32(0, int(plain.length));
        const body = compression === Compression.Zstd ? new Uint8Array(zlib.zstdCompressSync(plain)) : plain;
        const header = new DataView(new ArrayBuffer(32));
        header.setBigUint64(0, BigInt(body.length));
        header.setBigUint64(8, BigInt(random() < 0.9 ? plain.length : int(1000)));
        header.setBigUint64(16, xxh3_64(body));
        header.setUint32(24, random() < 0.8 ? int(6) : int(2 ** 32));
        header.setUint16(28, 1);
        header.setUint8(30, kind);
        header.setUint8(31, compression);
        parts.push(new Uint8Array(header.buffer), body);
      }
      const bytes = new Uint8Array(Buffer.concat([HEADER, ...parts]));
      bytes[5] = count;
      const outcome = await attempt("chain.stone", bytes, tally.problems, `random chain ${i}`);
      tally.add(outcome.valid ? "valid" : outcome.code);
    }
    tally.summary("random payload chains");
    expect(tally.problems.slice(0, 20)).toEqual([]);
    // Many distinct failure modes are reached, so the decoders really ran.
    expect(tally.counts.size).toBeGreaterThanOrEqual(6);
  }, LONG);
});

// ---------------------------------------------------------------------------------------------

describe("hostile size fields", () => {
  const setU64 = (bytes: Uint8Array, at: number, value: bigint) => new DataView(bytes.buffer, bytes.byteOffset).setBigUint64(at, value);

  test("stored/plain sizes of 2^40 and 2^63, num_records of 2^32 - 1: a StoneError, quickly, no allocation", async () => {
    const tally = new Tally();
    const cases: [string, number, bigint | number][] = [
      ["stored_size", 0, 2n ** 40n], ["stored_size", 0, 2n ** 63n], ["stored_size", 0, 2n ** 64n - 1n], ["stored_size", 0, 2n ** 53n],
      ["plain_size", 8, 2n ** 40n], ["plain_size", 8, 2n ** 63n], ["plain_size", 8, 2n ** 28n + 1n], ["plain_size", 8, 2n ** 28n - 1n],
      ["num_records", 24, 2 ** 32 - 1], ["num_records", 24, 2 ** 31],
    ];
    for (const s of subjects) {
      for (const payload of s.payloads) {
        for (const [field, rel, value] of cases) {
          const bytes = s.bytes.slice();
          if (typeof value === "number") new DataView(bytes.buffer).setUint32(payload.headerOffset + rel, value);
          else setU64(bytes, payload.headerOffset + rel, value);
          const started = performance.now();
          const what = `${s.label} payload ${payload.ordinal}: ${field} = ${value}`;
          const outcome = await attempt(s.name, bytes, tally.problems, what);
          const elapsed = performance.now() - started;
          sampleRss();
          if (elapsed > 1000) tally.problems.push(`${what}: took ${elapsed.toFixed(0)} ms`);
          if (field === "num_records" && payload.header.kind === PayloadKind.Content) {
            // The one count the format ignores (stone §6.5).
            if (!outcome.valid) tally.problems.push(`${what}: content num_records must be ignored, got ${outcome.code}`);
            tally.add(outcome.valid ? "valid:content-num-records" : outcome.code);
            continue;
          }
          if (outcome.valid) tally.problems.push(`${what}: read as valid`);
          tally.add(outcome.valid ? "valid" : outcome.code);
        }
      }
    }
    tally.summary("hostile size fields");
    expect(tally.problems).toEqual([]);
    expect(tally.get("valid:content-num-records")).toBe(2 * subjects.length);
  }, LONG);

  test("zstd framing: huge windows or content sizes, incomplete frames, bytes after the last frame", async () => {
    const tally = new Tally();
    const bash = subject("bash-completion");
    const pizza = subject("italian-pizza");

    /** Replace one payload's body (sizes and checksum follow) and return the whole file. */
    const rebuild = (s: Subject, ordinal: number, body: Uint8Array) => {
      const payload = s.payloads[ordinal]!;
      const header = s.bytes.slice(payload.headerOffset, payload.bodyOffset);
      const view = new DataView(header.buffer);
      view.setBigUint64(0, BigInt(body.length));
      view.setBigUint64(16, xxh3_64(body));
      return new Uint8Array(Buffer.concat([
        s.bytes.subarray(0, payload.headerOffset), header, body, s.bytes.subarray(payload.bodyOffset + payload.header.storedSize),
      ]));
    };
    const bodyOf = (s: Subject, ordinal: number) => {
      const p = s.payloads[ordinal]!;
      return s.bytes.slice(p.bodyOffset, p.bodyOffset + p.header.storedSize);
    };
    const run = async (what: string, bytes: Uint8Array, name: string, expectValid: boolean) => {
      const started = performance.now();
      const outcome = await attempt(name, bytes, tally.problems, what);
      sampleRss();
      if (performance.now() - started > 2000) tally.problems.push(`${what}: too slow`);
      if (outcome.valid !== expectValid) tally.problems.push(`${what}: ${outcome.valid ? "valid" : outcome.code}, expected ${expectValid ? "a valid read" : "an error"}`);
      tally.add(outcome.valid ? "valid" : outcome.code);
    };

    // boulder-D frames start 28 b5 2f fd 00 60: a window descriptor byte follows the descriptor.
    for (const [windowByte, label] of [[0xa8, "2^31"], [0xf8, "2^41"], [0xff, "max"]] as const) {
      for (const ordinal of [0, 1, 2]) {
        const body = bodyOf(bash, ordinal);
        body[5] = windowByte;
        // Record payloads are decoded with windowLogMax 27: anything larger is refused up front.
        await run(`bash payload ${ordinal}: window ${label}`, rebuild(bash, ordinal, body), bash.name, false);
      }
      const content = bodyOf(bash, 3);
      content[5] = windowByte;
      // A content frame may legally use a 2 GiB window (stone §4); beyond that it is refused.
      await run(`bash content: window ${label}`, rebuild(bash, 3, content), bash.name, windowByte === 0xa8);
    }

    // Rust frames are single-segment with a 2-byte content size (28 b5 2f fd 60 LL LL):
    // re-encode the size as 8 bytes claiming 2^40 or 2^31 bytes.
    for (const claimed of [2n ** 40n, 2n ** 31n, 2n ** 27n + 1n]) {
      const body = bodyOf(pizza, 0);
      expect(body[4]).toBe(0x60);
      const size = new Uint8Array(8);
      new DataView(size.buffer).setBigUint64(0, claimed, true);
      const forged = new Uint8Array(Buffer.concat([body.subarray(0, 4), new Uint8Array([0xe0]), size, body.subarray(7)]));
      await run(`pizza meta: frame content size ${claimed}`, rebuild(pizza, 0, forged), pizza.name, false);
    }

    // And a content payload whose single frame claims far more than its header's plain_size.
    const content = zlib.zstdCompressSync(new Uint8Array(0));
    expect(content[4]).toBe(0x20);
    const forged = new Uint8Array(Buffer.concat([content.subarray(0, 4), new Uint8Array([0xe0]), new Uint8Array([0, 0, 0, 0x80, 0, 0, 0, 0]), content.subarray(6)]));
    await run("pizza content: frame content size 2^31", rebuild(pizza, 3, forged), pizza.name, false);

    // Bodies must be whole frames, end to end (stone §4): the decoder alone would stop quietly.
    const junk = new Uint8Array([1, 2, 3]);
    const frameStart = new Uint8Array([0x28, 0xb5, 0x2f, 0xfd]);
    for (const [ordinal, tail] of [[0, junk], [0, frameStart], [2, junk], [3, frameStart], [3, junk]] as const) {
      const body = new Uint8Array(Buffer.concat([bodyOf(pizza, ordinal), tail]));
      await run(`pizza payload ${ordinal}: ${tail.length} bytes after the last frame`, rebuild(pizza, ordinal, body), pizza.name, false);
    }
    for (const ordinal of [0, 1, 3]) {
      const body = bodyOf(bash, ordinal);
      await run(`bash payload ${ordinal}: body cut short by one byte`, rebuild(bash, ordinal, body.subarray(0, body.length - 1)), bash.name, false);
      await run(`bash payload ${ordinal}: a truncated frame after the last one`, rebuild(bash, ordinal, new Uint8Array(Buffer.concat([body, frameStart]))), bash.name, false);
    }
    // …while what zstd allows must still read: a skippable frame, two frames, a frame checksum.
    const skippable = new Uint8Array([0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 9, 9, 9]);
    for (const ordinal of [0, 3]) {
      await run(`pizza payload ${ordinal}: a skippable frame after it`, rebuild(pizza, ordinal, new Uint8Array(Buffer.concat([bodyOf(pizza, ordinal), skippable]))), pizza.name, true);
    }
    const metaPlain = new Uint8Array(zlib.zstdDecompressSync(bodyOf(pizza, 0)));
    const twoFrames = Buffer.concat([zlib.zstdCompressSync(metaPlain.subarray(0, 100)), zlib.zstdCompressSync(metaPlain.subarray(100))]);
    await run("pizza meta: two frames", rebuild(pizza, 0, new Uint8Array(twoFrames)), pizza.name, true);
    const checksummed = zlib.zstdCompressSync(metaPlain, { params: { [zlib.constants.ZSTD_c_checksumFlag]: 1 } });
    expect(checksummed[4]! & 0x04).toBe(0x04);
    await run("pizza meta: a frame with its own checksum", rebuild(pizza, 0, new Uint8Array(checksummed)), pizza.name, true);
    const contentPlain = new Uint8Array(zlib.zstdDecompressSync(bodyOf(bash, 3)));
    const split = Buffer.concat([zlib.zstdCompressSync(contentPlain.subarray(0, 500_000)), zlib.zstdCompressSync(contentPlain.subarray(500_000))]);
    await run("bash content: two frames", rebuild(bash, 3, new Uint8Array(split)), bash.name, true);

    tally.summary("hostile zstd frame headers");
    expect(tally.problems).toEqual([]);
  }, LONG);
});

test("RSS growth across the whole fuzz run stays under 64 MiB", () => {
  sampleRss();
  const growth = memory.peak - memory.baseline;
  console.log(`RSS baseline ${(memory.baseline / 2 ** 20).toFixed(1)} MiB, peak ${(memory.peak / 2 ** 20).toFixed(1)} MiB, growth ${(growth / 2 ** 20).toFixed(1)} MiB`);
  expect(memory.baseline).toBeGreaterThan(0);
  expect(growth).toBeLessThan(RSS_BUDGET);
});
