/**
 * What Rust moss (os-tools ffff7d4b, moss/src/db/{meta,layout,state}/schemas/v1_up.sql) runs to
 * create its databases, and how it records the version: written down here independently of
 * src/db/schema.ts so the tests compare two sources, not one constant with itself.
 */
import { Database } from "bun:sqlite";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export const RUST_META_V1 = `
CREATE TABLE IF NOT EXISTS meta (
    package TEXT NOT NULL PRIMARY KEY,
    name TEXT NOT NULL,
    version_identifier TEXT NOT NULL,
    source_release INT NOT NULL,
    build_release INT NOT NULL,
    architecture TEXT NOT NULL,
    summary TEXT NOT NULL,
    description TEXT NOT NULL,
    source_id TEXT NOT NULL,
    homepage TEXT NOT NULL,
    uri TEXT NULL,
    hash TEXT NULL,
    download_size BIGINT NULL
);

CREATE TABLE IF NOT EXISTS meta_licenses (
    package TEXT NOT NULL,
    license TEXT NOT NULL,
    PRIMARY KEY (package, license),
    FOREIGN KEY (package) REFERENCES meta(package) ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS meta_dependencies (
    package TEXT NOT NULL,
    dependency TEXT NOT NULL,
    PRIMARY KEY (package, dependency),
    FOREIGN KEY (package) REFERENCES meta(package) ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS meta_providers (
    package TEXT NOT NULL,
    provider TEXT NOT NULL,
    PRIMARY KEY (package, provider),
    FOREIGN KEY (package) REFERENCES meta(package) ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS meta_conflicts (
    package TEXT NOT NULL,
    conflict TEXT NOT NULL,
    PRIMARY KEY (package, conflict),
    FOREIGN KEY (package) REFERENCES meta(package) ON DELETE CASCADE
);
`;

export const RUST_LAYOUT_V1 = `
-- Your SQL goes here

CREATE TABLE IF NOT EXISTS layout (
    id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    package_id TEXT NOT NULL,
    uid INTEGER NOT NULL,
    gid INTEGER NOT NULL,
    mode INTEGER NOT NULL,
    tag INTEGER NOT NULL,
    entry_type TEXT NOT NULL,
    entry_value1 TEXT NULL,
    entry_value2 TEXT NULL
);
`;

export const RUST_STATE_V1 = `
CREATE TABLE IF NOT EXISTS state (
    id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    type TEXT NOT NULL,
    created BIGINT NOT NULL DEFAULT (unixepoch()),
    summary TEXT NULL,
    description TEXT NULL
);

CREATE TABLE IF NOT EXISTS state_selections (
    state_id INTEGER NOT NULL,
    package_id TEXT NOT NULL,
    explicit BOOLEAN NOT NULL,
    reason TEXT NULL,
    PRIMARY KEY(state_id, package_id),
    FOREIGN KEY(state_id) REFERENCES state(id) ON DELETE CASCADE
);
`;

export type SchemaRow = { type: string; name: string; tbl_name: string; sql: string | null };

/** Everything in sqlite_master, in a stable order. */
export function schemaRows(file: string): SchemaRow[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.query("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name").all() as SchemaRow[];
  } finally {
    db.close();
  }
}

/**
 * A database as Rust moss leaves it: the script and `user_version = 1` in one transaction,
 * foreign keys on for meta and state, then `fill` runs plain SQL the way Rust's binds would.
 * Rust binds a layout u32 as a 64-bit integer, so rows it writes may hold values ≥ 2³¹ as positive.
 */
export function createRustDb(file: string, script: string, fill?: (db: Database) => void, opts: { userVersion?: number } = {}): void {
  const db = new Database(file, { create: true, readwrite: true });
  try {
    if (!script.includes("CREATE TABLE IF NOT EXISTS layout")) db.run("PRAGMA foreign_keys = ON");
    db.transaction(() => {
      db.run(script);
      db.run(`PRAGMA user_version = ${opts.userVersion ?? 1}`);
    })();
    fill?.(db);
  } finally {
    db.close();
  }
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `moss-ts-db-${prefix}-`));
}

/** Run SQL on a file with a fresh plain connection (no moss-ts code involved). */
export function rawSql<T>(file: string, work: (db: Database) => T): T {
  const db = new Database(file, { readwrite: true, create: true });
  try {
    return work(db);
  } finally {
    db.close();
  }
}
