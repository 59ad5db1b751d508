/** The `state` database: every system state and the packages it selects (moss-behaviour §2.4). */
import type { Database } from "bun:sqlite";
import { ChunkedInsert } from "./batch.ts";
import { openSqlite, type OpenOptions } from "./connection.ts";
import { DbError } from "./errors.ts";
import { STATE_PINS_TABLE, STATE_SCHEMA } from "./schema.ts";
import { IN_JSON_LIST, jsonList, SqliteStore } from "./store.ts";

/** The only state kind Rust moss knows; a row with any other `type` fails to decode there too. */
export const STATE_KIND_TRANSACTION = "transaction";

export interface Selection {
  packageId: string;
  /** The user asked for it (install argument, or listed in the system model), not pulled in as a dependency. */
  explicit: boolean;
  /** Reserved; always NULL in Rust moss. */
  reason: string | null;
}

export interface State {
  id: number;
  kind: typeof STATE_KIND_TRANSACTION;
  /** Unix seconds (UTC), set by SQLite when the row was inserted. */
  created: number;
  /** `Install`, `Remove`, `Sync`…; NULL is shown as "system transaction". */
  summary: string | null;
  description: string | null;
  /** Ordered by package id. */
  selections: Selection[];
}

export interface SelectionInput {
  packageId: string;
  explicit: boolean;
  reason?: string | null;
}

export interface AddStateOptions {
  description?: string | null;
}

export class StateDb extends SqliteStore {
  static open(file: string, opts: OpenOptions = {}): StateDb {
    return new StateDb(openSqlite(file, STATE_SCHEMA, opts), file);
  }

  private constructor(db: Database, file: string) {
    super(db, file);
  }

  /**
   * Record a new state and its selections in one transaction and return its id. Ids come from
   * AUTOINCREMENT and are never reused, even after the state is removed: archive directories
   * are named by them.
   */
  add(summary: string | null, selections: readonly SelectionInput[], opts: AddStateOptions = {}): number {
    return this.write("adding a state", () => {
      const changes = this.db
        .query("INSERT INTO state (type, summary, description) VALUES (?, ?, ?)")
        .run(STATE_KIND_TRANSACTION, summary, opts.description ?? null);
      const id = Number(changes.lastInsertRowid);
      const rows = new ChunkedInsert(this.db, "INSERT INTO state_selections (state_id, package_id, explicit, reason) VALUES", 4);
      for (const selection of selections) rows.push(id, selection.packageId, selection.explicit ? 1 : 0, selection.reason ?? null);
      rows.flush();
      return id;
    });
  }

  get(id: number): State | undefined {
    return this.load("reading a state", "WHERE id = ?", [id])[0];
  }

  /** Pinned states are never pruned (moss-ts only; Rust ignores the table). */
  pin(id: number, pinned: boolean): void {
    this.write(pinned ? "pinning a state" : "unpinning a state", () => {
      if (pinned) this.db.query(`INSERT OR IGNORE INTO ${STATE_PINS_TABLE} (state_id) VALUES (?)`).run(id);
      else this.db.query(`DELETE FROM ${STATE_PINS_TABLE} WHERE state_id = ?`).run(id);
    });
  }

  pinned(): Set<number> {
    return this.read("reading pins", () => {
      // A read-only database made by Rust has no pins table.
      const table = this.db.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(STATE_PINS_TABLE);
      if (!table) return new Set<number>();
      return new Set(this.db.query<{ state_id: number }, []>(`SELECT state_id FROM ${STATE_PINS_TABLE}`).all().map((r) => r.state_id));
    });
  }

  exists(id: number): boolean {
    return this.read("reading a state", () => this.db.query("SELECT 1 FROM state WHERE id = ?").get(id) !== null);
  }

  /** Every state with its selections, in id order. */
  list(): State[] {
    return this.load("reading states", "", []);
  }

  /** `(id, created)` of every state, in id order. */
  ids(): { id: number; created: number }[] {
    return this.read("reading states", () =>
      (this.db.query("SELECT id, created FROM state ORDER BY id").values() as [unknown, unknown][]).map(([id, created]) => ({
        id: this.integer(id, `state ${String(id)}`, "id"),
        created: this.integer(created, `state ${String(id)}`, "created"),
      })),
    );
  }

  /** Delete these states; their selections cascade. Unknown ids are ignored. */
  remove(ids: readonly number[]): void {
    if (ids.length === 0) return;
    this.write("removing states", () => {
      this.db.query(`DELETE FROM state WHERE id IN ${IN_JSON_LIST}`).run(jsonList(ids));
    });
  }

  /**
   * The id the next `add` will get: one past the larger of the highest id AUTOINCREMENT has
   * handed out and the highest id present. Valid only while the caller holds the moss lock;
   * without it another process may take that id first.
   */
  nextId(): number {
    return this.read("reading the next state id", () => {
      const row = this.db
        .query(
          "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'state'), 0), coalesce((SELECT max(id) FROM state), 0)) + 1 AS next",
        )
        .get() as { next: number };
      return row.next;
    });
  }

  private load(action: string, where: string, params: number[]): State[] {
    return this.read(action, () => {
      const states = new Map<number, State>();
      const rows = this.db.query(`SELECT id, type, created, summary, description FROM state ${where} ORDER BY id`).values(...params);
      for (const [id, kind, created, summary, description] of rows) {
        const label = `state ${String(id)}`;
        if (kind !== STATE_KIND_TRANSACTION) throw new DbError("DB_CORRUPT", this.file, `${label}: unknown type ${JSON.stringify(kind)}`);
        states.set(this.integer(id, label, "id"), {
          id: id as number,
          kind,
          created: this.integer(created, label, "created"),
          summary: this.nullableText(summary, label, "summary"),
          description: this.nullableText(description, label, "description"),
          selections: [],
        });
      }
      if (states.size === 0) return [];
      const filter = where === "" ? "" : `WHERE state_id IN ${IN_JSON_LIST}`;
      const filterParams = where === "" ? [] : [jsonList([...states.keys()])];
      const selections = this.db
        .query(`SELECT state_id, package_id, explicit, reason FROM state_selections ${filter} ORDER BY state_id, package_id`)
        .values(...filterParams);
      for (const [stateId, packageId, explicit, reason] of selections) {
        const state = states.get(stateId as number);
        if (state === undefined) continue; // orphan selection: only possible with foreign keys off
        const label = `state ${String(stateId)}`;
        if (typeof packageId !== "string") throw new DbError("DB_CORRUPT", this.file, `${label}: a selection's package_id is not text`);
        state.selections.push({
          packageId,
          explicit: this.integer(explicit, label, `explicit of ${packageId}`) !== 0,
          reason: this.nullableText(reason, label, `reason of ${packageId}`),
        });
      }
      return [...states.values()];
    });
  }

  private integer(value: unknown, where: string, column: string): number {
    if (typeof value !== "number" || !Number.isInteger(value)) throw new DbError("DB_CORRUPT", this.file, `${where}: ${column} ${JSON.stringify(value)} is not an integer`);
    return value;
  }

  private nullableText(value: unknown, where: string, column: string): string | null {
    if (value !== null && typeof value !== "string") throw new DbError("DB_CORRUPT", this.file, `${where}: ${column} is not text`);
    return value;
  }
}
