/**
 * Opening one SQLite file the way Rust moss does (moss-behaviour §2.1): read-write-create, the
 * version-1 script run when `user_version` < 1, foreign keys on meta and state. The journal mode
 * is left at SQLite's default (DELETE), as Rust leaves it: WAL is a persistent property of the
 * file and would change how every other reader of a shared root must open it.
 */
import { Database, SQLiteError } from "bun:sqlite";
import { asDbError, DbError } from "./errors.ts";
import { BUSY_TIMEOUT_MS } from "./limits.ts";
import { SCHEMA_VERSION, type SchemaSpec } from "./schema.ts";

export interface OpenOptions {
  /**
   * Open without write access: nothing is created, migrated or indexed, and every write fails
   * with DB_READONLY. The file must exist and hold the schema (a Diesel-era file at
   * user_version 0 with all tables present is accepted).
   */
  readonly?: boolean;
}

export function openSqlite(file: string, schema: SchemaSpec, opts: OpenOptions = {}): Database {
  const readonly = opts.readonly ?? false;
  let db: Database;
  try {
    db = readonly ? new Database(file, { readonly: true }) : new Database(file, { readwrite: true, create: true });
  } catch (error) {
    throw asDbError(file, `cannot open the ${schema.kind} database`, error);
  }
  try {
    // Both pragmas are per connection and never stored in the file.
    db.run(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    if (schema.foreignKeys) db.run("PRAGMA foreign_keys = ON");
    if (readonly) requireSchema(db, file, schema);
    else {
      migrate(db, schema);
      addExtras(db, schema);
    }
    return db;
  } catch (error) {
    db.close();
    throw asDbError(file, `opening the ${schema.kind} database`, error);
  }
}

export function userVersion(db: Database): number {
  const row = db.query("PRAGMA user_version").get() as { user_version: number } | null;
  return row?.user_version ?? 0;
}

/** Rust's rule: below version 1, run the v1 script and set the version, in one transaction. */
function migrate(db: Database, schema: SchemaSpec): void {
  if (userVersion(db) >= SCHEMA_VERSION) return;
  // IMMEDIATE takes the write lock before the version is read again, so two processes opening
  // a new root at once cannot both decide to migrate on a stale read.
  db.transaction(() => {
    if (userVersion(db) >= SCHEMA_VERSION) return;
    db.run(schema.version1);
    db.run(`PRAGMA user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}

/**
 * A file SQLite could only open read-only (not writable by this user) already has its schema if
 * Rust or a root run created it; failing to add an index there must not stop reading it.
 */
function addExtras(db: Database, schema: SchemaSpec): void {
  for (const statement of schema.additions) {
    try {
      db.run(statement);
    } catch (error) {
      if (error instanceof SQLiteError && error.code?.startsWith("SQLITE_READONLY")) return;
      throw error;
    }
  }
}

function requireSchema(db: Database, file: string, schema: SchemaSpec): void {
  if (userVersion(db) >= SCHEMA_VERSION) return;
  const present = new Set(
    (db.query("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((row) => row.name),
  );
  const missing = schema.tables.filter((table) => !present.has(table));
  if (missing.length > 0) {
    throw new DbError(
      "DB_SCHEMA",
      file,
      `not a moss ${schema.kind} database (user_version 0, missing table${missing.length > 1 ? "s" : ""} ${missing.join(", ")}); ` +
        "it is created by the first read-write run",
    );
  }
}
