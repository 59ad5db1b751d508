import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { assetPath, cleanLeftovers, collectAssets, collectDownloads, downloadPath, unpackToStore, verifyAsset } from "../../src/store/index.ts";
import { directoriesUnder, filesUnder, indexOf, makePackage, removeTempRoots, storeIn, tempRoot } from "./helpers.ts";

afterAll(removeTempRoots);

const relativeTo = (dir: string, files: string[]) => files.map((file) => path.relative(dir, file)).sort();
function put(file: string, content: string, mtime?: Date): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
  if (mtime) fs.utimesSync(file, mtime, mtime);
}

describe("collectAssets (spec §7.2 step 4)", () => {
  test("keeps exactly the kept digests' assets and removes strays, parts, misplaced files and empty dirs", async () => {
    const root = tempRoot();
    const store = storeIn(root);
    const keepStone = await makePackage(root, "keep", { "a": "kept one", "b": "kept two ".repeat(40) });
    const dropStone = await makePackage(root, "drop", { "c": "dropped one", "d": "dropped two ".repeat(99), "e": "kept one" });
    await unpackToStore(keepStone, store);
    await unpackToStore(dropStone, store);
    const keep = new Set(indexOf(keepStone).map((record) => record.digest));
    const v2 = path.join(store.assetsDir, "v2");
    const [kept] = [...keep];
    const strays = {
      part: `${assetPath(store.assetsDir, kept!)}.123-0-1.part`,
      rustPart: `${assetPath(store.assetsDir, kept!)}.part`,
      misplaced: path.join(v2, "00", path.basename(assetPath(store.assetsDir, kept!))),
      junk: path.join(v2, "junk"),
      short: path.join(v2, "abc"),
    };
    for (const file of Object.values(strays)) put(file, "x");
    fs.mkdirSync(path.join(v2, "ee", "ff"), { recursive: true });
    fs.symlinkSync("/etc/passwd", path.join(v2, "link"));

    const droppedBytes = indexOf(dropStone).filter((record) => !keep.has(record.digest)).reduce((sum, r) => sum + r.end - r.start, 0);
    const result = collectAssets(store.assetsDir, keep);
    const expected = relativeTo(v2, [...keep].map((digest) => assetPath(store.assetsDir, digest)));
    expect(filesUnder(v2)).toEqual(expected);
    expect(result.removed).toBe(2 + 5 + 1);
    // 5 one-byte strays, and the symlink counts its own size (the length of its target).
    expect(result.bytes).toBe(droppedBytes + 5 + "/etc/passwd".length);
    // Only the directories of the kept assets remain.
    const needed = new Set<string>();
    for (const file of expected) for (let dir = path.dirname(file); dir !== "."; dir = path.dirname(dir)) needed.add(dir);
    expect(directoriesUnder(v2)).toEqual([...needed].sort());
    expect(fs.existsSync("/etc/passwd")).toBe(true);
  });

  test("an empty keep set empties the store but keeps v2 itself", async () => {
    const root = tempRoot();
    const store = storeIn(root);
    await unpackToStore(await makePackage(root, "all", { "x": "1", "y": "2" }), store);
    const result = collectAssets(store.assetsDir, new Set());
    expect(result.removed).toBe(2);
    expect(fs.readdirSync(path.join(store.assetsDir, "v2"))).toEqual([]);
  });

  test("a store that does not exist yet has nothing to collect", () => {
    expect(collectAssets(path.join(tempRoot(), "none"), new Set())).toEqual({ removed: 0, bytes: 0 });
  });
});

describe("collectDownloads (spec §7.2 step 3, §9 item 19)", () => {
  test("keeps the kept hashes and removes the rest, .part files included", () => {
    const cache = tempRoot();
    const hashes = ["a".repeat(64), "b".repeat(60) + "1234", "c".repeat(64)];
    for (const hash of hashes) put(downloadPath(cache, hash), `stone ${hash}`);
    put(`${downloadPath(cache, hashes[2]!)}.part`, "partial");
    put(`${downloadPath(cache, hashes[0]!)}.part`, "partial");
    put(path.join(cache, "downloads", "v1", hashes[0]!), "misplaced");
    const result = collectDownloads(cache, new Set([hashes[0]!]));
    const v1 = path.join(cache, "downloads", "v1");
    expect(filesUnder(v1)).toEqual([path.relative(v1, downloadPath(cache, hashes[0]!))]);
    expect(result.removed).toBe(5);
    expect(directoriesUnder(v1)).toEqual(["aaaaa", "aaaaa/aaaaa"]);
  });
});

describe("cleanLeftovers (spec §3.21)", () => {
  test("removes parts of dead writers and of earlier processes, keeps live ones, empties the temp dir", () => {
    const root = tempRoot();
    const store = storeIn(root);
    const asset = assetPath(store.assetsDir, "0123456789abcdef0123456789abcdef");
    const past = new Date(performance.timeOrigin - 60_000);
    const deadPid = spawnSync("true").pid!;
    const sleeper = Bun.spawn(["sleep", "30"]);
    try {
      const files = {
        dead: `${asset}.${deadPid}-0-1.part`,
        ourOld: `${asset}.${process.pid}-0-7.part`,
        ourNew: `${asset}.${process.pid}-0-8.part`,
        live: `${asset}.${sleeper.pid}-0-1.part`,
        rustOld: `${asset}.part`,
        rustNew: `${asset.replace(/f$/, "e")}.part`,
        asset,
      };
      put(files.dead, "d");
      put(files.ourOld, "o", past);
      put(files.ourNew, "n");
      put(files.live, "l");
      put(files.rustOld, "r", past);
      put(files.rustNew, "r");
      put(files.asset, "a");
      put(path.join(store.tempDir, "pkg-1-1.x86_64"), "content temp");
      put(path.join(store.tempDir, ".stone-content-x", "content"), "spill");
      const result = cleanLeftovers(store);
      const v2 = path.join(store.assetsDir, "v2");
      expect(filesUnder(v2)).toEqual(relativeTo(v2, [files.ourNew, files.live, files.rustNew, files.asset]));
      expect(result.removed).toBe(3 + 2);
      expect(fs.readdirSync(store.tempDir)).toEqual([]);
    } finally {
      sleeper.kill();
    }
  });
});

describe("verifyAsset", () => {
  test("ok, missing and corrupt", async () => {
    const root = tempRoot();
    const store = storeIn(root);
    const stone = await makePackage(root, "verify", { "a": "verify me", "b": "and me too" });
    const [first, second] = indexOf(stone);
    await unpackToStore(stone, store);
    expect(await verifyAsset(store.assetsDir, first!.digest)).toBe("ok");
    fs.writeFileSync(assetPath(store.assetsDir, first!.digest), "verify mE");
    expect(await verifyAsset(store.assetsDir, first!.digest)).toBe("corrupt");
    fs.rmSync(assetPath(store.assetsDir, second!.digest));
    expect(await verifyAsset(store.assetsDir, second!.digest)).toBe("missing");
    fs.mkdirSync(assetPath(store.assetsDir, second!.digest));
    expect(await verifyAsset(store.assetsDir, second!.digest)).toBe("corrupt");
    expect(await verifyAsset(path.join(root, "nowhere"), second!.digest)).toBe("missing");
  });
});
