/**
 * The three database schemas (moss-behaviour §2), as Rust moss creates them. The CREATE TABLE
 * text from each table name onwards is kept identical to Rust's `v1_up.sql` files, because
 * SQLite stores exactly that text in `sqlite_master`: a root created by either binary then holds
 * the same schema, and a later Rust migration that inspects it sees nothing foreign.
 */

export interface SchemaSpec {
  /** For messages: `meta`, `layout` or `state`. */
  kind: "meta" | "layout" | "state";
  /** The version-1 script, every statement `CREATE TABLE IF NOT EXISTS`. */
  version1: string;
  /** Tables the script creates; a database at user_version 0 that has them all is usable read-only. */
  tables: string[];
  /** Rust enables foreign keys (and thus the ON DELETE CASCADE children) on meta and state only. */
  foreignKeys: boolean;
  /**
   * Statements moss-ts adds on every read-write open. They must stay invisible to Rust moss: only
   * `CREATE INDEX IF NOT EXISTS`, which Rust neither creates nor minds.
   */
  additions: string[];
}

/** The schema version Rust moss writes to `PRAGMA user_version`. */
export const SCHEMA_VERSION = 1;

export const META_SCHEMA: SchemaSpec = {
  kind: "meta",
  version1: `CREATE TABLE IF NOT EXISTS meta (
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
`,
  tables: ["meta", "meta_licenses", "meta_dependencies", "meta_providers", "meta_conflicts"],
  foreignKeys: true,
  additions: [],
};

/** Name of the index moss-ts adds to `layout` (Rust has none; every VFS build would scan the table). */
export const LAYOUT_PACKAGE_INDEX = "layout_package_id";

export const LAYOUT_SCHEMA: SchemaSpec = {
  kind: "layout",
  version1: `CREATE TABLE IF NOT EXISTS layout (
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
`,
  tables: ["layout"],
  foreignKeys: false,
  additions: [`CREATE INDEX IF NOT EXISTS ${LAYOUT_PACKAGE_INDEX} ON layout (package_id)`],
};

export const STATE_PINS_TABLE = "moss_ts_state_pins";

export const STATE_SCHEMA: SchemaSpec = {
  kind: "state",
  version1: `CREATE TABLE IF NOT EXISTS state (
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
`,
  tables: ["state", "state_selections"],
  foreignKeys: true,
  // moss-ts's pins (`state pin`): a table Rust never reads; deleting a state row drops its pin.
  additions: [
    `CREATE TABLE IF NOT EXISTS ${STATE_PINS_TABLE} (state_id INTEGER NOT NULL PRIMARY KEY, FOREIGN KEY(state_id) REFERENCES state(id) ON DELETE CASCADE)`,
  ],
};
