import { afterAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { assetName, assetPath, downloadPath, StoreError, unpackToStore } from "../../src/store/index.ts";
import { indexOf, removeTempRoots, storeIn, tempRoot } from "./helpers.ts";

const BASH = "/work/shared/fixtures/bash-completion-2.11-1-1-x86_64.stone";
afterAll(removeTempRoots);

describe("assetName (stone §5.3)", () => {
  test("drops leading zeros like Rust's {:02x}", () => {
    expect(assetName("009e284063682c78bdef54eba751f7a8")).toBe("9e284063682c78bdef54eba751f7a8");
    expect(assetName("0f00000000000000000000000000000a")).toBe("f00000000000000000000000000000a");
    expect(assetName("99aa06d3014798d86001c324468d497f")).toBe("99aa06d3014798d86001c324468d497f");
  });

  test("pads to at least two digits, so an all-zero digest is 00", () => {
    expect(assetName("00000000000000000000000000000000")).toBe("00");
    expect(assetName("00000000000000000000000000000005")).toBe("05");
    expect(assetName("000000000000000000000000000000ab")).toBe("ab");
    expect(assetName("00000000000000000000000000000abc")).toBe("abc");
  });

  test("prints lowercase and accepts names already shortened", () => {
    expect(assetName("009E284063682C78BDEF54EBA751F7A8")).toBe("9e284063682c78bdef54eba751f7a8");
    expect(assetName("9e284063682c78bdef54eba751f7a8")).toBe("9e284063682c78bdef54eba751f7a8");
  });

  test("refuses anything that is not 1-32 hex digits", () => {
    for (const bad of ["", "xyz", "0".repeat(33), "../etc", "9e28 40"]) {
      expect(() => assetName(bad)).toThrow(StoreError);
    }
  });
});

describe("assetPath", () => {
  test("nests by the first six digits of the shortened name", () => {
    expect(assetPath("/a", "009e284063682c78bdef54eba751f7a8")).toBe("/a/v2/9e/28/40/9e284063682c78bdef54eba751f7a8");
  });

  test("a name of 10 digits is nested, one of 9 sits directly in v2 (Rust: len >= 10)", () => {
    expect(assetPath("/a", "0000000000000000000000123456789a")).toBe("/a/v2/12/34/56/123456789a");
    expect(assetPath("/a", "00000000000000000000000123456789")).toBe("/a/v2/123456789");
    expect(assetPath("/a", "00000000000000000000000000000000")).toBe("/a/v2/00");
  });

  test("a real fixture's leading-zero digest is unpacked under its shortened name", async () => {
    const digest = "009e284063682c78bdef54eba751f7a8";
    expect(indexOf(BASH).some((record) => record.digest === digest)).toBe(true);
    const store = storeIn(tempRoot());
    await unpackToStore(BASH, store);
    const expected = path.join(store.assetsDir, "v2/9e/28/40/9e284063682c78bdef54eba751f7a8");
    expect(assetPath(store.assetsDir, digest)).toBe(expected);
    expect(fs.statSync(expected).isFile()).toBe(true);
    expect(fs.existsSync(path.join(store.assetsDir, "v2/00"))).toBe(false);
  });
});

describe("downloadPath (spec §1.3)", () => {
  const hash = "5f2ab1f3c0d8a6d1b7e5f9b2a3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6";

  test("first five, then last five characters", () => {
    expect(downloadPath("/c", hash)).toBe(`/c/downloads/v1/5f2ab/4d5e6/${hash}`);
    expect(downloadPath("/c", "abcde")).toBe("/c/downloads/v1/abcde/abcde/abcde");
  });

  test("a hash shorter than five characters is malformed", () => {
    let caught: unknown;
    try {
      downloadPath("/c", "abcd");
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(StoreError);
    expect((caught as StoreError).code).toBe("STORE_MALFORMED_HASH");
    expect((caught as StoreError).message).toBe("malformed hash `abcd`");
  });

  test("a hash that would leave the cache is malformed too", () => {
    expect(() => downloadPath("/c", "../../../etc/passwd")).toThrow("malformed hash");
  });
});
