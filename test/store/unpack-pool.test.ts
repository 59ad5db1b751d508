/**
 * unpackAll (store/unpack-pool.ts): many packages at once, on this thread or in worker threads,
 * with results in the order asked for, and a failure that stops the rest cleanly.
 */
import { afterAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { StoneReader, type LayoutRecord } from "../../src/stone/index.ts";
import { unpackAll, UnpackFeed } from "../../src/store/index.ts";
import { assetName } from "../../src/store/paths.ts";
import { badAssets, filesUnder, indexOf, makePackage, removeTempRoots, storeIn, tempRoot } from "./helpers.ts";

afterAll(removeTempRoots);

/** Six packages that share a third of their files. */
async function packages(root: string): Promise<string[]> {
  const shared: Record<string, Uint8Array> = {};
  for (let i = 0; i < 30; i++) shared[`share/common/${i}`] = new Uint8Array(400 + i * 13).fill(i);
  const stones: string[] = [];
  for (let p = 0; p < 6; p++) {
    const own: Record<string, Uint8Array> = {};
    for (let i = 0; i < 60; i++) own[`share/p${p}/${i}`] = new Uint8Array(200 + i).map((_, j) => (j * 31 + i + p * 7) % 251);
    stones.push(await makePackage(root, `pool${p}`, { ...shared, ...own }));
  }
  return stones;
}

describe("unpackAll", () => {
  for (const threads of [1, 2]) {
    test(`with ${threads} thread${threads > 1 ? "s" : ""}: every package's assets, results in the order of the paths`, async () => {
      const root = tempRoot();
      const stones = await packages(root);
      const store = storeIn(root);
      const delivered: number[] = [];
      const layouts: LayoutRecord[][] = [];
      const results = await unpackAll(stones, store, {
        threads,
        onUnpacked: (index, result) => {
          delivered.push(index);
          layouts[index] = result.layout;
        },
      });
      // In the order of the paths, whichever thread finished which package when.
      expect(delivered).toEqual([0, 1, 2, 3, 4, 5]);
      for (const [i, stone] of stones.entries()) {
        const index = indexOf(stone);
        expect(layouts[i]!.filter((record) => record.target.startsWith("share/p")).every((record) => record.target.startsWith(`share/p${i}/`))).toBe(true);
        expect(layouts[i]!.length).toBe(90);
        expect(results[i]!.written + results[i]!.reused).toBe(index.length);
        expect(await badAssets(store.assetsDir, index)).toEqual([]);
      }
      expect(filesUnder(path.join(store.assetsDir, "v2")).length).toBe(30 + 6 * 60);
    }, 60_000);

    test(`with ${threads} thread${threads > 1 ? "s" : ""}: a corrupt package fails the call with its own error and leaves no part`, async () => {
      const root = tempRoot();
      const stones = await packages(root);
      const bytes = new Uint8Array(fs.readFileSync(stones[3]!));
      {
        using reader = StoneReader.open(stones[3]!);
        bytes[reader.contentPayload!.headerOffset + 16]! ^= 0x01; // its payload checksum is now wrong
      }
      fs.writeFileSync(stones[3]!, bytes);
      const store = storeIn(root);
      const delivered: number[] = [];
      const error = await unpackAll(stones, store, { threads, onUnpacked: (index) => delivered.push(index) }).catch((caught: unknown) => caught);
      expect((error as { code?: string }).code).toBe("STONE_CHECKSUM");
      // Nothing from the failed package on: what comes after it is never recorded.
      expect(delivered.every((index) => index < 3)).toBe(true);
      expect((error as Error).message).toContain(path.basename(stones[3]!));
      expect(filesUnder(path.join(store.assetsDir, "v2")).filter((file) => file.endsWith(".part"))).toEqual([]);
    }, 60_000);
  }

  for (const threads of [1, 2]) {
    test(`with ${threads} thread${threads > 1 ? "s" : ""} and a feed: a package is unpacked once it is ready, in the order they become ready`, async () => {
      const root = tempRoot();
      const stones = await packages(root);
      const assetsOf = stones.map((stone) => indexOf(stone).map((record) => assetName(record.digest)));
      // Not there yet: each file arrives when the test says so (as a download would).
      const pending = stones.map((stone) => `${stone}.pending`);
      stones.forEach((stone, i) => fs.renameSync(stone, pending[i]!));
      const store = storeIn(root);
      const has = (i: number) => {
        const stored = new Set(filesUnder(path.join(store.assetsDir, "v2")).map((file) => path.basename(file)));
        return assetsOf[i]!.every((name) => stored.has(name));
      };
      const feed = new UnpackFeed();
      const delivered: number[] = [];
      const unpacking = unpackAll(stones, store, { threads, feed, onUnpacked: (index) => delivered.push(index) });
      const arrive = (i: number) => {
        fs.renameSync(pending[i]!, stones[i]!);
        feed.ready(i);
      };
      arrive(4);
      arrive(2);
      const deadline = Date.now() + 20_000;
      while (!(has(4) && has(2)) && Date.now() < deadline) await Bun.sleep(20);
      expect(has(4) && has(2)).toBe(true);
      // Nothing is delivered before package 0, and nothing not ready was touched.
      expect(delivered).toEqual([]);
      expect(fs.existsSync(pending[0]!)).toBe(true);
      for (const i of [0, 1, 3, 5]) arrive(i);
      await unpacking;
      expect(delivered).toEqual([0, 1, 2, 3, 4, 5]);
      expect(filesUnder(path.join(store.assetsDir, "v2")).length).toBe(30 + 6 * 60);
    }, 60_000);

    test(`with ${threads} thread${threads > 1 ? "s" : ""} and a feed that fails: the unpack ends with the feed's error`, async () => {
      const root = tempRoot();
      const stones = await packages(root);
      const feed = new UnpackFeed();
      feed.ready(0);
      const unpacking = unpackAll(stones, storeIn(root), { threads, feed }).catch((caught: unknown) => caught);
      const failure = new Error("GET http://127.0.0.1/pool1.stone: 500");
      setTimeout(() => feed.fail(failure), 50);
      expect(await unpacking).toBe(failure);
    }, 60_000);
  }
});
