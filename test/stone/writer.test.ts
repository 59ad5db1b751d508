/**
 * writeStone → StoneReader round trips for every record kind, primitive, entry type and file type,
 * the zstd frame shapes the writer produces, and its failure path (no output, typed error).
 */
import { afterAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { WRITER_WINDOW_LOG } from "../../src/constants.ts";
import { createXxh3_128, xxh3_128Hex, xxh3_64 } from "../../src/hash/xxh3.ts";
import {
  Compression, DependencyKind, FileType, LayoutEntryType, metaRecordsFor, MetaPrimitive, MetaTag, packageFromMeta,
  parseDependency, PayloadKind, StoneError, StoneReader, streamContent, writeStone,
  type AttributeRecord, type ContentFile, type ContentSink, type Dependency, type IndexRecord, type LayoutRecord,
  type MetaRecord, type PackageInput, type StoneDocument, type WriteOptions,
} from "../../src/stone/index.ts";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "moss-ts-stone-writer-"));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
let serial = 0;
const outPath = (name: string) => path.join(root, `${serial++}-${name}.stone`);

const utf8 = new TextEncoder();
const EMPTY = "99aa06d3014798d86001c324468d497f";

/** Deterministic bytes that zstd cannot squeeze to nothing. */
function pseudoRandom(size: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(size);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    state ^= state << 13; state ^= state >>> 17; state ^= state << 5;
    bytes[i] = (state >>> 0) & (i % 3 === 0 ? 0xff : 0x3f);
  }
  return bytes;
}

/** A ContentFile over bytes held in memory, handed out in uneven chunks. */
async function fileOf(bytes: Uint8Array, chunkSize = 65_521): Promise<ContentFile> {
  return {
    digest: await xxh3_128Hex(bytes),
    size: bytes.length,
    *chunks() {
      for (let i = 0; i < bytes.length; i += chunkSize) yield bytes.subarray(i, i + chunkSize);
    },
  };
}

async function readBack(file: string) {
  const reader = StoneReader.open(file);
  try {
    const records = reader.records();
    const contents: Uint8Array[] = [];
    let parts: Uint8Array[] = [];
    const sink: ContentSink = {
      beginFile() { parts = []; },
      write(chunk) { parts.push(chunk.slice()); },
      endFile() { contents.push(new Uint8Array(Buffer.concat(parts))); },
    };
    const summary = await streamContent(reader, records.index, sink);
    return { header: reader.header, payloads: reader.payloads, records, contents, summary, bytes: new Uint8Array(fs.readFileSync(file)) };
  } finally {
    reader.close();
  }
}

async function roundTrip(name: string, doc: StoneDocument, opts: WriteOptions = {}) {
  const file = outPath(name);
  const written = await writeStone(file, doc, opts);
  expect(written.path).toBe(file);
  expect(written.size).toBe(fs.statSync(file).size);
  const back = await readBack(file);
  expect(written.payloads).toBe(back.header.numPayloads);
  expect(written.contentPlainSize).toBe(back.summary.plainBytes);
  return back;
}

function plainBodyOf(bytes: Uint8Array, payload: { bodyOffset: number; header: { storedSize: number; compression: number } }) {
  const stored = bytes.subarray(payload.bodyOffset, payload.bodyOffset + payload.header.storedSize);
  return payload.header.compression === Compression.Zstd ? new Uint8Array(zlib.zstdDecompressSync(stored)) : stored;
}

/** The zstd frame header (RFC 8878 §3.1.1.1): Frame_Header_Descriptor, window and content size. */
function frameHeader(frame: Uint8Array) {
  expect(Buffer.from(frame.subarray(0, 4)).toString("hex")).toBe("28b52ffd");
  const descriptor = frame[4]!;
  const singleSegment = (descriptor & 0x20) !== 0;
  const fcsFlag = descriptor >> 6;
  let pos = 5;
  let windowSize: number | undefined;
  if (!singleSegment) {
    const byte = frame[pos++]!;
    const windowLog = 10 + (byte >> 3);
    windowSize = 2 ** windowLog + (2 ** windowLog / 8) * (byte & 7);
  }
  pos += [0, 1, 2, 4][descriptor & 3]!;
  const fcsBytes = [singleSegment ? 1 : 0, 2, 4, 8][fcsFlag]!;
  let contentSize: number | undefined;
  if (fcsBytes > 0) {
    contentSize = 0;
    for (let i = fcsBytes - 1; i >= 0; i--) contentSize = contentSize * 256 + frame[pos + i]!;
    if (fcsBytes === 2) contentSize += 256;
  }
  return { descriptor, singleSegment, windowSize: windowSize ?? contentSize!, contentSize };
}

