/**
 * The layout database: every entry type round-trips, rows hold exactly what Rust moss writes and
 * reads (decimal digests, signed 32-bit ids and modes), rows Rust wrote are read back, row order,
 * replacement, the asset queries, corrupt rows, and 200,000 rows in one batch.
 */
import { afterAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { DbError, decimalToDigest, LayoutDb, type LayoutEntry } from "../../src/db/index.ts";
import { LayoutEntryType, type LayoutRecord } from "../../src/stone/index.ts";
import { createRustDb, rawSql, RUST_LAYOUT_V1, tempDir } from "./rust-schema.ts";
import { thrownBy } from "../helpers/errors.ts";

const root = tempDir("layout");
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
let serial = 0;
const freshFile = () => path.join(root, `layout-${serial++}`);

const EMPTY_DIGEST = "99aa06d3014798d86001c324468d497f";
const EMPTY_DECIMAL = "204254712233039002205064565430793619839";
const COLUMNS = "package_id, uid, gid, mode, tag, entry_type, entry_value1, entry_value2";

const base = { uid: 0, gid: 0, tag: 0 };
const EVERY_TYPE: LayoutRecord[] = [
  { ...base, mode: 0o100644, entryType: LayoutEntryType.Regular, digest: EMPTY_DIGEST, target: "share/empty" },
  { ...base, mode: 0o100755, entryType: LayoutEntryType.Regular, digest: "000000000000000000000000000000ab", target: "bin/leading-zeros" },
  { ...base, mode: 0o100644, entryType: LayoutEntryType.Regular, digest: "ffffffffffffffffffffffffffffffff", target: "lib/max" },
  { ...base, mode: 0o120777, entryType: LayoutEntryType.Symlink, source: "../lib/libz.so.1", target: "lib64/libz.so" },
  { uid: 4294967294, gid: 0x8000_0000, mode: 0o40755, tag: 0xffff_ffff, entryType: LayoutEntryType.Directory, target: "share/doc" },
  { ...base, mode: 0o20644, entryType: LayoutEntryType.CharacterDevice, target: "dev/null" },
  { ...base, mode: 0o60644, entryType: LayoutEntryType.BlockDevice, target: "dev/sda" },
  { ...base, mode: 0o10644, entryType: LayoutEntryType.Fifo, target: "run/fifo" },
  { ...base, mode: 0o140644, entryType: LayoutEntryType.Socket, target: "run/socket" },
  { ...base, mode: 0, entryType: 9, source: "opaque source", target: "share/odd" },
];

function rawRows(file: string): unknown[][] {
  return rawSql(file, (db) => db.query(`SELECT ${COLUMNS} FROM layout ORDER BY id`).values());
}

const thrown = (work: () => unknown): DbError => thrownBy(DbError, work);

describe("encoding", () => {
  test("every entry type round-trips; an unknown type comes back as 255 with its source", () => {
    using layout = LayoutDb.open(freshFile());
    layout.add([{ id: "pkg", records: EVERY_TYPE }]);
    const expected = EVERY_TYPE.map((record) => ({ packageId: "pkg", record: record.entryType === 9 ? { ...record, entryType: 255 } : record }));
    expect(layout.forPackages(["pkg"])).toEqual(expected);
  });

  test("rows hold Rust's encoding: decimal digests, value columns per type, signed 32-bit integers", () => {
    const file = freshFile();
    using layout = LayoutDb.open(file);
    layout.add([{ id: "pkg", records: EVERY_TYPE }]);
    expect(rawRows(file)).toEqual([
      ["pkg", 0, 0, 0o100644, 0, "regular", EMPTY_DECIMAL, "share/empty"],
      ["pkg", 0, 0, 0o100755, 0, "regular", "171", "bin/leading-zeros"],
      ["pkg", 0, 0, 0o100644, 0, "regular", "340282366920938463463374607431768211455", "lib/max"],
      ["pkg", 0, 0, 0o120777, 0, "symlink", "../lib/libz.so.1", "lib64/libz.so"],
      ["pkg", -2, -2147483648, 0o40755, -1, "directory", "share/doc", null],
      ["pkg", 0, 0, 0o20644, 0, "character-device", "dev/null", null],
      ["pkg", 0, 0, 0o60644, 0, "block-device", "dev/sda", null],
      ["pkg", 0, 0, 0o10644, 0, "fifo", "run/fifo", null],
      ["pkg", 0, 0, 0o140644, 0, "socket", "run/socket", null],
      ["pkg", 0, 0, 0, 0, "unknown", "opaque source", "share/odd"],
    ]);
  });

  test("rows Rust wrote with plain SQL are read back, including u32 values stored unsigned", () => {
    const file = freshFile();
    createRustDb(file, RUST_LAYOUT_V1, (db) => {
      const insert = db.prepare(`INSERT INTO layout (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
      insert.run("rust-pkg", 0, 0, 33188, 0, "regular", EMPTY_DECIMAL, "share/empty");
      insert.run("rust-pkg", 4294967294, 65534, 16877, 4294967295, "directory", "share/nobody", null);
      insert.run("rust-pkg", 0, 0, 41471, 0, "symlink", "libfoo.so.1", "lib/libfoo.so");
      insert.run("rust-pkg", 0, 0, 33261, 0, "regular", "1", "bin/one");
    });
    using layout = LayoutDb.open(file);
    expect(layout.forPackages(["rust-pkg"]).map((entry) => entry.record)).toEqual([
      { uid: 0, gid: 0, mode: 0o100644, tag: 0, entryType: 1, digest: EMPTY_DIGEST, target: "share/empty" },
      { uid: 4294967294, gid: 65534, mode: 0o40755, tag: 4294967295, entryType: 3, target: "share/nobody" },
      { uid: 0, gid: 0, mode: 0o120777, tag: 0, entryType: 2, source: "libfoo.so.1", target: "lib/libfoo.so" },
      { uid: 0, gid: 0, mode: 0o100755, tag: 0, entryType: 1, digest: "00000000000000000000000000000001", target: "bin/one" },
    ]);
  });

  test("records that cannot be stored fail with DB_RECORD and leave the package's old rows in place", () => {
    const file = freshFile();
    using layout = LayoutDb.open(file);
    const good: LayoutRecord = { ...base, mode: 0o40755, entryType: LayoutEntryType.Directory, target: "bin" };
    layout.add([{ id: "pkg", records: [good] }]);
    const bad: LayoutRecord[] = [
      { ...base, mode: 0o100644, entryType: LayoutEntryType.Regular, target: "bin/no-digest" },
      { ...base, mode: 0o100644, entryType: LayoutEntryType.Regular, digest: "abc", target: "bin/short" },
      { ...base, mode: 0o100644, entryType: LayoutEntryType.Regular, digest: "zz".repeat(16), target: "bin/not-hex" },
      { ...base, mode: 0o120777, entryType: LayoutEntryType.Symlink, target: "bin/no-source" },
      { ...base, uid: -1, mode: 0o40755, entryType: LayoutEntryType.Directory, target: "bin/negative-uid" },
    ];
    for (const record of bad) {
      const error = thrown(() => layout.add([{ id: "pkg", records: [good, record] }]));
      expect(error.code).toBe("DB_RECORD");
      expect(error.message).toStartWith(`${file}: `);
      expect(error.message).toContain(record.target);
    }
    expect(layout.forPackages(["pkg"])).toEqual([{ packageId: "pkg", record: good }]);
  });
});

describe("corrupt rows", () => {
  const cases: [string, unknown[], string][] = [
    ["an unknown entry_type", ["p", 0, 0, 0, 0, "hardlink", "a", "b"], 'unknown entry_type "hardlink"'],
    ["a regular entry without value2", ["p", 0, 0, 0, 0, "regular", EMPTY_DECIMAL, null], "entry_value2 is NULL for a regular entry"],
    ["a symlink without value2", ["p", 0, 0, 0, 0, "symlink", "x", null], "entry_value2 is NULL for a symlink entry"],
    ["an unknown entry without value2", ["p", 0, 0, 0, 0, "unknown", "x", null], "entry_value2 is NULL for a unknown entry"],
    ["a NULL value1", ["p", 0, 0, 0, 0, "directory", null, null], "entry_value1 is NULL"],
    ["a digest that is not decimal", ["p", 0, 0, 0, 0, "regular", "99aa06d3", "x"], "is not a 128-bit decimal digest"],
    ["a digest above 128 bits", ["p", 0, 0, 0, 0, "regular", "340282366920938463463374607431768211456", "x"], "is not a 128-bit decimal digest"],
    ["a uid out of 32-bit range", ["p", 4294967296, 0, 0, 0, "directory", "x", null], "uid 4294967296 is not a 32-bit integer"],
  ];
  for (const [what, row, message] of cases) {
    test(`${what} fails with DB_CORRUPT naming the row id`, () => {
      const file = freshFile();
      createRustDb(file, RUST_LAYOUT_V1, (db) => {
        db.run(`INSERT INTO layout (${COLUMNS}) VALUES ('p', 0, 0, 16877, 0, 'directory', 'ok', NULL)`);
        db.query(`INSERT INTO layout (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`).run(...(row as (string | number | null)[]));
      });
      using layout = LayoutDb.open(file);
      const error = thrown(() => layout.forPackages(["p"]));
      expect(error.code).toBe("DB_CORRUPT");
      expect(error.message).toStartWith(`${file}: layout row 2: `);
      expect(error.detail).toContain(message);
    });
  }
  test("a corrupt digest also fails the asset queries", () => {
    const file = freshFile();
    createRustDb(file, RUST_LAYOUT_V1, (db) => db.run(`INSERT INTO layout (${COLUMNS}) VALUES ('p', 0, 0, 0, 0, 'regular', 'x1', 'a')`));
    using layout = LayoutDb.open(file);
    expect(thrown(() => layout.regularDigests()).detail).toBe('layout row 1: entry_value1 "x1" is not a 128-bit decimal digest');
    expect(thrown(() => layout.regularUses()).code).toBe("DB_CORRUPT");
  });
});

describe("packages", () => {
  const dir = (target: string): LayoutRecord => ({ ...base, mode: 0o40755, entryType: LayoutEntryType.Directory, target });
  const file = (target: string, digest: string): LayoutRecord => ({ ...base, mode: 0o100644, entryType: LayoutEntryType.Regular, digest, target });
  const D1 = "0123456789abcdef0123456789abcdef";
  const D2 = "00000000000000000000000000000002";

  test("re-adding a package replaces its rows and leaves other packages alone; a repeated id keeps its last list", () => {
    using layout = LayoutDb.open(freshFile());
    layout.add([{ id: "a", records: [dir("a1"), dir("a2")] }, { id: "b", records: [dir("b1")] }]);
    layout.add([{ id: "a", records: [dir("old")] }, { id: "a", records: [dir("a3")] }]);
    expect(layout.forPackages(["a", "b"]).map((entry) => `${entry.packageId}:${entry.record.target}`)).toEqual(["b:b1", "a:a3"]);
  });

  test("records come back in row order across packages, whatever order the ids are asked in", () => {
    using layout = LayoutDb.open(freshFile());
    layout.add([{ id: "zz", records: [dir("z1"), dir("z2")] }]);
    layout.add([{ id: "aa", records: [dir("a1")] }]);
    expect(layout.forPackages(["aa", "zz", "missing"]).map((entry) => entry.record.target)).toEqual(["z1", "z2", "a1"]);
    expect(layout.forPackages([])).toEqual([]);
  });

  test("rows interleaved between packages are still returned in row order", () => {
    const path_ = freshFile();
    createRustDb(path_, RUST_LAYOUT_V1, (db) => {
      for (const [pkg, target] of [["x", "1"], ["y", "2"], ["x", "3"], ["z", "4"], ["y", "5"]]) {
        db.query(`INSERT INTO layout (${COLUMNS}) VALUES (?, 0, 0, 16877, 0, 'directory', ?, NULL)`).run(pkg!, target!);
      }
    });
    using layout = LayoutDb.open(path_);
    expect(layout.forPackages(["y", "x"]).map((entry) => `${entry.packageId}:${entry.record.target}`)).toEqual(["x:1", "y:2", "x:3", "y:5"]);
  });

  test("asset queries see every regular file of every package, digests zero-padded", () => {
    using layout = LayoutDb.open(freshFile());
    layout.add([
      { id: "a", records: [dir("bin"), file("bin/one", D1), file("bin/two", D2)] },
      { id: "b", records: [file("share/same-as-one", D1), { ...base, mode: 0o120777, entryType: 2, source: "x", target: "bin/link" }] },
    ]);
    expect([...layout.regularDigests()].sort()).toEqual([D2, D1]);
    expect(layout.regularUses()).toEqual(
      new Map([
        [D1, [{ packageId: "a", target: "bin/one" }, { packageId: "b", target: "share/same-as-one" }]],
        [D2, [{ packageId: "a", target: "bin/two" }]],
      ]),
    );
  });

  test("package ids are listed sorted and removal deletes exactly the given packages", () => {
    using layout = LayoutDb.open(freshFile());
    layout.add([{ id: "c", records: [dir("c")] }, { id: "a", records: [dir("a")] }, { id: "b", records: [file("b", D1)] }]);
    expect(layout.packageIds()).toEqual(["a", "b", "c"]);
    layout.remove(["b", "c", "not-there"]);
    expect(layout.packageIds()).toEqual(["a"]);
    expect(layout.regularDigests().size).toBe(0);
    layout.remove([]);
    expect(layout.packageIds()).toEqual(["a"]);
  });
});

describe("volume", () => {
  test("200,000 rows of 500 packages go in with one call and come back unchanged, in order", () => {
    const PACKAGES = 500;
    const PER_PACKAGE = 400;
    const packages = Array.from({ length: PACKAGES }, (_, p) => ({
      id: (BigInt(p + 1) * 0x9e3779b97f4a7c15n).toString(16).padStart(64, "0"),
      records: Array.from({ length: PER_PACKAGE }, (_, i): LayoutRecord => {
        const n = p * PER_PACKAGE + i;
        if (i % 10 === 0) return { uid: 0, gid: 0, mode: 0o40755, tag: 0, entryType: LayoutEntryType.Directory, target: `share/p${p}/d${i}` };
        if (i % 10 === 1) return { uid: 0, gid: 0, mode: 0o120777, tag: 0, entryType: LayoutEntryType.Symlink, source: `f${i - 1}`, target: `share/p${p}/l${i}` };
        const digest = ((BigInt(n + 1) * 0x9e3779b97f4a7c15f39cc0605cedc834n) & ((1n << 128n) - 1n)).toString(16).padStart(32, "0");
        return { uid: n % 3, gid: 0, mode: 0o100644, tag: 0, entryType: LayoutEntryType.Regular, digest, target: `share/p${p}/f${i}` };
      }),
    }));
    using layout = LayoutDb.open(freshFile());
    layout.add(packages);

    // Ask in reverse: the answer must still follow insertion (row) order.
    const entries: LayoutEntry[] = layout.forPackages(packages.map((pkg) => pkg.id).reverse());
    expect(entries.length).toBe(PACKAGES * PER_PACKAGE);
    let mismatches = 0;
    let at = 0;
    for (const pkg of packages) {
      for (const record of pkg.records) {
        const entry = entries[at++]!;
        if (entry.packageId !== pkg.id || !Bun.deepEquals(entry.record, record)) mismatches++;
      }
    }
    expect(mismatches).toBe(0);
    expect(layout.regularDigests().size).toBe(PACKAGES * PER_PACKAGE * 0.8);
    expect(layout.packageIds().length).toBe(PACKAGES);
  }, 120_000);
});

describe("decimal digests read back", () => {
  const byBigInt = (decimal: string) => BigInt(decimal).toString(16).padStart(32, "0");

  test("every u128 comes back as its 32 zero-padded hex digits, as BigInt would print it", () => {
    let seed = 12345;
    const random16 = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) & 0xffff;
    const values = ["0", "1", "9", "10", "65535", "65536", "999999999", "1000000000", (2n ** 64n).toString(), (2n ** 128n - 1n).toString(), "0000000000000000000000000000000000000000000042"];
    for (let i = 0; i < 2000; i++) {
      let value = 0n;
      const limbs = 1 + (i % 8); // short and long values alike
      for (let l = 0; l < limbs; l++) value = (value << 16n) | BigInt(random16());
      values.push(value.toString());
    }
    for (const decimal of values) expect(decimalToDigest(decimal)).toBe(byBigInt(decimal));
  });

  test("anything else is not a digest: 2^128, empty, signs, spaces, other characters", () => {
    for (const bad of [(2n ** 128n).toString(), (2n ** 200n).toString(), "", "-1", "+1", " 1", "1 ", "1e5", "0x10", "12a", "١٢"]) {
      expect(decimalToDigest(bad)).toBeUndefined();
    }
  });
});
