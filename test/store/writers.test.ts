/**
 * The writer markers that let a clean-up skip walking the store (store/writers.ts): a crashed
 * writer's parts are still found and removed, a clean store is stamped and then left alone, and
 * an unpack leaves no marker behind, whether it succeeds or fails.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { StoneReader } from "../../src/stone/index.ts";
import { assetPath, cleanLeftovers, unpackToStore } from "../../src/store/index.ts";
import { SWEPT_STAMP } from "../../src/store/writers.ts";
import { filesUnder, makePackage, removeTempRoots, storeIn, tempRoot } from "./helpers.ts";

afterAll(removeTempRoots);

const DIGEST = "0123456789abcdef0123456789abcdef";
const markers = (assetsDir: string) => fs.readdirSync(path.join(assetsDir, "v2")).filter((name) => name.startsWith(".moss-unpack-"));

function put(file: string, text: string) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}

describe("writer markers", () => {
  test("a clean sweep stamps the store, and a stamped store with no stale writer is not walked", () => {
    const store = storeIn(tempRoot());
    fs.mkdirSync(path.join(store.assetsDir, "v2"), { recursive: true });
    cleanLeftovers(store);
    expect(fs.existsSync(path.join(store.assetsDir, "v2", SWEPT_STAMP))).toBe(true);
    // A part no marker covers cannot come from one of our writers: it is not looked for.
    const foreign = `${assetPath(store.assetsDir, DIGEST)}.999999-0-1.part`;
    put(foreign, "foreign");
    expect(cleanLeftovers(store).removed).toBe(0);
    expect(fs.existsSync(foreign)).toBe(true);
  });

  test("an empty store, before the first install, is stamped too: the command after it does not walk the new store", () => {
    const store = storeIn(tempRoot());
    expect(fs.existsSync(path.join(store.assetsDir, "v2"))).toBe(false);
    cleanLeftovers(store);
    expect(fs.existsSync(path.join(store.assetsDir, "v2", SWEPT_STAMP))).toBe(true);
  });

  test("a writer killed with parts on disk leaves its marker, and the next clean-up removes both", () => {
    const root = tempRoot();
    const store = storeIn(root);
    fs.mkdirSync(path.join(store.assetsDir, "v2"), { recursive: true });
    cleanLeftovers(store);
    const part = `${assetPath(store.assetsDir, DIGEST)}`;
    // A process that marks itself as a writer, writes a part named as our writers name theirs, and dies.
    const script = `
      const { beginWriting } = await import(${JSON.stringify(path.resolve(import.meta.dir, "../../src/store/writers.ts"))});
      const fs = await import("node:fs");
      beginWriting(${JSON.stringify(path.join(store.assetsDir, "v2"))});
      fs.mkdirSync(${JSON.stringify(path.dirname(part))}, { recursive: true });
      fs.writeFileSync(${JSON.stringify(part)} + "." + process.pid + "-0-1.part", "half");
      process.kill(process.pid, "SIGKILL");
    `;
    const child = spawnSync(process.execPath, ["-e", script]);
    expect(child.signal).toBe("SIGKILL");
    expect(markers(store.assetsDir).length).toBe(1);
    expect(filesUnder(path.join(store.assetsDir, "v2")).filter((f) => f.endsWith(".part")).length).toBe(1);
    expect(fs.existsSync(path.join(store.assetsDir, "v2", SWEPT_STAMP))).toBe(true);

    const result = cleanLeftovers(store);
    expect(result.removed).toBe(1);
    expect(filesUnder(path.join(store.assetsDir, "v2"))).toEqual([SWEPT_STAMP]);
    expect(markers(store.assetsDir)).toEqual([]);
    expect(fs.existsSync(path.join(store.assetsDir, "v2", SWEPT_STAMP))).toBe(true);
  });

  test("an unpack leaves no marker behind, after success and after failure", async () => {
    const root = tempRoot();
    const store = storeIn(root);
    const stone = await makePackage(root, "marked", { "share/a": "alpha ".repeat(300), "share/b": "bravo ".repeat(400) });
    await unpackToStore(stone, store);
    expect(markers(store.assetsDir)).toEqual([]);

    const bytes = new Uint8Array(fs.readFileSync(stone));
    {
      using reader = StoneReader.open(stone);
      bytes[reader.contentPayload!.headerOffset + 16]! ^= 0x01; // the payload checksum is now wrong
    }
    const broken = path.join(root, "broken.stone");
    fs.writeFileSync(broken, bytes);
    const other = storeIn(path.join(root, "other"));
    await expect(unpackToStore(broken, other)).rejects.toThrow("checksum");
    expect(markers(other.assetsDir)).toEqual([]);
  });
});