const str = (tag: number, value: string): MetaRecord => ({ tag, value: { type: "string", value } });
const int = (tag: number, primitive: number, value: bigint): MetaRecord => ({ tag, value: { type: "int", primitive, value } });
const dep = (kindValue: number, name: string): Dependency => ({
  kind: (Object.entries(DependencyKind).find(([, v]) => v === kindValue)?.[0] ?? "unknown") as Dependency["kind"],
  kindValue, name,
});

const BASE_PACKAGE: PackageInput = {
  name: "tester", version: "1.0-ü", release: 7, buildRelease: 2, architecture: "x86_64",
  summary: "", description: "Ein Paket für Tests ✓ 🪨 日本語", sourceId: "tester", homepage: "https://example.org/ü",
  licenses: ["MIT", "Apache-2.0"],
  dependencies: [parseDependency("soname(libc.so.6(x86_64))"), parseDependency("bash")],
  providers: [parseDependency("binary(tester)"), parseDependency("name(tester)")],
  conflicts: [parseDependency("oldtester")],
};

describe("meta", () => {
  const ints: MetaRecord[] = [
    int(1001, MetaPrimitive.Int8, -128n), int(1001, MetaPrimitive.Int8, -1n), int(1001, MetaPrimitive.Int8, 127n),
    int(1002, MetaPrimitive.Uint8, 0n), int(1002, MetaPrimitive.Uint8, 255n),
    int(1003, MetaPrimitive.Int16, -32768n), int(1003, MetaPrimitive.Int16, 32767n),
    int(1004, MetaPrimitive.Uint16, 65535n),
    int(1005, MetaPrimitive.Int32, -(2n ** 31n)), int(1005, MetaPrimitive.Int32, 2n ** 31n - 1n),
    int(1006, MetaPrimitive.Uint32, 2n ** 32n - 1n),
    int(1007, MetaPrimitive.Int64, -(2n ** 63n)), int(1007, MetaPrimitive.Int64, -1n), int(1007, MetaPrimitive.Int64, 2n ** 63n - 1n),
    int(1008, MetaPrimitive.Uint64, 0n), int(1008, MetaPrimitive.Uint64, 2n ** 64n - 1n),
  ];
  const strings: MetaRecord[] = [str(MetaTag.Summary, ""), str(MetaTag.Description, "ünïcødé ✓ 🪨 日本語 \u{10ffff}"), str(MetaTag.Name, "x")];
  const kinds = [...Object.values(DependencyKind), 200];
  const deps: MetaRecord[] = kinds.flatMap((kindValue) => [
    { tag: MetaTag.Depends, value: { type: "dependency", value: dep(kindValue, `dep-${kindValue}(ü)`) } } as MetaRecord,
    { tag: MetaTag.Provides, value: { type: "provider", value: dep(kindValue, `prov-${kindValue}`) } } as MetaRecord,
  ]);
  const unknown: MetaRecord[] = [
    { tag: 1100, value: { type: "unknown", primitive: 42, bytes: new Uint8Array([0, 1, 2, 0xff, 0]) } },
    { tag: 1101, value: { type: "unknown", primitive: 0, bytes: new Uint8Array(0) } },
    { tag: 1102, value: { type: "unknown", primitive: 255, bytes: pseudoRandom(300, 5) } },
  ];
  const unknownTags: MetaRecord[] = [str(999, "unknown tag"), int(0xffff, MetaPrimitive.Uint8, 3n), str(0, "tag zero")];
  const all = [...ints, ...strings, ...deps, ...unknown, ...unknownTags];

  for (const compression of ["zstd", "none"] as const) {
    test(`every primitive round-trips (${compression})`, async () => {
      const back = await roundTrip("meta", { fileType: FileType.Binary, metas: [all] }, { compression });
      expect(back.records.metas).toEqual([all]);
      expect(back.payloads.map((p) => [p.header.kind, p.header.compression, p.header.numRecords])).toEqual([
        [PayloadKind.Meta, compression === "zstd" ? Compression.Zstd : Compression.None, all.length],
      ]);
      // Raw form: integers carry their exact width, strings one counted NUL, deps kind + text + NUL.
      const body = plainBodyOf(back.bytes, back.payloads[0]!);
      const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
      let pos = 0;
      for (const record of all) {
        const length = view.getUint32(pos);
        expect([view.getUint16(pos + 4), body[pos + 7]]).toEqual([record.tag, 0]);
        const value = body.subarray(pos + 8, pos + 8 + length);
        switch (record.value.type) {
          case "int": expect(length).toBe({ 1: 1, 2: 1, 3: 2, 4: 2, 5: 4, 6: 4, 7: 8, 8: 8 }[record.value.primitive]!); break;
          case "string": expect(length).toBe(utf8.encode(record.value.value).length + 1); expect(value.at(-1)).toBe(0); break;
          case "dependency":
          case "provider":
            expect(body[pos + 6]).toBe(record.value.type === "dependency" ? MetaPrimitive.Dependency : MetaPrimitive.Provider);
            expect(length).toBe(utf8.encode(record.value.value.name).length + 2);
            expect([value[0], value.at(-1)]).toEqual([record.value.value.kindValue, 0]);
            break;
          case "unknown": expect(value).toEqual(record.value.bytes); break;
        }
        pos += 8 + length;
      }
      expect(pos).toBe(body.length);
    });
  }

  test("integers that do not fit their type are refused, not wrapped", async () => {
    const cases: [number, bigint][] = [
      [MetaPrimitive.Int8, 128n], [MetaPrimitive.Int8, -129n], [MetaPrimitive.Uint8, 256n], [MetaPrimitive.Uint8, -1n],
      [MetaPrimitive.Int16, 32768n], [MetaPrimitive.Uint16, 65536n], [MetaPrimitive.Int32, 2n ** 31n],
      [MetaPrimitive.Uint32, -1n], [MetaPrimitive.Int64, 2n ** 63n], [MetaPrimitive.Uint64, -1n], [MetaPrimitive.Uint64, 2n ** 64n],
    ];
    for (const [primitive, value] of cases) {
      const file = outPath("bad-int");
      const error = await writeStone(file, { fileType: FileType.Binary, metas: [[int(MetaTag.Release, primitive, value)]] }).catch((e) => e);
      expect(error).toBeInstanceOf(StoneError);
      expect(error.code).toBe("STONE_RECORD");
      expect(error.message).toContain(file);
      expect(error.message).toContain("payload 0 (meta)");
      expect(fs.existsSync(file)).toBe(false);
    }
  });

  test("packageFromMeta over written records: every dependency-typed record, unknown kinds dropped, implicit name()", async () => {
    const records = [...metaRecordsFor(BASE_PACKAGE), ...deps];
    const back = await roundTrip("pkg", { fileType: FileType.Binary, metas: [records] });
    const pkg = packageFromMeta(back.records.metas[0]!);
    expect(pkg).toMatchObject({ name: "tester", version: "1.0-ü", release: 7, buildRelease: 2, summary: "", licenses: ["Apache-2.0", "MIT"] });
    const text = (list: Dependency[]) => list.map((d) => `${d.kind}(${d.name})`);
    expect(text(pkg.dependencies)).toEqual([
      "binary(dep-6(ü))", "cmake(dep-4(ü))", "interpreter(dep-3(ü))", "name(bash)", "name(dep-0(ü))", "pkgconfig(dep-2(ü))",
      "pkgconfig32(dep-8(ü))", "python(dep-5(ü))", "soname(dep-1(ü))", "soname(libc.so.6(x86_64))", "sysbinary(dep-7(ü))",
    ]);
    expect(text(pkg.providers)).toEqual([
      "binary(prov-6)", "binary(tester)", "cmake(prov-4)", "interpreter(prov-3)", "name(prov-0)", "name(tester)", "pkgconfig(prov-2)",
      "pkgconfig32(prov-8)", "python(prov-5)", "soname(prov-1)", "sysbinary(prov-7)",
    ]);
    expect(text(pkg.conflicts)).toEqual(["name(oldtester)"]);
    // The implicit provider is never written (stone §12).
    expect(back.records.metas[0]!.filter((r) => r.tag === MetaTag.Provides && r.value.type === "provider" && r.value.value.name === "tester" && r.value.value.kind === "name")).toEqual([]);
  });
});

