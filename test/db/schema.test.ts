/**
 * Opening the databases: the schema text Rust moss would create, migrations by user_version
 * (including Diesel-era files), the extra layout index, read-only opening and open failures.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { DbError, LayoutDb, MetaDb, openDatabases, StateDb } from "../../src/db/index.ts";
import { createRustDb, rawSql, RUST_LAYOUT_V1, RUST_META_V1, RUST_STATE_V1, schemaRows, tempDir } from "./rust-schema.ts";

const root = tempDir("schema");
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
let serial = 0;
const freshDir = () => {
  const dir = path.join(root, `case-${serial++}`);
  fs.mkdirSync(dir);
  return dir;
};

const SCRIPTS = { install: RUST_META_V1, layout: RUST_LAYOUT_V1, state: RUST_STATE_V1 } as const;
/** moss-ts's own additions, which Rust neither creates nor reads. */
const OUR_PINS = {
  type: "table", name: "moss_ts_state_pins", tbl_name: "moss_ts_state_pins",
  sql: "CREATE TABLE moss_ts_state_pins (state_id INTEGER NOT NULL PRIMARY KEY, FOREIGN KEY(state_id) REFERENCES state(id) ON DELETE CASCADE)",
};
const OUR_INDEX = { type: "index", name: "layout_package_id", tbl_name: "layout", sql: "CREATE INDEX layout_package_id ON layout (package_id)" };

/** What SQLite keeps of a `CREATE TABLE IF NOT EXISTS x (…);` statement: `CREATE TABLE x (…)`. */
function storedStatements(script: string): string[] {
  return [...script.matchAll(/CREATE TABLE IF NOT EXISTS (.*?\n\));/gs)].map((match) => `CREATE TABLE ${match[1]}`);
}

function fileDigest(file: string): string {
  return new Bun.CryptoHasher("sha256").update(fs.readFileSync(file)).digest("hex");
}

describe("schema", () => {
  test("a new root's databases hold Rust's CREATE TABLE text, byte for byte, at user_version 1", () => {
    const dir = freshDir();
    openDatabases(dir).close();
    for (const [name, script] of Object.entries(SCRIPTS)) {
      const file = path.join(dir, name);
      const tables = schemaRows(file).filter((row) => row.type === "table" && row.name !== "sqlite_sequence" && row.name !== OUR_PINS.name);
      expect(tables.map((row) => row.sql).sort()).toEqual(storedStatements(script).sort());
      expect(rawSql(file, (db) => db.query("PRAGMA user_version").get())).toEqual({ user_version: 1 });
    }
  });

  test("sqlite_master equals that of a Rust-created database except for the layout index", () => {
    const ours = freshDir();
    const rust = freshDir();
    openDatabases(ours).close();
    for (const [name, script] of Object.entries(SCRIPTS)) {
      createRustDb(path.join(rust, name), script);
      const expected = schemaRows(path.join(rust, name));
      if (name === "layout") expected.push(OUR_INDEX);
      if (name === "state") expected.push(OUR_PINS);
      expect(schemaRows(path.join(ours, name))).toEqual(expected.sort((a, b) => `${a.type} ${a.name}`.localeCompare(`${b.type} ${b.name}`)));
    }
  });

  test("the journal mode stays SQLite's default (delete), as Rust leaves it", () => {
    const dir = freshDir();
    const dbs = openDatabases(dir);
    dbs.state.add("Install", []);
    dbs.close();
    for (const name of Object.keys(SCRIPTS)) {
      expect(rawSql(path.join(dir, name), (db) => db.query("PRAGMA journal_mode").get())).toEqual({ journal_mode: "delete" });
      expect(fs.existsSync(path.join(dir, `${name}-wal`))).toBe(false);
    }
  });

  test("Rust's migration run against a moss-ts database changes nothing", () => {
    const dir = freshDir();
    openDatabases(dir).close();
    for (const [name, script] of Object.entries(SCRIPTS)) {
      const file = path.join(dir, name);
      const before = schemaRows(file);
      // Rust reads user_version (1) and stops; even re-running its script must be a no-op.
      rawSql(file, (db) => db.run(script));
      expect(schemaRows(file)).toEqual(before);
    }
  });

  test("a Rust-created layout database gains the package_id index and nothing else", () => {
    const file = path.join(freshDir(), "layout");
    createRustDb(file, RUST_LAYOUT_V1);
    const before = schemaRows(file);
    LayoutDb.open(file).close();
    expect(schemaRows(file)).toEqual([...before, OUR_INDEX].sort((a, b) => `${a.type} ${a.name}`.localeCompare(`${b.type} ${b.name}`)));
    const plan = rawSql(file, (db) => db.query("EXPLAIN QUERY PLAN SELECT id FROM layout WHERE package_id = ?").all("x")) as { detail: string }[];
    expect(plan.map((step) => step.detail).join(" ")).toContain("layout_package_id");
  });
});

