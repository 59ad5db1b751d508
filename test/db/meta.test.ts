/**
 * The meta database: package metadata round-trips, the rows hold Rust's text forms (with the
 * implicit name provider), the queries Rust moss uses, replacement and cascading removal, rows
 * Rust wrote, and corrupt rows.
 */
import { afterAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { DbError, MetaDb, openMetaDb, type StoredPackage } from "../../src/db/index.ts";
import { metaRecordsFor, packageFromMeta, parseDependency, type PackageInput, type PackageMeta } from "../../src/stone/index.ts";
import { createRustDb, rawSql, RUST_META_V1, tempDir } from "./rust-schema.ts";
import { thrownBy } from "../helpers/errors.ts";

const root = tempDir("meta");
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
let serial = 0;
const freshFile = () => path.join(root, `install-${serial++}`);

const deps = (...texts: string[]) => texts.map(parseDependency);

/** Metadata exactly as the stone reader produces it. */
function metaOf(input: Partial<PackageInput> & { name: string }): PackageMeta {
  return packageFromMeta(
    metaRecordsFor({
      version: "1.0", release: 1, buildRelease: 1, architecture: "x86_64", summary: `${input.name} summary`,
      description: `${input.name} description`, sourceId: input.name, homepage: "https://example.org", ...input,
    }),
  );
}

const NANO = metaOf({
  name: "nano", version: "8.2", release: 14, buildRelease: 3, summary: "GNU Text Editor", licenses: ["GPL-3.0-or-later"],
  dependencies: deps("soname(libc.so.6(x86_64))", "soname(libncursesw.so.6(x86_64))", "name(file)"),
  providers: deps("binary(nano)", "binary(rnano)"), conflicts: deps("name(pico)"),
  uri: "https://cdn.example.org/n/nano-8.2-14-3-x86_64.stone", hash: "a".repeat(64), downloadSize: 123456,
});
const FILE = metaOf({ name: "file", summary: "Identify file types", dependencies: deps("soname(libc.so.6(x86_64))"), providers: deps("soname(libmagic.so.1(x86_64))", "binary(file)") });
const GLIBC = metaOf({ name: "glibc", summary: "The GNU C library", providers: deps("soname(libc.so.6(x86_64))", "interpreter(/usr/lib/ld-linux-x86-64.so.2(x86_64))"), hash: "b".repeat(64) });
const stored = (id: string, meta: PackageMeta): StoredPackage => ({ ...meta, id });

const thrown = (work: () => unknown): DbError => thrownBy(DbError, work);

describe("storing", () => {
  test("metadata from a stone round-trips, with and without the index-only fields", () => {
    using meta = MetaDb.open(freshFile());
    meta.add([{ id: "id-nano", meta: NANO }, { id: "id-file", meta: FILE }]);
    expect(meta.get("id-nano")).toEqual(stored("id-nano", NANO));
    expect(meta.get("id-file")).toEqual(stored("id-file", FILE));
    expect(meta.get("id-file")!.uri).toBeUndefined();
    expect(meta.get("missing")).toBeUndefined();
  });

  test("rows hold Rust's text forms, and the providers include the implicit name(<name>)", () => {
    const file = freshFile();
    using meta = MetaDb.open(file);
    // A caller that forgot the implicit provider still gets it stored: Rust resolves names through it.
    meta.add([{ id: "id-nano", meta: { ...NANO, providers: NANO.providers.filter((p) => p.kind !== "name") } }]);
    const rows = rawSql(file, (db) => ({
      meta: db.query("SELECT * FROM meta").values(),
      providers: db.query("SELECT provider FROM meta_providers ORDER BY provider").values().flat(),
      dependencies: db.query("SELECT dependency FROM meta_dependencies ORDER BY dependency").values().flat(),
      conflicts: db.query("SELECT conflict FROM meta_conflicts").values().flat(),
      licenses: db.query("SELECT license FROM meta_licenses").values().flat(),
    }));
    expect(rows).toEqual({
      meta: [["id-nano", "nano", "8.2", 14, 3, "x86_64", "GNU Text Editor", "nano description", "nano", "https://example.org",
        "https://cdn.example.org/n/nano-8.2-14-3-x86_64.stone", "a".repeat(64), 123456]],
      providers: ["binary(nano)", "binary(rnano)", "name(nano)"],
      dependencies: ["name(file)", "soname(libc.so.6(x86_64))", "soname(libncursesw.so.6(x86_64))"],
      conflicts: ["name(pico)"],
      licenses: ["GPL-3.0-or-later"],
    });
  });

  test("licenses come back in the order they were given, not sorted", () => {
    using meta = MetaDb.open(freshFile());
    const licenses = ["MPL-2.0", "GPL-2.0-or-later", "Apache-2.0", "MPL-2.0"];
    meta.add([{ id: "x", meta: { ...FILE, licenses } }]);
    expect(meta.get("x")!.licenses).toEqual(["MPL-2.0", "GPL-2.0-or-later", "Apache-2.0"]);
  });

  test("a dependency of unknown kind is left out, as moss drops it", () => {
    using meta = MetaDb.open(freshFile());
    meta.add([{ id: "x", meta: { ...FILE, dependencies: [...FILE.dependencies, { kind: "unknown", kindValue: 42, name: "what" }] } }]);
    expect(meta.get("x")!.dependencies).toEqual(FILE.dependencies);
  });

  test("re-adding an id replaces the package and every child row of the old one", () => {
    const file = freshFile();
    using meta = MetaDb.open(file);
    meta.add([{ id: "x", meta: NANO }]);
    meta.add([{ id: "x", meta: FILE }, { id: "y", meta: GLIBC }, { id: "y", meta: NANO }]);
    expect(meta.get("x")).toEqual(stored("x", FILE));
    expect(meta.get("y")).toEqual(stored("y", NANO));
    expect(rawSql(file, (db) => db.query("SELECT count(*) AS n FROM meta_conflicts WHERE package = 'x'").get())).toEqual({ n: 0 });
  });

  test("removal cascades to every child table", () => {
    const file = freshFile();
    using meta = MetaDb.open(file);
    meta.add([{ id: "x", meta: NANO }, { id: "y", meta: FILE }]);
    meta.remove(["x", "not-there"]);
    expect(meta.ids()).toEqual(["y"]);
    for (const table of ["meta_licenses", "meta_dependencies", "meta_providers", "meta_conflicts"]) {
      expect(rawSql(file, (db) => db.query(`SELECT count(*) AS n FROM ${table} WHERE package = 'x'`).get())).toEqual({ n: 0 });
    }
  });

  test("replaceAll swaps the whole content in one transaction: a failure keeps the old content", () => {
    using meta = MetaDb.open(freshFile());
    meta.add([{ id: "old", meta: GLIBC }]);
    const broken = { ...FILE, name: null as unknown as string };
    const error = thrown(() => meta.replaceAll([{ id: "new", meta: NANO }, { id: "bad", meta: broken }]));
    expect(error.code).toBe("DB_CONSTRAINT");
    expect(meta.ids()).toEqual(["old"]);
    meta.replaceAll([{ id: "new", meta: NANO }]);
    expect(meta.ids()).toEqual(["new"]);
  });
});

describe("queries", () => {
  const file = freshFile();
  const meta = openMetaDb(file);
  meta.add([{ id: "3-nano", meta: NANO }, { id: "1-file", meta: FILE }, { id: "2-glibc", meta: GLIBC }, { id: "0-glibc-old", meta: { ...GLIBC, release: 0, hash: undefined } }]);
  afterAll(() => meta.close());

  test("by name, exact", () => {
    expect(meta.byName("glibc").map((p) => p.id)).toEqual(["0-glibc-old", "2-glibc"]);
    expect(meta.byName("GLIBC")).toEqual([]);
  });

  test("by provider, as text or as a dependency, including the implicit name provider", () => {
    expect(meta.byProvider("soname(libc.so.6(x86_64))").map((p) => p.id)).toEqual(["0-glibc-old", "2-glibc"]);
    expect(meta.byProvider(parseDependency("name(nano)"))).toEqual([stored("3-nano", NANO)]);
    expect(meta.idsByProvider("soname(libc.so.6(x86_64))")).toEqual(["0-glibc-old", "2-glibc"]);
    expect(meta.idsByProvider("binary(vim)")).toEqual([]);
  });

  test("by dependency", () => {
    expect(meta.byDependency("soname(libc.so.6(x86_64))").map((p) => p.id)).toEqual(["1-file", "3-nano"]);
  });

  test("by keyword: substring of name or summary, ASCII case-insensitive", () => {
    expect(meta.byKeyword("EDIT").map((p) => p.id)).toEqual(["3-nano"]);
    expect(meta.byKeyword("lib").map((p) => p.id)).toEqual(["0-glibc-old", "2-glibc"]);
    expect(meta.byKeyword("n_no").map((p) => p.id)).toEqual(["3-nano"]); // `_` stays a wildcard, as in Rust
  });

  test("many by id: the existing ones, ordered by id", () => {
    expect(meta.getMany(["3-nano", "missing", "1-file"])).toEqual([stored("1-file", FILE), stored("3-nano", NANO)]);
    expect(meta.getMany([])).toEqual([]);
  });

  test("all, ids and hashes", () => {
    expect(meta.all().map((p) => p.id)).toEqual(["0-glibc-old", "1-file", "2-glibc", "3-nano"]);
    expect(meta.all()[3]).toEqual(stored("3-nano", NANO));
    expect(meta.ids()).toEqual(["0-glibc-old", "1-file", "2-glibc", "3-nano"]);
    expect(meta.hashes()).toEqual(new Set(["a".repeat(64), "b".repeat(64)]));
  });

  test("keys hold each package's identity and capability texts; wholeOf makes them exactly the packages getMany reads", () => {
    const keys = meta.keys();
    expect(keys.map((k) => k.id).sort()).toEqual(["0-glibc-old", "1-file", "2-glibc", "3-nano"]);
    const nano = keys.find((k) => k.id === "3-nano")!;
    expect(nano).toEqual({
      id: "3-nano", name: "nano", version: "8.2", release: 14, buildRelease: 3, architecture: "x86_64",
      providers: ["binary(nano)", "binary(rnano)", "name(nano)"],
      dependencies: ["name(file)", "soname(libc.so.6(x86_64))", "soname(libncursesw.so.6(x86_64))"],
      conflicts: ["name(pico)"],
    });
    const picked = [nano, keys.find((k) => k.id === "0-glibc-old")!];
    expect(meta.wholeOf(picked)).toEqual(meta.getMany(["3-nano", "0-glibc-old"]).reverse());
  });

  test("wholeOf a batch large enough to read every row keeps only the packages asked for", () => {
    const big = openMetaDb(freshFile());
    const many = Array.from({ length: 300 }, (_, i) => ({ id: `id-${String(i).padStart(3, "0")}`, meta: metaOf({ name: `p${i}`, licenses: [`L${i}`, "MIT"] }) }));
    big.add(many);
    const keys = big.keys().filter((k) => k.id !== "id-007");
    expect(keys.length).toBe(299);
    const whole = big.wholeOf(keys);
    expect(whole.map((p) => p.id)).toEqual(keys.map((k) => k.id));
    expect(whole).toEqual(big.getMany(keys.map((k) => k.id)));
    big.close();
  });
});

describe("rows written by Rust", () => {
  test("are read back into the same metadata the stone gives", () => {
    const file = freshFile();
    createRustDb(file, RUST_META_V1, (db) => {
      db.query("INSERT OR REPLACE INTO meta VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)").run(
        "id-nano", "nano", "8.2", 14, 3, "x86_64", "GNU Text Editor", "nano description", "nano", "https://example.org",
        "https://cdn.example.org/n/nano-8.2-14-3-x86_64.stone", "a".repeat(64), 123456,
      );
      db.run("INSERT OR IGNORE INTO meta_licenses VALUES ('id-nano', 'GPL-3.0-or-later')");
      for (const dep of ["soname(libc.so.6(x86_64))", "soname(libncursesw.so.6(x86_64))", "name(file)"]) db.query("INSERT INTO meta_dependencies VALUES ('id-nano', ?)").run(dep);
      for (const provider of ["binary(nano)", "binary(rnano)", "name(nano)"]) db.query("INSERT INTO meta_providers VALUES ('id-nano', ?)").run(provider);
      db.run("INSERT INTO meta_conflicts VALUES ('id-nano', 'name(pico)')");
    });
    using meta = MetaDb.open(file);
    expect(meta.get("id-nano")).toEqual(stored("id-nano", NANO));
  });

  test("a provider of a kind moss does not know fails with DB_CORRUPT naming the package", () => {
    const file = freshFile();
    createRustDb(file, RUST_META_V1, (db) => {
      db.run("INSERT INTO meta VALUES ('p', 'n', 'v', 1, 1, 'x86_64', 's', 'd', 'n', 'h', NULL, NULL, NULL)");
      db.run("INSERT INTO meta_providers VALUES ('p', 'rubygem(rails)')");
    });
    using meta = MetaDb.open(file);
    const error = thrown(() => meta.get("p"));
    expect(error.code).toBe("DB_CORRUPT");
    expect(error.message).toBe(`${file}: package p: provider "rubygem(rails)" is not a known kind(name)`);
  });
});