describe("layout and attributes", () => {
  const digest = "0123456789abcdef0123456789abcdef";
  const layout: LayoutRecord[] = [
    { uid: 0, gid: 0, mode: 0o100644, tag: 0, entryType: LayoutEntryType.Regular, digest, target: "share/tester/ü-file" },
    { uid: 1000, gid: 100, mode: 0o120777, tag: 0, entryType: LayoutEntryType.Symlink, source: "../lib/libtester.so.1 ✓", target: "lib/libtester.so" },
    { uid: 0, gid: 0, mode: 0o040755, tag: 0, entryType: LayoutEntryType.Directory, target: "share/tester" },
    { uid: 0, gid: 6, mode: 0o020660, tag: 0, entryType: LayoutEntryType.CharacterDevice, target: "dev/chr" },
    { uid: 0, gid: 6, mode: 0o060660, tag: 0, entryType: LayoutEntryType.BlockDevice, target: "dev/blk" },
    { uid: 0, gid: 0, mode: 0o010644, tag: 0, entryType: LayoutEntryType.Fifo, target: "run/fifo" },
    { uid: 4_294_967_295, gid: 4_294_967_295, mode: 0o140755, tag: 4_294_967_295, entryType: LayoutEntryType.Socket, target: "run/sock" },
    { uid: 0, gid: 0, mode: 0, tag: 0, entryType: 9, source: "opaque source", target: "unknown/type" },
  ];
  const attributes: AttributeRecord[] = [
    { key: utf8.encode("key"), value: utf8.encode("value ✓") },
    { key: new Uint8Array(0), value: pseudoRandom(1000, 9) },
    { key: new Uint8Array([0, 0, 1]), value: new Uint8Array(0) },
  ];

  for (const compression of ["zstd", "none"] as const) {
    test(`every entry type and an attributes payload round-trip (${compression})`, async () => {
      const back = await roundTrip("layout", { fileType: FileType.Binary, metas: [[str(MetaTag.Name, "t")]], layout, attributes }, { compression });
      expect(back.records.layout).toEqual(layout);
      expect(back.records.attributes).toEqual(attributes);
      expect(back.payloads.map((p) => [p.header.kind, p.header.numRecords])).toEqual([
        [PayloadKind.Meta, 1], [PayloadKind.Layout, layout.length], [PayloadKind.Attributes, attributes.length],
      ]);
      // Raw: no NULs on text (Rust style), no source bytes for types 3–7, 11 zero pad bytes.
      const body = plainBodyOf(back.bytes, back.payloads[1]!);
      const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
      let pos = 0;
      for (const record of layout) {
        const sourceLength = view.getUint16(pos + 16), targetLength = view.getUint16(pos + 18);
        expect(body[pos + 20]).toBe(record.entryType);
        expect(body.subarray(pos + 21, pos + 32)).toEqual(new Uint8Array(11));
        const expectedSource = record.digest ? 16 : record.source ? utf8.encode(record.source).length : 0;
        expect([sourceLength, targetLength]).toEqual([expectedSource, utf8.encode(record.target).length]);
        pos += 32 + sourceLength + targetLength;
      }
      expect(pos).toBe(body.length);
    });
  }

  test("a source on a directory, device, fifo or socket is refused (Rust would drift by its length)", async () => {
    for (const entryType of [3, 4, 5, 6, 7]) {
      const file = outPath("bad-layout");
      const error = await writeStone(file, {
        fileType: FileType.Binary, metas: [[str(MetaTag.Name, "t")]],
        layout: [{ uid: 0, gid: 0, mode: 0o040755, tag: 0, entryType, source: "x", target: "share/x" }],
      }).catch((e) => e);
      expect(error).toBeInstanceOf(StoneError);
      expect(error.code).toBe("STONE_RECORD");
      expect(error.message).toContain(`${file}: payload 1 (layout)`);
      expect(fs.existsSync(file)).toBe(false);
    }
  });

  test("a regular entry without a 16-byte digest is refused", async () => {
    const file = outPath("bad-digest");
    const error = await writeStone(file, {
      fileType: FileType.Binary, metas: [],
      layout: [{ uid: 0, gid: 0, mode: 0o100644, tag: 0, entryType: LayoutEntryType.Regular, digest: "abcd", target: "x" }],
    }).catch((e) => e);
    expect(error).toBeInstanceOf(StoneError);
    expect(error.code).toBe("STONE_RECORD");
    expect(fs.existsSync(file)).toBe(false);
  });
});

