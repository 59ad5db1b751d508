/**
 * The three fixtures decoded against every golden value of stone-format §13 (and the hash known
 * values of §5 / §13.3). Raw bytes are checked beside the decoded records, so a reader that
 * decoded wrongly but consistently would still be caught.
 */
import { afterAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import zlib from "node:zlib";
import { EMPTY_FILE_DIGEST } from "../../src/constants.ts";
import { createXxh3_128, createXxh3_64, xxh3_128Hex, xxh3_64 } from "../../src/hash/xxh3.ts";
import {
  Compression, DISCARD_SINK, formatDependency, isContiguous, LayoutEntryType, metaId, MetaPrimitive, MetaTag,
  packageFromMeta, PayloadKind, StoneReader, stoneFileName, streamContent,
  type ContentSink, type IndexRecord, type PayloadEntry, type StoneRecords,
} from "../../src/stone/index.ts";

const FIXTURES = "/work/shared/fixtures";
const BASH = `${FIXTURES}/bash-completion-2.11-1-1-x86_64.stone`;
const PIZZA = `${FIXTURES}/conflicts/italian-pizza-1-1-1-x86_64.stone`;
const PINEAPPLE = `${FIXTURES}/conflicts/pineapple-1-1-1-x86_64.stone`;

const HEADER_HEX = "006d6f7300040000010000020000030000040000050000060000070100000001";

const readers: StoneReader[] = [];
function open(path: string): StoneReader {
  const reader = StoneReader.open(path);
  readers.push(reader);
  return reader;
}
afterAll(() => readers.forEach((reader) => reader.close()));

const fileBytes = (path: string) => new Uint8Array(fs.readFileSync(path));
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
const spaced = (text: string) => text.replace(/\s+/g, "");

/** The raw stored body of a payload, straight from the file bytes. */
function storedBody(bytes: Uint8Array, payload: PayloadEntry): Uint8Array {
  return bytes.subarray(payload.bodyOffset, payload.bodyOffset + payload.header.storedSize);
}
/** Decompressed independently of src/zstd, with node:zlib directly. */
function plainBody(bytes: Uint8Array, payload: PayloadEntry): Uint8Array {
  return new Uint8Array(zlib.zstdDecompressSync(storedBody(bytes, payload)));
}

interface PayloadGolden { at: number; stored: number; plain: number; checksum: string; records: number; kind: number }
function expectPayloads(reader: StoneReader, golden: PayloadGolden[]) {
  expect(reader.payloads.length).toBe(golden.length);
  golden.forEach((want, i) => {
    const payload = reader.payloads[i]!;
    expect(payload.ordinal).toBe(i);
    expect(payload.headerOffset).toBe(want.at);
    expect(payload.bodyOffset).toBe(want.at + 32);
    expect(payload.header).toEqual({
      storedSize: want.stored, plainSize: want.plain, checksum: BigInt(`0x${want.checksum}`),
      numRecords: want.records, version: 1, kind: want.kind, compression: Compression.Zstd,
    });
  });
}

/** Streams the content and hashes every file again from the bytes the sink saw. */
async function collectContent(reader: StoneReader, index: IndexRecord[]) {
  const files: { record: IndexRecord; ordinal: number; bytes: Uint8Array[] }[] = [];
  let open: (typeof files)[number] | undefined;
  const sink: ContentSink = {
    beginFile(record, ordinal) {
      expect(open).toBeUndefined();
      open = { record, ordinal, bytes: [] };
    },
    write(chunk) {
      open!.bytes.push(chunk.slice());
    },
    endFile(record, ordinal) {
      expect(open?.ordinal).toBe(ordinal);
      expect(open?.record).toBe(record);
      files.push(open!);
      open = undefined;
    },
  };
  const summary = await streamContent(reader, index, sink);
  return { summary, files };
}

describe("container header (§2)", () => {
  for (const path of [BASH, PIZZA, PINEAPPLE]) {
    test(path.split("/").pop()!, () => {
      const bytes = fileBytes(path);
      expect(hex(bytes.subarray(0, 32))).toBe(HEADER_HEX);
      expect(open(path).header).toEqual({ numPayloads: 4, fileType: 1, version: 1 });
    });
  }
  test("file sizes", () => {
    expect(fs.statSync(BASH).size).toBe(168_864);
    expect(fs.statSync(PIZZA).size).toBe(443);
    expect(fs.statSync(PINEAPPLE).size).toBe(426);
  });
});

describe("italian-pizza (§13.1)", () => {
  const bytes = fileBytes(PIZZA);
  const reader = open(PIZZA);
  let records: StoneRecords;

  test("payload headers", () => {
    expectPayloads(reader, [
      { at: 0x020, stored: 171, plain: 256, checksum: "5b5160d68add1855", records: 11, kind: PayloadKind.Meta },
      { at: 0x0eb, stored: 71, plain: 76, checksum: "6559741ee73c9457", records: 1, kind: PayloadKind.Layout },
      { at: 0x152, stored: 32, plain: 32, checksum: "911d313ef4ec8028", records: 1, kind: PayloadKind.Index },
      { at: 0x192, stored: 9, plain: 0, checksum: "e6fb29dda2e7a873", records: 0, kind: PayloadKind.Content },
    ]);
    expect(hex(bytes.subarray(0x020, 0x040))).toBe(spaced("00000000000000ab 0000000000000100 5b5160d68add1855 0000000b 0001 01 02"));
    expect(hex(bytes.subarray(0x040, 0x046))).toBe("28b52ffd6000"); // single segment, content size 256
    expect(hex(bytes.subarray(0x1b2))).toBe("28b52ffd2000010000"); // the empty frame, to EOF
  });

  test("raw meta body, record by record", () => {
    const body = plainBody(bytes, reader.payloads[0]!);
    expect(body.length).toBe(256);
    const rows: [number, string, string][] = [
      [0x00, "0000000e 0001 09 00", "italian-pizza\0"],
      [0x16, "00000002 0003 09 00", "1\0"],
      [0x20, "00000008 000b 08 00", "\0\0\0\0\0\0\0\x01"],
      [0x30, "00000008 000d 08 00", "\0\0\0\0\0\0\0\x01"],
      [0x40, "00000007 0002 09 00", "x86_64\0"],
      [0x4f, "0000002e 0004 09 00", "A certain Italian pizza that hates pineapples\0"],
      [0x85, "00000017 0005 09 00", "Me no like pineapples.\0"],
      [0xa4, "0000000e 0007 09 00", "italian-pizza\0"],
      [0xba, "0000001e 0006 09 00", "https://github.com/serpent-os\0"],
      [0xe0, "00000005 000c 09 00", "Zlib\0"],
      [0xed, "0000000b 000a 0b 00", "\0pineapple\0"],
    ];
    for (const [offset, header, value] of rows) {
      expect(hex(body.subarray(offset, offset + 8))).toBe(spaced(header));
      expect(Buffer.from(body.subarray(offset + 8, offset + 8 + value.length)).toString("latin1")).toBe(value);
    }
    expect(0xed + 8 + 11).toBe(body.length);
  });

  test("meta records and package fields", () => {
    records = reader.records();
    expect(records.metas.length).toBe(1);
    const meta = records.metas[0]!;
    expect(meta.length).toBe(11);
    expect(meta[0]).toEqual({ tag: MetaTag.Name, value: { type: "string", value: "italian-pizza" } });
    expect(meta[2]).toEqual({ tag: MetaTag.Release, value: { type: "int", primitive: MetaPrimitive.Uint64, value: 1n } });
    expect(meta[3]).toEqual({ tag: MetaTag.BuildRelease, value: { type: "int", primitive: MetaPrimitive.Uint64, value: 1n } });
    // conflicts uses the *provider* primitive (§13.1, quirk 7)
    expect(meta[10]).toEqual({ tag: MetaTag.Conflicts, value: { type: "provider", value: { kind: "name", kindValue: 0, name: "pineapple" } } });

    const pkg = packageFromMeta(meta);
    expect(pkg).toEqual({
      name: "italian-pizza", version: "1", release: 1, buildRelease: 1, architecture: "x86_64",
      summary: "A certain Italian pizza that hates pineapples", description: "Me no like pineapples.",
      sourceId: "italian-pizza", homepage: "https://github.com/serpent-os", licenses: ["Zlib"],
      dependencies: [],
      providers: [{ kind: "name", kindValue: 0, name: "italian-pizza" }],
      conflicts: [{ kind: "name", kindValue: 0, name: "pineapple" }],
      uri: undefined, hash: undefined, downloadSize: undefined,
    });
    expect(pkg.conflicts.map(formatDependency)).toEqual(["name(pineapple)"]);
    expect(metaId(pkg)).toBe("italian-pizza-1-1.x86_64");
    expect(stoneFileName(pkg)).toBe("italian-pizza-1-1-1-x86_64.stone");
  });

  test("layout: raw body and record", () => {
    expect(hex(plainBody(bytes, reader.payloads[1]!))).toBe(spaced(`
      00000000 00000000 000081a4 00000000  0010 001c 01 0000000000000000000000
      99aa06d3014798d86001c324468d497f`) + Buffer.from("share/defaults/italian-pizza").toString("hex"));
    expect(records.layout).toEqual([
      { uid: 0, gid: 0, mode: 0o100644, tag: 0, entryType: LayoutEntryType.Regular, digest: EMPTY_FILE_DIGEST, target: "share/defaults/italian-pizza" },
    ]);
  });

  test("index and content", async () => {
    expect(hex(plainBody(bytes, reader.payloads[2]!))).toBe("00".repeat(16) + EMPTY_FILE_DIGEST);
    expect(records.index).toEqual([{ start: 0, end: 0, digest: EMPTY_FILE_DIGEST }]);
    const { summary, files } = await collectContent(reader, records.index);
    expect(summary).toEqual({ plainBytes: 0, files: 1, strategy: "split" });
    expect(files.map((f) => [f.ordinal, f.bytes.length])).toEqual([[0, 0]]);
  });
});

describe("pineapple (§13.1)", () => {
  const reader = open(PINEAPPLE);

  test("payload headers; index and content byte-identical to italian-pizza's", () => {
    expectPayloads(reader, [
      { at: 0x020, stored: 158, plain: 215, checksum: "4d9d54472441e575", records: 10, kind: PayloadKind.Meta },
      { at: 0x0de, stored: 67, plain: 72, checksum: "1326d2487ca30bd1", records: 1, kind: PayloadKind.Layout },
      { at: 0x141, stored: 32, plain: 32, checksum: "911d313ef4ec8028", records: 1, kind: PayloadKind.Index },
      { at: 0x181, stored: 9, plain: 0, checksum: "e6fb29dda2e7a873", records: 0, kind: PayloadKind.Content },
    ]);
    const pizza = fileBytes(PIZZA);
    const pineapple = fileBytes(PINEAPPLE);
    expect(hex(pineapple.subarray(0x141))).toBe(hex(pizza.subarray(0x152)));
  });

  test("records", async () => {
    const records = reader.records();
    expect(records.metas.length).toBe(1);
    expect(records.metas[0]!.length).toBe(10);
    expect(records.metas[0]!.some((r) => r.tag === MetaTag.Conflicts)).toBe(false);
    const pkg = packageFromMeta(records.metas[0]!);
    expect(pkg).toMatchObject({
      name: "pineapple", version: "1", release: 1, buildRelease: 1, architecture: "x86_64",
      summary: "Delicious slices of pineapples", description: "Can I be on your pizza?", sourceId: "pineapple",
      homepage: "https://github.com/serpent-os", licenses: ["Zlib"], dependencies: [], conflicts: [],
    });
    expect(pkg.providers.map(formatDependency)).toEqual(["name(pineapple)"]);
    expect(records.layout).toEqual([
      { uid: 0, gid: 0, mode: 0o100644, tag: 0, entryType: LayoutEntryType.Regular, digest: EMPTY_FILE_DIGEST, target: "share/defaults/pienapple" },
    ]);
    expect(records.index).toEqual([{ start: 0, end: 0, digest: EMPTY_FILE_DIGEST }]);
    expect(await streamContent(reader, records.index)).toEqual({ plainBytes: 0, files: 1, strategy: "split" });
  });
});

describe("bash-completion (§13.2)", () => {
  const bytes = fileBytes(BASH);
  const reader = open(BASH);
  let records: StoneRecords;

  test("payload headers, raw and decoded", () => {
    const raw = [
      [0x0020, "0000000000000133 000000000000020a f747b76066220445 0000000b 0001 01 02"],
      [0x0173, "00000000000035e0 000000000000fcdb 00080612c2aed8f1 000002e9 0001 03 02"],
      [0x3773, "000000000000236e 0000000000003b40 aef2da49e8b09548 000001da 0001 04 02"],
      [0x5b01, "000000000002387f 00000000000d4f57 f99daf817c7da14c 000001da 0001 02 02"],
    ] as const;
    for (const [at, text] of raw) expect(hex(bytes.subarray(at, at + 32))).toBe(spaced(text));
    expectPayloads(reader, [
      { at: 0x0020, stored: 307, plain: 522, checksum: "f747b76066220445", records: 11, kind: PayloadKind.Meta },
      { at: 0x0173, stored: 13_792, plain: 64_731, checksum: "00080612c2aed8f1", records: 745, kind: PayloadKind.Layout },
      { at: 0x3773, stored: 9_070, plain: 15_168, checksum: "aef2da49e8b09548", records: 474, kind: PayloadKind.Index },
      // num_records = 474 on content is the boulder-D quirk (§6.5)
      { at: 0x5b01, stored: 145_535, plain: 872_279, checksum: "f99daf817c7da14c", records: 474, kind: PayloadKind.Content },
    ]);
    expect(reader.payloads[2]!.header.plainSize).toBe(474 * 32);
    expect(reader.contentPayload!.bodyOffset).toBe(0x5b21);
    expect(0x5b21 + 145_535).toBe(bytes.length);
    // boulder-D frames: no content size, not single segment, 4 MiB window
    for (const payload of reader.payloads) expect(hex(storedBody(bytes, payload).subarray(0, 6))).toBe("28b52ffd0060");
  });

  test("raw meta: first and last record", () => {
    const body = plainBody(bytes, reader.payloads[0]!);
    expect(hex(body.subarray(0, 8 + 16))).toBe("0000001000010900" + Buffer.from("bash-completion\0").toString("hex"));
    expect(hex(body.subarray(0x1f1))).toBe("0000001100090b00" + "04" + Buffer.from("bash-completion\0").toString("hex"));
  });

  test("meta records and package fields", () => {
    records = reader.records();
    expect(records.skipped).toEqual([]);
    expect(records.attributes).toEqual([]);
    expect(records.metas.length).toBe(1);
    const meta = records.metas[0]!;
    expect(meta.length).toBe(11);
    // boulder-D order: name, version, release, build-release, summary, description, homepage, source-id, architecture, license, provides
    expect(meta.map((r) => r.tag)).toEqual([1, 3, 11, 13, 4, 5, 6, 7, 2, 12, 9]);
    expect(meta[10]).toEqual({ tag: MetaTag.Provides, value: { type: "provider", value: { kind: "cmake", kindValue: 4, name: "bash-completion" } } });
    const pkg = packageFromMeta(meta);
    expect(pkg).toEqual({
      name: "bash-completion", version: "2.11", release: 1, buildRelease: 1, architecture: "x86_64",
      summary: "Programmable completion functions for bash",
      description: "bash-completion is a collection of command line command completions for the Bash shell, collection of helper functions to assist in creating new completions, and set of facilities for loading completions automatically on demand, as well as installing them.",
      sourceId: "bash-completion", homepage: "https://github.com/scop/bash-completion", licenses: ["GPL-2.0-or-later"],
      dependencies: [],
      providers: [{ kind: "cmake", kindValue: 4, name: "bash-completion" }, { kind: "name", kindValue: 0, name: "bash-completion" }],
      conflicts: [],
      uri: undefined, hash: undefined, downloadSize: undefined,
    });
    expect(pkg.providers.map(formatDependency)).toEqual(["cmake(bash-completion)", "name(bash-completion)"]);
    expect(metaId(pkg)).toBe("bash-completion-2.11-1.x86_64");
    expect(stoneFileName(pkg)).toBe("bash-completion-2.11-1-1-x86_64.stone");
  });

  test("raw layout: first record, the symlink at 0x102, NULs on every text field", () => {
    const body = plainBody(bytes, reader.payloads[1]!);
    expect(body.length).toBe(64_731);
    expect(hex(body.subarray(0, 86))).toBe(
      spaced("00000000 00000000 000081a4 00000000 0010 0026 01 0000000000000000000000 3c005061e2d565b469e9abdfe6478cfe")
        + Buffer.from("share/bash-completion/bash_completion\0").toString("hex"),
    );
    expect(hex(body.subarray(0x102, 0x102 + 32 + 3 + 38))).toBe(
      spaced("00000000 00000000 0000a1ff 00000000 0003 0026 02 0000000000000000000000 377a00")
        + Buffer.from("share/bash-completion/completions/7za\0").toString("hex"),
    );
    // An independent walk of the raw records: boulder-D put a NUL on all 745 targets and all 271 symlink sources.
    let pos = 0, count = 0, symlinks = 0;
    while (pos < body.length) {
      const view = new DataView(body.buffer, body.byteOffset + pos);
      const sourceLength = view.getUint16(16), targetLength = view.getUint16(18), type = body[pos + 20]!;
      expect(hex(body.subarray(pos + 21, pos + 32))).toBe("00".repeat(11));
      if (type === LayoutEntryType.Symlink) {
        symlinks++;
        expect(body[pos + 32 + sourceLength - 1]).toBe(0);
      }
      expect(body[pos + 32 + sourceLength + targetLength - 1]).toBe(0);
      pos += 32 + sourceLength + targetLength;
      count++;
    }
    expect([pos, count, symlinks]).toEqual([body.length, 745, 271]);
  });

  test("layout records", () => {
    expect(records.layout.length).toBe(745);
    expect(records.layout[0]).toEqual({
      uid: 0, gid: 0, mode: 0o100644, tag: 0, entryType: LayoutEntryType.Regular,
      digest: "3c005061e2d565b469e9abdfe6478cfe", target: "share/bash-completion/bash_completion",
    });
    // records 0..2 are 86 + 87 + 85 = 0x102 bytes, so the symlink at body offset 0x102 is record 3
    expect(records.layout[3]).toEqual({
      uid: 0, gid: 0, mode: 0o120777, tag: 0, entryType: LayoutEntryType.Symlink, source: "7z",
      target: "share/bash-completion/completions/7za",
    });
    const symlinks = records.layout.filter((r) => r.entryType === LayoutEntryType.Symlink);
    const regular = records.layout.filter((r) => r.entryType === LayoutEntryType.Regular);
    expect([symlinks.length, regular.length]).toEqual([271, 474]);
    for (const record of records.layout) {
      expect(record.target.includes("\0")).toBe(false);
      expect(record.source?.includes("\0") ?? false).toBe(false);
      expect(record.target.startsWith("/")).toBe(false);
    }
    for (const record of symlinks) expect(record.mode).toBe(0o120777);
    for (const record of regular) expect(record.digest).toMatch(/^[0-9a-f]{32}$/);
  });

  test("index records: contiguous, distinct, ending at the content size", () => {
    const { index } = records;
    expect(index.length).toBe(474);
    expect(index[0]).toEqual({ start: 0, end: 76_332, digest: "3c005061e2d565b469e9abdfe6478cfe" });
    expect(index[1]).toEqual({ start: 76_332, end: 77_255, digest: "97151f442b0606dbab0f46f961b489a2" });
    expect(isContiguous(index)).toBe(true);
    for (let i = 1; i < index.length; i++) expect(index[i]!.start).toBe(index[i - 1]!.end);
    expect(index.at(-1)!.end).toBe(872_279);
    expect(index.at(-1)!.end).toBe(reader.contentPayload!.header.plainSize);
    expect(new Set(index.map((r) => r.digest)).size).toBe(474);
    // §5.3: a digest with a leading zero nibble, stored as a 30-character asset name by moss
    expect(index.some((r) => r.digest === "009e284063682c78bdef54eba751f7a8")).toBe(true);
  });

  test("layout regular digests are exactly the index digests; index keeps layout order (boulder-D)", () => {
    const layoutDigests = records.layout.flatMap((r) => (r.entryType === LayoutEntryType.Regular ? [r.digest!] : []));
    expect(new Set(layoutDigests)).toEqual(new Set(records.index.map((r) => r.digest)));
    expect([...new Set(layoutDigests)]).toEqual(records.index.map((r) => r.digest));
  });

  test("content: every file hashes to its index record", async () => {
    const { summary, files } = await collectContent(reader, records.index);
    expect(summary).toEqual({ plainBytes: 872_279, files: 474, strategy: "split" });
    expect(files.length).toBe(474);
    let total = 0;
    for (const [i, file] of files.entries()) {
      expect(file.ordinal).toBe(i);
      expect(file.record).toEqual(records.index[i]!);
      const joined = Buffer.concat(file.bytes);
      expect(joined.length).toBe(file.record.end - file.record.start);
      expect(await xxh3_128Hex(joined)).toBe(file.record.digest);
      total += joined.length;
    }
    expect(total).toBe(872_279);
  });

  test("content through the spill fallback agrees", async () => {
    const reversed = [...records.index].reverse();
    expect(isContiguous(reversed)).toBe(false);
    expect(await streamContent(reader, reversed, DISCARD_SINK)).toEqual({ plainBytes: 872_279, files: 474, strategy: "spill" });
  });

  test("open() and fromBytes() read the same", () => {
    const inMemory = StoneReader.fromBytes("bash-completion.stone", bytes);
    expect(inMemory.payloads).toEqual(reader.payloads);
    expect(inMemory.records()).toEqual(records);
  });
});

describe("hash known values (§5, §13.3)", () => {
  const pizza = fileBytes(PIZZA);
  const bash = fileBytes(BASH);

  test("empty input", async () => {
    expect(xxh3_64(new Uint8Array(0))).toBe(0x2d06800538d394c2n);
    const streaming = await createXxh3_64();
    expect(streaming.digestHex()).toBe("2d06800538d394c2");
    expect(streaming.digestBigInt()).toBe(0x2d06800538d394c2n);
    expect(await xxh3_128Hex(new Uint8Array(0))).toBe("99aa06d3014798d86001c324468d497f");
    expect(EMPTY_FILE_DIGEST).toBe("99aa06d3014798d86001c324468d497f");
  });

  test("italian-pizza meta body (0x040..0x0ea), one-shot and streamed", async () => {
    const body = pizza.subarray(0x040, 0x0eb);
    expect(body.length).toBe(171);
    expect(xxh3_64(body)).toBe(0x5b5160d68add1855n);
    const streaming = await createXxh3_64();
    for (let i = 0; i < body.length; i += 7) streaming.update(body.subarray(i, i + 7));
    expect(streaming.digestBigInt()).toBe(0x5b5160d68add1855n);
  });

  test("bash-completion content body (0x5b21..EOF), one-shot and streamed; reset reuses a hasher", async () => {
    const body = bash.subarray(0x5b21);
    expect(xxh3_64(body)).toBe(0xf99daf817c7da14cn);
    const streaming = await createXxh3_64();
    streaming.update(new Uint8Array([1, 2, 3]));
    streaming.reset();
    for (let i = 0; i < body.length; i += 4096) streaming.update(body.subarray(i, i + 4096));
    expect(streaming.digestHex()).toBe("f99daf817c7da14c");
  });

  test("bash-completion decompressed content [0, 76332)", async () => {
    const plain = new Uint8Array(zlib.zstdDecompressSync(bash.subarray(0x5b21)));
    expect(plain.length).toBe(872_279);
    const first = plain.subarray(0, 76_332);
    expect(await xxh3_128Hex(first)).toBe("3c005061e2d565b469e9abdfe6478cfe");
    const streaming = await createXxh3_128();
    for (let i = 0; i < first.length; i += 1000) streaming.update(first.subarray(i, i + 1000));
    expect(streaming.digestHex()).toBe("3c005061e2d565b469e9abdfe6478cfe");
    expect(hex(streaming.digestBytes())).toBe("3c005061e2d565b469e9abdfe6478cfe");
  });
});
