import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { makeDistro } from "../../scripts/lib/distro.ts";
import { EMPTY_FILE_DIGEST } from "../../src/constants.ts";
import { xxh3_128Hex } from "../../src/hash/xxh3.ts";
import { StoneError, StoneReader } from "../../src/stone/index.ts";
import { assetPath, StoreError, unpackToStore } from "../../src/store/index.ts";
import {
  badAssets, bytesOf, directoriesUnder, distinctDigests, filesUnder, handMadeStone, indexOf, makePackage, regular,
  removeTempRoots, storeIn, tempRoot,
} from "./helpers.ts";

const FIXTURE_DIR = "/work/shared/fixtures";
const FIXTURES = (fs.readdirSync(FIXTURE_DIR, { recursive: true }) as string[])
  .filter((name) => name.endsWith(".stone"))
  .map((name) => path.join(FIXTURE_DIR, name));

afterAll(removeTempRoots);

describe("every fixture", () => {
  test("the fixture set is not empty", () => expect(FIXTURES.length).toBeGreaterThanOrEqual(3));
  for (const fixture of FIXTURES) {
    test(`${path.basename(fixture)}: every asset at its path with its digest`, async () => {
      const store = storeIn(tempRoot());
      const result = await unpackToStore(fixture, store);
      const digests = distinctDigests(result.index);
      expect(result.index).toEqual(indexOf(fixture));
      expect(result.meta.name).toBe(path.basename(fixture).replace(/-[^-]+-\d+-\d+-x86_64\.stone$/, ""));
      expect(result.written).toBe(digests.size);
      expect(result.reused).toBe(0);
      expect(await badAssets(store.assetsDir, result.index)).toEqual([]);
      // Exactly the package's assets, nothing else (no .part, no temp file).
      const expected = [...digests].map((digest) => path.relative(path.join(store.assetsDir, "v2"), assetPath(store.assetsDir, digest))).sort();
      expect(filesUnder(path.join(store.assetsDir, "v2"))).toEqual(expected);
      expect(filesUnder(store.tempDir)).toEqual([]);
    });
  }
});

describe("a generated distribution", () => {
  let distroDir: string;
  let stones: string[];
  const store = () => storeIn(path.join(distroDir, "root"));

  beforeAll(async () => {
    distroDir = tempRoot();
    const manifest = await makeDistro({ out: path.join(distroDir, "stones"), files: 600 });
    stones = manifest.packages.map((pkg) => path.join(distroDir, "stones", pkg.fileName));
  }, 60_000);

  test("every package unpacks; the store holds exactly the union of their assets, all verified", async () => {
    const all = new Set<string>();
    let written = 0;
    let reused = 0;
    for (const stone of stones) {
      const result = await unpackToStore(stone, store());
      expect(await badAssets(store().assetsDir, result.index)).toEqual([]);
      for (const digest of distinctDigests(result.index)) all.add(digest);
      written += result.written;
      reused += result.reused;
      expect(result.plainBytes).toBe(result.index.at(-1)?.end ?? 0);
    }
    // Shared files are written by the first package that has them and reused by the rest.
    expect(written).toBe(all.size);
    expect(written + reused).toBe(stones.reduce((sum, stone) => sum + distinctDigests(indexOf(stone)).size, 0));
    expect(filesUnder(path.join(store().assetsDir, "v2")).length).toBe(all.size);
  }, 60_000);

  test("unpacking again reuses every asset without decompressing the content", async () => {
    for (const stone of stones) {
      const progress: [number, number][] = [];
      const result = await unpackToStore(stone, store(), { onProgress: (done, total) => progress.push([done, total]) });
      expect(result.written).toBe(0);
      expect(result.reused).toBe(distinctDigests(result.index).size);
      expect(result.plainBytes).toBe(0);
      const plainSize = result.index.at(-1)?.end ?? 0;
      expect(progress).toEqual(plainSize > 0 ? [[plainSize, plainSize]] : []);
    }
  }, 60_000);

  test("assets are created 0644 (before the umask), directories 0755", async () => {
    const umask = process.umask();
    const first = indexOf(stones[0]!)[0]!;
    const file = assetPath(store().assetsDir, first.digest);
    expect(fs.statSync(file).mode & 0o777).toBe(0o644 & ~umask);
    expect(fs.statSync(path.dirname(file)).mode & 0o777).toBe(0o755 & ~umask);
  });
});