describe("index and content", () => {
  test("empty file, duplicates and a multi-MiB file; both compressions", async () => {
    const text = utf8.encode("hello, stone ✓\n".repeat(100));
    const big = pseudoRandom(5 * 1024 * 1024 + 12_345, 42);
    const [empty, a, aAgain, large, emptyAgain] = [
      await fileOf(new Uint8Array(0)), await fileOf(text), await fileOf(text.slice(), 7), await fileOf(big), await fileOf(new Uint8Array(0)),
    ];
    expect(empty!.digest).toBe(EMPTY);
    const layout: LayoutRecord[] = [
      { uid: 0, gid: 0, mode: 0o100644, tag: 0, entryType: 1, digest: a!.digest, target: "share/a" },
      { uid: 0, gid: 0, mode: 0o100644, tag: 0, entryType: 1, digest: a!.digest, target: "share/a-copy" },
      { uid: 0, gid: 0, mode: 0o100644, tag: 0, entryType: 1, digest: EMPTY, target: "share/empty" },
      { uid: 0, gid: 0, mode: 0o100755, tag: 0, entryType: 1, digest: large!.digest, target: "bin/large" },
    ];
    const expectedIndex: IndexRecord[] = [
      { start: 0, end: 0, digest: EMPTY },
      { start: 0, end: text.length, digest: a!.digest },
      { start: text.length, end: text.length + big.length, digest: large!.digest },
    ];
    for (const compression of ["zstd", "none"] as const) {
      const back = await roundTrip("content", {
        fileType: FileType.Binary, metas: [metaRecordsFor(BASE_PACKAGE)], layout,
        content: [empty!, a!, aAgain!, large!, emptyAgain!],
      }, { compression, level: 3 });
      expect(back.records.index).toEqual(expectedIndex);
      expect(back.records.layout).toEqual(layout);
      expect(back.summary).toEqual({ plainBytes: text.length + big.length, files: 3, strategy: "split" });
      expect(back.contents).toEqual([new Uint8Array(0), text, big]);
      const [meta, , index, content] = back.payloads;
      expect(back.payloads.map((p) => p.header.kind)).toEqual([PayloadKind.Meta, PayloadKind.Layout, PayloadKind.Index, PayloadKind.Content]);
      expect(index!.header.numRecords).toBe(3);
      expect(content!.header).toMatchObject({ plainSize: text.length + big.length, numRecords: 0, version: 1 });
      for (const payload of [meta!, index!, content!]) {
        const stored = back.bytes.subarray(payload.bodyOffset, payload.bodyOffset + payload.header.storedSize);
        expect(xxh3_64(stored)).toBe(payload.header.checksum);
        expect(payload.header.compression).toBe(compression === "zstd" ? Compression.Zstd : Compression.None);
        if (compression === "none") expect(payload.header.storedSize).toBe(payload.header.plainSize);
      }
    }
  });

  test("only empty files: an index of one record and an empty content payload", async () => {
    for (const compression of ["zstd", "none"] as const) {
      const back = await roundTrip("empty", { fileType: FileType.Binary, metas: [[str(1, "e")]], content: [await fileOf(new Uint8Array(0))] }, { compression });
      expect(back.records.index).toEqual([{ start: 0, end: 0, digest: EMPTY }]);
      expect(back.payloads.at(-1)!.header).toMatchObject({ kind: PayloadKind.Content, plainSize: 0 });
      expect(back.summary).toEqual({ plainBytes: 0, files: 1, strategy: "split" });
    }
  });

  test("no content: neither index nor content payload", async () => {
    const back = await roundTrip("no-content", { fileType: FileType.Binary, metas: [[str(1, "e")]], content: [] });
    expect(back.payloads.map((p) => p.header.kind)).toEqual([PayloadKind.Meta]);
    expect(back.summary.strategy).toBe("none");
  });
});