describe("migrations", () => {
  test("a Diesel-era database (user_version 0, __diesel_schema_migrations) opens, keeps its rows and is set to version 1", () => {
    const file = path.join(freshDir(), "state");
    createRustDb(
      file,
      RUST_STATE_V1,
      (db) => {
        db.run("CREATE TABLE __diesel_schema_migrations (version VARCHAR(50) PRIMARY KEY NOT NULL, run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)");
        db.run("INSERT INTO __diesel_schema_migrations (version) VALUES ('20240304201550')");
        db.run("INSERT INTO state (id, type, created, summary) VALUES (7, 'transaction', 1700000000, 'Install')");
        db.run("INSERT INTO state_selections VALUES (7, 'abc', 1, NULL)");
      },
      { userVersion: 0 },
    );
    const state = StateDb.open(file);
    expect(state.get(7)).toEqual({
      id: 7, kind: "transaction", created: 1700000000, summary: "Install", description: null,
      selections: [{ packageId: "abc", explicit: true, reason: null }],
    });
    state.close();
    expect(rawSql(file, (db) => db.query("PRAGMA user_version").get())).toEqual({ user_version: 1 });
    expect(schemaRows(file).map((row) => row.name)).toContain("__diesel_schema_migrations");
  });

  test("a version-0 file without tables gets the whole schema", () => {
    const file = path.join(freshDir(), "install");
    rawSql(file, (db) => db.run("PRAGMA user_version = 0"));
    const meta = MetaDb.open(file);
    expect(meta.all()).toEqual([]);
    meta.close();
    expect(schemaRows(file).filter((row) => row.type === "table").map((row) => row.name).sort()).toEqual(
      ["meta", "meta_conflicts", "meta_dependencies", "meta_licenses", "meta_providers"],
    );
  });

  test("a database of a newer schema version is opened as it is, as Rust does", () => {
    const file = path.join(freshDir(), "state");
    createRustDb(file, RUST_STATE_V1, undefined, { userVersion: 2 });
    const state = StateDb.open(file);
    expect(state.list()).toEqual([]);
    state.close();
    expect(rawSql(file, (db) => db.query("PRAGMA user_version").get())).toEqual({ user_version: 2 });
  });
});