describe("damaged store", () => {
  const files = { "share/a": "alpha ".repeat(500), "share/b": "bravo ".repeat(700), "share/c": "charlie" };

  test("an asset with other bytes of the same size is hashed, found wrong and rewritten", async () => {
    const root = tempRoot();
    const stone = await makePackage(root, "damaged", files);
    const store = storeIn(root);
    const first = await unpackToStore(stone, store);
    const victim = first.index[0]!;
    const file = assetPath(store.assetsDir, victim.digest);
    const bytes = fs.readFileSync(file);
    const middle = bytes.length >> 1;
    bytes[middle] = bytes[middle]! ^ 0x20;
    fs.writeFileSync(file, bytes);
    const again = await unpackToStore(stone, store);
    expect(again.written).toBe(1);
    expect(again.reused).toBe(first.written - 1);
    expect(await badAssets(store.assetsDir, again.index)).toEqual([]);
  });

  test("a truncated asset and a missing one are rewritten", async () => {
    const root = tempRoot();
    const stone = await makePackage(root, "truncated", files);
    const store = storeIn(root);
    const { index } = await unpackToStore(stone, store);
    fs.truncateSync(assetPath(store.assetsDir, index[0]!.digest), 3);
    fs.rmSync(assetPath(store.assetsDir, index[1]!.digest));
    const again = await unpackToStore(stone, store);
    expect([again.written, again.reused]).toEqual([2, 1]);
    expect(await badAssets(store.assetsDir, index)).toEqual([]);
  });

  test("an asset replaced by a shorter file is rewritten", async () => {
    const root = tempRoot();
    const stone = await makePackage(root, "shorter", { "share/x": "x-ray ".repeat(50) });
    const store = storeIn(root);
    const { index } = await unpackToStore(stone, store);
    const file = assetPath(store.assetsDir, index[0]!.digest);
    fs.rmSync(file);
    fs.writeFileSync(file, "short");
    const again = await unpackToStore(stone, store);
    expect(again.written).toBe(1);
    expect(await badAssets(store.assetsDir, index)).toEqual([]);
  });

  test("when publishing fails half-way, the assets not yet published leave no .part behind", async () => {
    const root = tempRoot();
    const stone = await makePackage(root, "blocked", files);
    const store = storeIn(root);
    const index = indexOf(stone);
    // A non-empty directory where the second asset belongs: its rename must fail.
    const blocked = assetPath(store.assetsDir, index[1]!.digest);
    fs.mkdirSync(blocked, { recursive: true });
    fs.writeFileSync(path.join(blocked, "squatter"), "x");
    const error = await unpackToStore(stone, store).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).code).toBe("STORE_IO");
    expect((error as StoreError).message).toContain(`cannot publish asset ${blocked}`);
    const v2 = path.join(store.assetsDir, "v2");
    expect(filesUnder(v2).filter((file) => file.endsWith(".part"))).toEqual([]);
    // The first asset was published before the failure, and it is correct.
    expect(await badAssets(store.assetsDir, [index[0]!])).toEqual([]);
    expect(fs.existsSync(assetPath(store.assetsDir, index[2]!.digest))).toBe(false);
  });
});