describe("zstd frames", () => {
  const big = pseudoRandom(3 * 1024 * 1024, 7);

  test("windowLog 31 (Rust style): the content frame is single-segment, window = content size, and reads back", async () => {
    const back = await roundTrip("wl31", { fileType: FileType.Binary, metas: [[str(1, "w")]], content: [await fileOf(big)] }, { windowLog: 31, level: 3 });
    const content = back.payloads.at(-1)!;
    const frame = frameHeader(back.bytes.subarray(content.bodyOffset));
    expect(frame.descriptor & 0x20).toBe(0x20);
    expect(frame.contentSize).toBe(big.length);
    expect(frame.windowSize).toBe(big.length);
    expect(back.contents).toEqual([big]);
    // Record payloads stay bounded by our own limit whatever the option says.
    for (const payload of back.payloads.slice(0, -1)) {
      const header = frameHeader(back.bytes.subarray(payload.bodyOffset));
      expect(header.contentSize).toBe(payload.header.plainSize);
      expect(header.windowSize).toBeLessThanOrEqual(2 ** WRITER_WINDOW_LOG);
    }
  });

  test("our default windowLog bounds the window at 2^27 even for content larger than that", async () => {
    expect(WRITER_WINDOW_LOG).toBeLessThanOrEqual(27);
    const chunk = pseudoRandom(1 << 20, 3);
    const count = 130; // 130 MiB > 2^27
    const hasher = await createXxh3_128();
    for (let i = 0; i < count; i++) hasher.update(chunk);
    const huge: ContentFile = { digest: hasher.digestHex(), size: count << 20, *chunks() { for (let i = 0; i < count; i++) yield chunk; } };
    for (const windowLog of [undefined, 31]) {
      const file = outPath(`huge-${windowLog}`);
      await writeStone(file, { fileType: FileType.Binary, metas: [[str(1, "h")]], content: [huge] }, { level: 1, windowLog });
      const reader = StoneReader.open(file);
      try {
        const content = reader.contentPayload!;
        const frame = frameHeader(new Uint8Array(reader.source.read(content.bodyOffset, 32)));
        expect(frame.contentSize).toBe(count << 20);
        if (windowLog === undefined) {
          expect(frame.singleSegment).toBe(false);
          expect(frame.windowSize).toBe(2 ** 27);
        } else {
          expect(frame.singleSegment).toBe(true);
          expect(frame.windowSize).toBe(count << 20);
        }
        expect(await streamContent(reader, reader.records().index)).toEqual({ plainBytes: count << 20, files: 1, strategy: "split" });
      } finally {
        reader.close();
      }
      fs.rmSync(file);
    }
  });
});

