/**
 * The state database: states and selections round-trip, ids are never reused, nextId predicts
 * the next insert, removal cascades, a failed add leaves nothing, and rows Rust wrote are read.
 */
import { afterAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { DbError, StateDb } from "../../src/db/index.ts";
import { createRustDb, rawSql, RUST_STATE_V1, tempDir } from "./rust-schema.ts";
import { thrownBy } from "../helpers/errors.ts";

const root = tempDir("state");
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
let serial = 0;
const freshFile = () => path.join(root, `state-${serial++}`);

const thrown = (work: () => unknown): DbError => thrownBy(DbError, work);

describe("states", () => {
  test("a state round-trips: kind, creation time from SQLite, summary, selections ordered by package id", () => {
    const file = freshFile();
    using state = StateDb.open(file);
    const before = Math.floor(Date.now() / 1000);
    const id = state.add("Install", [
      { packageId: "zz", explicit: false },
      { packageId: "aa", explicit: true, reason: "listed in the system model" },
    ]);
    const after = Math.ceil(Date.now() / 1000);
    const got = state.get(id)!;
    expect(got).toEqual({
      id, kind: "transaction", created: got.created, summary: "Install", description: null,
      selections: [
        { packageId: "aa", explicit: true, reason: "listed in the system model" },
        { packageId: "zz", explicit: false, reason: null },
      ],
    });
    expect(got.created).toBeGreaterThanOrEqual(before);
    expect(got.created).toBeLessThanOrEqual(after);
    expect(rawSql(file, (db) => db.query("SELECT type, typeof(created) AS t FROM state").get())).toEqual({ type: "transaction", t: "integer" });
    expect(rawSql(file, (db) => db.query("SELECT package_id, explicit FROM state_selections ORDER BY package_id").values())).toEqual([["aa", 1], ["zz", 0]]);
  });

  test("a NULL summary, a description and a state without selections are kept", () => {
    using state = StateDb.open(freshFile());
    const id = state.add(null, [], { description: "imported" });
    expect(state.get(id)).toMatchObject({ summary: null, description: "imported", selections: [] });
  });

  test("list and ids go in id order; exists and get know only present states", () => {
    using state = StateDb.open(freshFile());
    const a = state.add("Install", [{ packageId: "p", explicit: true }]);
    const b = state.add("Sync", []);
    expect(state.list().map((s) => [s.id, s.summary, s.selections.length])).toEqual([[a, "Install", 1], [b, "Sync", 0]]);
    expect(state.ids().map((s) => s.id)).toEqual([a, b]);
    expect(state.ids()[0]!.created).toBe(state.get(a)!.created);
    expect(state.exists(b)).toBe(true);
    expect(state.exists(b + 1)).toBe(false);
    expect(state.get(b + 1)).toBeUndefined();
  });

  test("AUTOINCREMENT never hands out an id again after its state is removed, and nextId says what comes", () => {
    using state = StateDb.open(freshFile());
    expect(state.nextId()).toBe(1);
    const ids = [state.add("Install", []), state.add("Install", []), state.add("Install", [])];
    expect(ids).toEqual([1, 2, 3]);
    state.remove([3]);
    expect(state.nextId()).toBe(4);
    expect(state.add("Remove", [])).toBe(4);
    state.remove([1, 2, 4]);
    expect(state.list()).toEqual([]);
    expect(state.nextId()).toBe(5);
    expect(state.add("Sync", [])).toBe(5);
  });

  test("nextId follows the larger of sqlite_sequence and the highest id, as AUTOINCREMENT does", () => {
    const file = freshFile();
    createRustDb(file, RUST_STATE_V1, (db) => {
      db.run("INSERT INTO state (id, type) VALUES (11, 'transaction')");
      db.run("DELETE FROM state");
      db.run("INSERT INTO state (id, type) VALUES (9, 'transaction')");
    });
    using state = StateDb.open(file);
    expect(state.nextId()).toBe(12);
    expect(state.add("Install", [])).toBe(12);
  });

  test("removing a state removes its selections", () => {
    const file = freshFile();
    using state = StateDb.open(file);
    const id = state.add("Install", [{ packageId: "a", explicit: true }, { packageId: "b", explicit: false }]);
    const kept = state.add("Install", [{ packageId: "a", explicit: true }]);
    state.remove([id]);
    expect(rawSql(file, (db) => db.query("SELECT state_id, package_id FROM state_selections").values())).toEqual([[kept, "a"]]);
  });

  test("a failing add (the same package twice) leaves no state behind and uses up no id", () => {
    using state = StateDb.open(freshFile());
    state.add("Install", []);
    const error = thrown(() => state.add("Install", [{ packageId: "a", explicit: true }, { packageId: "a", explicit: false }]));
    expect(error.code).toBe("DB_CONSTRAINT");
    expect(error.message).toContain("adding a state");
    expect(state.ids().map((s) => s.id)).toEqual([1]);
    expect(state.nextId()).toBe(2);
  });

  test("many selections go in across several insert statements", () => {
    using state = StateDb.open(freshFile());
    const selections = Array.from({ length: 1000 }, (_, i) => ({ packageId: `pkg-${String(i).padStart(4, "0")}`, explicit: i % 7 === 0 }));
    const id = state.add("Sync", selections);
    expect(state.get(id)!.selections).toEqual(selections.map((s) => ({ ...s, reason: null })));
  });
});

describe("rows written by Rust", () => {
  test("are read back, with explicit as 0/1", () => {
    const file = freshFile();
    createRustDb(file, RUST_STATE_V1, (db) => {
      db.run("INSERT INTO state (type, summary, description) VALUES ('transaction', 'Install', NULL)");
      db.run("INSERT INTO state (type, created, summary) VALUES ('transaction', 1754000000, NULL)");
      db.run("INSERT INTO state_selections VALUES (1, 'b', 0, NULL), (1, 'a', 1, NULL), (2, 'c', 1, 'why')");
    });
    using state = StateDb.open(file);
    const [first, second] = state.list();
    expect(first).toMatchObject({ id: 1, summary: "Install", selections: [{ packageId: "a", explicit: true, reason: null }, { packageId: "b", explicit: false, reason: null }] });
    expect(second).toEqual({ id: 2, kind: "transaction", created: 1754000000, summary: null, description: null, selections: [{ packageId: "c", explicit: true, reason: "why" }] });
  });

  test("a state of an unknown type fails with DB_CORRUPT naming it", () => {
    const file = freshFile();
    createRustDb(file, RUST_STATE_V1, (db) => db.run("INSERT INTO state (type) VALUES ('snapshot')"));
    using state = StateDb.open(file);
    const error = thrown(() => state.list());
    expect(error.code).toBe("DB_CORRUPT");
    expect(error.message).toBe(`${file}: state 1: unknown type "snapshot"`);
    expect(state.ids()).toEqual([{ id: 1, created: expect.any(Number) }]);
  });
});
