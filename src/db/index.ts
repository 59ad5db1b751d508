/**
 * The databases of a root (`/.moss/db/{install,layout,state}`) and of each repository, in the
 * exact schemas Rust moss uses, so either binary can read what the other wrote.
 */
import path from "node:path";
import type { OpenOptions } from "./connection.ts";
import { LayoutDb } from "./layout.ts";
import { MetaDb } from "./meta.ts";
import { StateDb } from "./state.ts";

export { DbError, type DbErrorCode } from "./errors.ts";
export type { OpenOptions } from "./connection.ts";
export { MetaDb, type PackageEntry, type PackageKey, type StoredPackage } from "./meta.ts";
export { LayoutDb, type AssetUse, type LayoutEntry, type PackageLayout } from "./layout.ts";
export { StateDb, STATE_KIND_TRANSACTION, type AddStateOptions, type Selection, type SelectionInput, type State } from "./state.ts";
export { decimalToDigest } from "./layout-codec.ts";

export interface Databases extends Disposable {
  install: MetaDb;
  layout: LayoutDb;
  state: StateDb;
  close(): void;
}

/** File names inside `/.moss/db`. */
export const DB_FILE_NAMES = { install: "install", layout: "layout", state: "state" } as const;

/**
 * Open the three databases of a root. The directory must exist (opening the installation
 * creates it). If one of them fails to open, those already open are closed again.
 */
export function openDatabases(dbDir: string, opts: OpenOptions = {}): Databases {
  const opened: { close(): void }[] = [];
  try {
    const install = MetaDb.open(path.join(dbDir, DB_FILE_NAMES.install), opts);
    opened.push(install);
    const layout = LayoutDb.open(path.join(dbDir, DB_FILE_NAMES.layout), opts);
    opened.push(layout);
    const state = StateDb.open(path.join(dbDir, DB_FILE_NAMES.state), opts);
    opened.push(state);
    const close = () => {
      for (const db of opened) db.close();
    };
    return { install, layout, state, close, [Symbol.dispose]: close };
  } catch (error) {
    for (const db of opened) db.close();
    throw error;
  }
}

/** A repository's meta database (`/.moss/repo/<r>/db`): the same schema as `install`. */
export function openMetaDb(file: string, opts: OpenOptions = {}): MetaDb {
  return MetaDb.open(file, opts);
}