describe("file types", () => {
  test("3: a repository index of meta payloads with package-uri, package-hash and package-size", async () => {
    const packages: PackageInput[] = [
      { ...BASE_PACKAGE, name: "alpha", sourceId: "alpha", uri: "a/alpha/alpha-1-1-1-x86_64.stone", hash: "ab".repeat(32), downloadSize: 12_345 },
      { ...BASE_PACKAGE, name: "beta", sourceId: "beta", uri: "b/beta/beta-1-1-1-x86_64.stone", hash: "cd".repeat(32), downloadSize: 2 ** 40 },
    ];
    const metas = packages.map(metaRecordsFor);
    const back = await roundTrip("index", { fileType: FileType.Repository, metas });
    expect(back.header).toEqual({ numPayloads: 2, fileType: 3, version: 1 });
    expect(back.payloads.map((p) => p.header.kind)).toEqual([PayloadKind.Meta, PayloadKind.Meta]);
    expect(back.records.metas).toEqual(metas);
    // uri, hash, size straight after homepage (stone §8.2)
    expect(back.records.metas[0]!.slice(8, 12).map((r) => r.tag)).toEqual([MetaTag.Homepage, MetaTag.PackageURI, MetaTag.PackageHash, MetaTag.PackageSize]);
    const pkgs = back.records.metas.map((m) => packageFromMeta(m));
    expect(pkgs.map((p) => [p.name, p.uri, p.hash, p.downloadSize])).toEqual(packages.map((p) => [p.name, p.uri, p.hash, p.downloadSize]));
  });

  test("4: a build manifest with build-depends (merged into dependencies when read, §8.4)", async () => {
    const pkg: PackageInput = {
      ...BASE_PACKAGE, buildRelease: 0, dependencies: [],
      buildDependencies: [parseDependency("pkgconfig(zlib)"), parseDependency("binary(cmake)"), parseDependency("gcc")],
    };
    const back = await roundTrip("manifest", { fileType: FileType.BuildManifest, metas: [metaRecordsFor(pkg)] });
    expect(back.header.fileType).toBe(4);
    const buildDepends = back.records.metas[0]!.filter((r) => r.tag === MetaTag.BuildDepends);
    expect(buildDepends.map((r) => [r.value.type, r.value.type === "dependency" ? `${r.value.value.kind}(${r.value.value.name})` : ""])).toEqual([
      ["dependency", "binary(cmake)"], ["dependency", "name(gcc)"], ["dependency", "pkgconfig(zlib)"],
    ]);
    const read = packageFromMeta(back.records.metas[0]!);
    expect(read.buildRelease).toBe(0);
    expect(read.dependencies.map((d) => `${d.kind}(${d.name})`)).toEqual(["binary(cmake)", "name(gcc)", "pkgconfig(zlib)"]);
  });
});