describe("read-only opening", () => {
  test("a read-only file is read, never written, and writes fail with DB_READONLY", () => {
    const file = path.join(freshDir(), "layout");
    createRustDb(file, RUST_LAYOUT_V1, (db) =>
      db.run("INSERT INTO layout (package_id, uid, gid, mode, tag, entry_type, entry_value1, entry_value2) VALUES ('p', 0, 0, 16877, 0, 'directory', 'bin', NULL)"),
    );
    fs.chmodSync(file, 0o444);
    const before = fileDigest(file);
    const schemaBefore = schemaRows(file);

    const layout = LayoutDb.open(file, { readonly: true });
    expect(layout.forPackages(["p"])).toEqual([{ packageId: "p", record: { uid: 0, gid: 0, mode: 0o40755, tag: 0, entryType: 3, target: "bin" } }]);
    let failure: unknown;
    try {
      layout.remove(["p"]);
    } catch (error) {
      failure = error;
    }
    layout.close();

    expect(failure).toBeInstanceOf(DbError);
    expect((failure as DbError).code).toBe("DB_READONLY");
    expect((failure as DbError).message).toStartWith(`${file}: removing layouts`);
    expect(fileDigest(file)).toBe(before);
    expect(schemaRows(file)).toEqual(schemaBefore); // no index added
    expect(fs.existsSync(`${file}-journal`)).toBe(false);
  });

  // SQLite opens a file this user may not write read-only even when asked for read-write; the
  // extra index must then be skipped instead of failing the open. Needs root to become nobody.
  const canDropPrivileges = process.getuid?.() === 0 && spawnSync("setpriv", ["--version"]).status === 0;
  test.skipIf(!canDropPrivileges)("a read-write open of a file the user cannot write still reads it, and writes fail with DB_READONLY", () => {
    const dir = freshDir();
    for (const traversed of [root, dir]) fs.chmodSync(traversed, 0o755); // mkdtemp makes 0700
    const file = path.join(dir, "layout");
    createRustDb(file, RUST_LAYOUT_V1, (db) =>
      db.run("INSERT INTO layout (package_id, uid, gid, mode, tag, entry_type, entry_value1, entry_value2) VALUES ('p', 0, 0, 16877, 0, 'directory', 'bin', NULL)"),
    );
    fs.chmodSync(file, 0o644);
    const script = path.join(dir, "probe.ts");
    fs.writeFileSync(
      script,
      `import { LayoutDb } from ${JSON.stringify(path.resolve(import.meta.dir, "../../src/db/index.ts"))};
       const layout = LayoutDb.open(${JSON.stringify(file)});
       let code = "none";
       try { layout.remove(["p"]); } catch (error) { code = error.code; }
       console.log(JSON.stringify({ ids: layout.packageIds(), code }));`,
    );
    fs.chmodSync(script, 0o644);
    const run = spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, script], { encoding: "utf8" });
    expect(run.stderr).toBe("");
    expect(JSON.parse(run.stdout)).toEqual({ ids: ["p"], code: "DB_READONLY" });
    expect(schemaRows(file).map((row) => row.name)).not.toContain("layout_package_id");
  }, 30_000);

  test("read-only opening of a missing file fails with DB_OPEN and creates nothing", () => {
    const dir = freshDir();
    expect(() => openDatabases(dir, { readonly: true })).toThrow(expect.objectContaining({ code: "DB_OPEN", file: path.join(dir, "install") }));
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  test("read-only opening of a file without the schema fails with DB_SCHEMA naming the missing tables", () => {
    const file = path.join(freshDir(), "state");
    rawSql(file, (db) => db.run("CREATE TABLE state (id INTEGER)"));
    expect(() => StateDb.open(file, { readonly: true })).toThrow(
      expect.objectContaining({ code: "DB_SCHEMA", message: expect.stringContaining("missing table state_selections") }),
    );
  });

  test("read-only opening accepts a Diesel-era file at version 0 that has every table", () => {
    const file = path.join(freshDir(), "install");
    createRustDb(file, RUST_META_V1, undefined, { userVersion: 0 });
    const meta = MetaDb.open(file, { readonly: true });
    expect(meta.ids()).toEqual([]);
    meta.close();
    expect(rawSql(file, (db) => db.query("PRAGMA user_version").get())).toEqual({ user_version: 0 });
  });
});

describe("open failures", () => {
  test("a file that is not a database fails with DB_CORRUPT naming it", () => {
    const file = path.join(freshDir(), "layout");
    fs.writeFileSync(file, Buffer.alloc(4096, 0x5a));
    expect(() => LayoutDb.open(file)).toThrow(expect.objectContaining({ code: "DB_CORRUPT", file }));
  });

  test("a directory in place of a database fails with DB_OPEN, and the ones already open are closed", () => {
    const dir = freshDir();
    fs.mkdirSync(path.join(dir, "state"));
    expect(() => openDatabases(dir)).toThrow(expect.objectContaining({ code: "DB_OPEN", file: path.join(dir, "state") }));
    // The two opened first were closed again: this process holds no descriptor on them.
    const openFiles = fs.readdirSync("/proc/self/fd").map((fd) => {
      try {
        return fs.readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        return "";
      }
    });
    expect(openFiles.filter((target) => target.startsWith(dir))).toEqual([]);
  });

  test("a lock held by another connection past the busy timeout fails with DB_BUSY", () => {
    const file = path.join(freshDir(), "state");
    StateDb.open(file).close();
    const state = StateDb.open(file, { readonly: true });
    const holder = new Database(file);
    holder.run("BEGIN EXCLUSIVE");
    try {
      // Shorten the 5 s wait so the test stays quick; the failure path is the same.
      (state as unknown as { db: Database }).db.run("PRAGMA busy_timeout = 50");
      expect(() => state.list()).toThrow(expect.objectContaining({ code: "DB_BUSY" }));
    } finally {
      state.close();
      holder.run("ROLLBACK");
      holder.close();
    }
  });
});
