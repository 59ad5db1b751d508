import { afterAll, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { InstallationError, legacyStateId, parseStateId, readActiveStateId, readStateId, writeStateId } from "../../src/installation/index.ts";

const temp = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), "moss-state-id-"));
afterAll(() => fs.rmSync(temp, { recursive: true, force: true }));

test("parses signed 32-bit decimals, trimming whitespace, and nothing else", () => {
  const cases: [string, number | undefined][] = [
    ["5", 5],
    [" 12\n", 12],
    ["\t7\r\n", 7],
    ["-3", -3],
    ["+4", 4],
    ["007", 7],
    ["2147483647", 2147483647],
    ["-2147483648", -2147483648],
    ["2147483648", undefined],
    ["-2147483649", undefined],
    ["1.5", undefined],
    ["1e3", undefined],
    ["0x10", undefined],
    ["1 2", undefined],
    ["", undefined],
    ["abc", undefined],
  ];
  expect(cases.map(([text]) => parseStateId(text))).toEqual(cases.map(([, id]) => id));
});

test("reads the legacy /usr link target …/<n>/usr", () => {
  const cases: [string, number | undefined][] = [
    ["/.moss/root/5/usr", 5],
    [".moss/root/19/usr/", 19],
    ["5/usr", 5],
    ["/x/./8/usr", 8],
    ["usr", undefined],
    ["/usr", undefined],
    ["/x/5/lib", undefined],
    ["/x/ 5/usr", undefined],
    ["/x/five/usr", undefined],
  ];
  expect(cases.map(([target]) => legacyStateId(target))).toEqual(cases.map(([, id]) => id));
});

test("readStateId is undefined for a missing tree or file", () => {
  expect(readStateId(path.join(temp, "nowhere"))).toBeUndefined();
  fs.mkdirSync(path.join(temp, "empty-usr"));
  expect(readStateId(path.join(temp, "empty-usr"))).toBeUndefined();
});

test("writeStateId writes the bare decimal without a newline and replaces an old id", () => {
  const usr = path.join(temp, "usr-write");
  fs.mkdirSync(usr);
  fs.writeFileSync(path.join(usr, ".stateID"), "3");
  writeStateId(usr, 17);
  expect(fs.readFileSync(path.join(usr, ".stateID"), "utf8")).toBe("17");
  expect(readStateId(usr)).toBe(17);
  expect(fs.readdirSync(usr)).toEqual([".stateID"]);
});

test("a temp file left by a crash mid-write is replaced by the next write", () => {
  const usr = path.join(temp, "usr-crash");
  fs.mkdirSync(usr);
  fs.writeFileSync(path.join(usr, ".stateID"), "8");
  fs.writeFileSync(path.join(usr, ".stateID.moss-tmp"), "9 half-writ");
  expect(readStateId(usr)).toBe(8);
  writeStateId(usr, 9);
  expect(fs.readdirSync(usr).sort()).toEqual([".stateID"]);
  expect(readStateId(usr)).toBe(9);
});

test("writeStateId refuses an id Rust could not read back", () => {
  const usr = path.join(temp, "usr-bad");
  fs.mkdirSync(usr);
  for (const id of [2 ** 31, 1.5, Number.NaN]) {
    expect(() => writeStateId(usr, id)).toThrow(InstallationError);
  }
  expect(fs.readdirSync(usr)).toEqual([]);
});

test("writeStateId into a missing tree is an InstallationError naming the file", () => {
  const usr = path.join(temp, "no-usr");
  expect(() => writeStateId(usr, 1)).toThrow(`cannot write "${path.join(usr, ".stateID")}"`);
});

test("readActiveStateId prefers .stateID over the legacy link", () => {
  const root = path.join(temp, "both");
  fs.mkdirSync(path.join(root, ".moss", "root", "4", "usr"), { recursive: true });
  fs.writeFileSync(path.join(root, ".moss", "root", "4", "usr", ".stateID"), "40");
  fs.symlinkSync(".moss/root/4/usr", path.join(root, "usr"));
  expect(readActiveStateId(root)).toBe(40);
  fs.rmSync(path.join(root, ".moss", "root", "4", "usr", ".stateID"));
  expect(readActiveStateId(root)).toBe(4);
  fs.rmSync(path.join(root, "usr"));
  expect(readActiveStateId(root)).toBeUndefined();
});