describe("the bash-completion fixture re-written", () => {
  test("gives identical records and content back", async () => {
    const original = await readBack("/work/shared/fixtures/bash-completion-2.11-1-1-x86_64.stone");
    const content: ContentFile[] = original.records.index.map((record, i) => ({
      digest: record.digest, size: record.end - record.start, chunks: () => [original.contents[i]!],
    }));
    const back = await roundTrip("bash-completion", {
      fileType: original.header.fileType, metas: original.records.metas, layout: original.records.layout, content,
    });
    expect(back.header).toEqual(original.header);
    expect(back.records).toEqual(original.records);
    expect(back.contents).toEqual(original.contents);
    expect(back.payloads.map((p) => [p.header.kind, p.header.plainSize])).toEqual([
      [PayloadKind.Meta, 522], // meta strings carry one NUL in both writers
      [PayloadKind.Layout, 64_731 - 745 - 271], // layout loses boulder-D's NUL on every target and symlink source
      [PayloadKind.Index, 15_168],
      [PayloadKind.Content, 872_279],
    ]);
  });
});

describe("failures leave nothing behind", () => {
  const files = () => fs.readdirSync(root);

  test("a file that changed between indexing and writing", async () => {
    const good = utf8.encode("the bytes that were indexed");
    const changed: ContentFile = { ...(await fileOf(good)), chunks: () => [utf8.encode("the bytes that were indexeD")] };
    const longer: ContentFile = { ...(await fileOf(good)), chunks: () => [good, new Uint8Array([1])] };
    for (const bad of [changed, longer]) {
      const file = outPath("changed");
      const before = files();
      const error = await writeStone(file, { fileType: FileType.Binary, metas: [[str(1, "c")]], content: [await fileOf(new Uint8Array(9)), bad] }).catch((e) => e);
      expect(error).toBeInstanceOf(StoneError);
      expect(error.code).toBe("STONE_DIGEST");
      expect(error.message).toStartWith(`${file}: payload 2 (content): file 1 of the content changed while packing`);
      expect(fs.existsSync(file)).toBe(false);
      expect(files()).toEqual(before);
    }
  });

  test("an existing package is left untouched by a failed re-write", async () => {
    const file = outPath("kept");
    await writeStone(file, { fileType: FileType.Binary, metas: [[str(1, "k")]] });
    const before = fs.readFileSync(file);
    const listing = files();
    const broken: ContentFile = { digest: EMPTY, size: 1, chunks: () => [new Uint8Array(1)] };
    await expect(writeStone(file, { fileType: FileType.Binary, metas: [[str(1, "k2")]], content: [broken] })).rejects.toBeInstanceOf(StoneError);
    expect(fs.readFileSync(file)).toEqual(before);
    expect(files()).toEqual(listing);
  });

  test("a read error in the middle of the content", async () => {
    const file = outPath("read-error");
    const listing = files();
    const failing: ContentFile = {
      digest: EMPTY, size: 10,
      async *chunks() {
        yield new Uint8Array(5);
        throw Object.assign(new Error("EIO: i/o error, read"), { code: "EIO" });
      },
    };
    const error = await writeStone(file, { fileType: FileType.Binary, metas: [[str(1, "r")]], content: [failing] }).catch((e) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe("EIO");
    expect(fs.existsSync(file)).toBe(false);
    expect(files()).toEqual(listing);
  });
});