describe("corrupt packages publish nothing", () => {
  async function corruptCopy(root: string, mutate: (bytes: Uint8Array, reader: StoneReader) => void): Promise<string> {
    const big = new Uint8Array(300_000).map((_, i) => (i * 7919) % 251);
    const stone = await makePackage(root, "victim", {
      "lib/big": big, "share/one": "one ".repeat(3000), "share/two": "two ".repeat(4000), "share/empty": "",
    });
    const bytes = new Uint8Array(fs.readFileSync(stone));
    {
      using reader = StoneReader.open(stone);
      mutate(bytes, reader);
    }
    const copy = path.join(root, "corrupt.stone");
    fs.writeFileSync(copy, bytes);
    return copy;
  }

  async function expectNothingPublished(copy: string, root: string) {
    const store = storeIn(root);
    let caught: unknown;
    try {
      await unpackToStore(copy, store);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(StoneError);
    expect(filesUnder(path.join(store.assetsDir, "v2"))).toEqual([]);
    expect(filesUnder(store.tempDir)).toEqual([]);
    return caught as StoneError;
  }

  test("a flipped byte near the end of the compressed content", async () => {
    const root = tempRoot();
    const copy = await corruptCopy(root, (bytes, reader) => {
      const content = reader.contentPayload!;
      bytes[content.bodyOffset + content.header.storedSize - 40]! ^= 0x01;
    });
    await expectNothingPublished(copy, root);
  });

  test("a wrong checksum in the content header: every file verifies, yet none is published", async () => {
    const root = tempRoot();
    const copy = await corruptCopy(root, (bytes, reader) => {
      bytes[reader.contentPayload!.headerOffset + 16]! ^= 0x01; // first byte of the XXH3-64 field
    });
    const error = await expectNothingPublished(copy, root);
    expect(error.code).toBe("STONE_CHECKSUM");
  });

  test("a failure leaves assets that were already in the store untouched", async () => {
    const root = tempRoot();
    const copy = await corruptCopy(root, (bytes, reader) => {
      bytes[reader.contentPayload!.headerOffset + 16]! ^= 0x01;
    });
    const store = storeIn(root);
    const index = indexOf(copy);
    const kept = index.find((record) => record.end - record.start === 12_000)!;
    const keptFile = assetPath(store.assetsDir, kept.digest);
    fs.mkdirSync(path.dirname(keptFile), { recursive: true });
    fs.writeFileSync(keptFile, "one ".repeat(3000));
    await expect(unpackToStore(copy, store)).rejects.toThrow("checksum");
    expect(filesUnder(path.join(store.assetsDir, "v2"))).toEqual([path.relative(path.join(store.assetsDir, "v2"), keptFile)]);
    expect(await badAssets(store.assetsDir, [kept])).toEqual([]);
  });
});

describe("index shapes", () => {
  test("the empty file is stored like any other asset (spec §1.3)", async () => {
    const root = tempRoot();
    const stone = await makePackage(root, "empty", { "share/empty": "", "share/full": "content" });
    const store = storeIn(root);
    const result = await unpackToStore(stone, store);
    expect(result.written).toBe(2);
    const file = path.join(store.assetsDir, "v2/99/aa/06", EMPTY_FILE_DIGEST);
    expect(fs.statSync(file).size).toBe(0);
  });

  test("an index that repeats a digest writes that asset once", async () => {
    const root = tempRoot();
    const [a, b] = [bytesOf("apple ".repeat(10)), bytesOf("banana ".repeat(20))];
    const [da, db] = [await xxh3_128Hex(a), await xxh3_128Hex(b)];
    const content = Buffer.concat([a, b, a]);
    const stone = handMadeStone(path.join(root, "repeat.stone"), "repeat", {
      content,
      index: [
        { start: 0, end: a.length, digest: da },
        { start: a.length, end: a.length + b.length, digest: db },
        { start: a.length + b.length, end: content.length, digest: da },
      ],
      layout: [regular("share/a", da), regular("share/b", db)],
    });
    const store = storeIn(root);
    const result = await unpackToStore(stone, store);
    expect([result.written, result.reused, result.plainBytes]).toEqual([2, 0, content.length]);
    expect(await badAssets(store.assetsDir, result.index)).toEqual([]);
    expect(filesUnder(path.join(store.assetsDir, "v2")).length).toBe(2);
  });

  test("an index out of order goes through the temp dir, which is left empty", async () => {
    const root = tempRoot();
    const [a, b] = [bytesOf("first ".repeat(30)), bytesOf("second ".repeat(40))];
    const [da, db] = [await xxh3_128Hex(a), await xxh3_128Hex(b)];
    const stone = handMadeStone(path.join(root, "shuffled.stone"), "shuffled", {
      content: Buffer.concat([a, b]),
      index: [{ start: a.length, end: a.length + b.length, digest: db }, { start: 0, end: a.length, digest: da }],
      layout: [regular("share/a", da), regular("share/b", db)],
    });
    const store = storeIn(root);
    const result = await unpackToStore(stone, store);
    expect(result.written).toBe(2);
    expect(await badAssets(store.assetsDir, result.index)).toEqual([]);
    expect(fs.statSync(store.tempDir).isDirectory()).toBe(true);
    expect(filesUnder(store.tempDir)).toEqual([]);
    expect(directoriesUnder(store.tempDir)).toEqual([]);
  });

  test("index records without a content payload: Missing content payload", async () => {
    const root = tempRoot();
    const digest = await xxh3_128Hex(bytesOf("ghost"));
    const stone = handMadeStone(path.join(root, "ghost.stone"), "ghost", {
      index: [{ start: 0, end: 5, digest }],
      layout: [regular("share/ghost", digest)],
    });
    const error = await unpackToStore(stone, storeIn(root)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).code).toBe("STORE_MISSING_CONTENT");
    expect((error as StoreError).message).toContain("Missing content payload");
  });

  test("a package without regular files writes nothing and needs no store directories", async () => {
    const root = tempRoot();
    const stone = handMadeStone(path.join(root, "links.stone"), "links", {
      index: [],
      layout: [{ uid: 0, gid: 0, mode: 0o120777, tag: 0, entryType: 2, source: "target", target: "bin/link" }],
    });
    const store = storeIn(root);
    const result = await unpackToStore(stone, store);
    expect([result.written, result.reused, result.plainBytes, result.layout.length]).toEqual([0, 0, 0, 1]);
    expect(fs.existsSync(store.assetsDir)).toBe(false);
  });

  test("progress reports the plain bytes up to the content's size", async () => {
    const root = tempRoot();
    const stone = await makePackage(root, "progress", { "share/p": new Uint8Array(3 << 20).map((_, i) => i % 13) });
    const seen: [number, number][] = [];
    await unpackToStore(stone, storeIn(root), { onProgress: (done, total) => seen.push([done, total]) });
    expect(seen.length).toBeGreaterThan(1);
    expect(seen.at(-1)).toEqual([3 << 20, 3 << 20]);
  });
});
