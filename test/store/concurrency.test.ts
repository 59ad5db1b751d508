import { afterAll, describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { StoneReader } from "../../src/stone/index.ts";
import { assetPath, unpackToStore, type StoreDirs } from "../../src/store/index.ts";
import { badAssets, filesUnder, indexOf, makePackage, removeTempRoots, storeIn, tempRoot } from "./helpers.ts";

afterAll(removeTempRoots);

/** Two packages with 200 files in common and 50 each of their own. */
async function sharingPackages(root: string) {
  const shared: Record<string, Uint8Array> = {};
  for (let i = 0; i < 200; i++) shared[`share/common/${i}`] = new Uint8Array(500 + i * 37).fill(i % 251);
  const own = (tag: number) => {
    const files: Record<string, Uint8Array> = {};
    for (let i = 0; i < 50; i++) files[`share/own${tag}/${i}`] = new Uint8Array(300 + i).fill((i + tag * 50) % 251).map((b, j) => b ^ (j % 7) ^ tag);
    return files;
  };
  return [await makePackage(root, "left", { ...shared, ...own(1) }), await makePackage(root, "right", { ...shared, ...own(2) })] as const;
}

const parts = (store: StoreDirs) => filesUnder(path.join(store.assetsDir, "v2")).filter((file) => file.endsWith(".part"));

function runChild(stone: string, store: StoreDirs, rounds: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(import.meta.dir, "unpack-child.ts"), stone, store.assetsDir, store.tempDir, String(rounds)]);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("concurrent unpacks", () => {
  test("two packages sharing files, unpacked at once in one process, both succeed with intact assets", async () => {
    const root = tempRoot();
    const [left, right] = await sharingPackages(root);
    const store = storeIn(root);
    const [a, b] = await Promise.all([unpackToStore(left, store), unpackToStore(right, store)]);
    expect(await badAssets(store.assetsDir, a.index)).toEqual([]);
    expect(await badAssets(store.assetsDir, b.index)).toEqual([]);
    expect(a.written + a.reused).toBe(250);
    expect(b.written + b.reused).toBe(250);
    expect(filesUnder(path.join(store.assetsDir, "v2")).length).toBe(300);
    expect(parts(store)).toEqual([]);
  }, 30_000);

  test("one unpack failing while another writes the same shared assets does not damage them", async () => {
    const root = tempRoot();
    const [left, right] = await sharingPackages(root);
    const bytes = new Uint8Array(fs.readFileSync(right));
    {
      using reader = StoneReader.open(right);
      bytes[reader.contentPayload!.headerOffset + 16]! ^= 0xff; // right's payload checksum is now wrong
    }
    const brokenRight = path.join(root, "broken.stone");
    fs.writeFileSync(brokenRight, bytes);
    const store = storeIn(root);
    const [a, b] = await Promise.allSettled([unpackToStore(left, store), unpackToStore(brokenRight, store)]);
    expect(a.status).toBe("fulfilled");
    expect(b.status).toBe("rejected");
    expect(await badAssets(store.assetsDir, indexOf(left))).toEqual([]);
    expect(filesUnder(path.join(store.assetsDir, "v2")).length).toBe(250);
    expect(parts(store)).toEqual([]);
  }, 30_000);

  test("two processes unpacking the same package into one fresh store, repeatedly, never collide", async () => {
    const root = tempRoot();
    const [left] = await sharingPackages(root);
    const index = indexOf(left);
    for (let round = 0; round < 3; round++) {
      const store = storeIn(path.join(root, `round-${round}`));
      const results = await Promise.all([runChild(left, store, 2), runChild(left, store, 2)]);
      for (const result of results) expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: "" });
      // Each asset was written at least once and perhaps by both; never lost, never torn.
      const written = results.map((result) => JSON.parse(result.stdout).written as number);
      expect(written[0]! + written[1]!).toBeGreaterThanOrEqual(250);
      expect(await badAssets(store.assetsDir, index)).toEqual([]);
      expect(filesUnder(path.join(store.assetsDir, "v2")).length).toBe(250);
      expect(parts(store)).toEqual([]);
    }
  }, 60_000);

  test("a shared asset corrupted after one package was unpacked is repaired by the next package that has it", async () => {
    const root = tempRoot();
    const [left, right] = await sharingPackages(root);
    const store = storeIn(root);
    await unpackToStore(left, store);
    const shared = indexOf(left).find((record) => indexOf(right).some((other) => other.digest === record.digest))!;
    fs.writeFileSync(assetPath(store.assetsDir, shared.digest), "garbage");
    const result = await unpackToStore(right, store);
    expect(result.written).toBe(51);
    expect(await badAssets(store.assetsDir, indexOf(left))).toEqual([]);
  }, 30_000);
});
