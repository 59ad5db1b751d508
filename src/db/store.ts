/** What the three database classes share: one connection, errors that name the file, write transactions. */
import type { Database } from "bun:sqlite";
import { asDbError } from "./errors.ts";

/**
 * `package IN (…)` over any number of ids with one bound value: a JSON array expanded by SQLite,
 * so no list ever meets the host-parameter limit.
 */
export const IN_JSON_LIST = "(SELECT value FROM json_each(?))";

export function jsonList(values: readonly (string | number)[]): string {
  return JSON.stringify(values);
}

export abstract class SqliteStore implements Disposable {
  /** The database file, as given to the opener; every error names it. */
  readonly file: string;
  protected readonly db: Database;

  protected constructor(db: Database, file: string) {
    this.db = db;
    this.file = file;
  }

  close(): void {
    this.db.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** Run a read, turning SQLite failures into DbError (`action` says what was being done). */
  protected read<T>(action: string, work: () => T): T {
    try {
      return work();
    } catch (error) {
      throw asDbError(this.file, action, error);
    }
  }

  /**
   * Run `work` as one IMMEDIATE transaction: the write lock is taken up front, so a transaction
   * that reads before writing cannot deadlock against another writer, and any throw rolls back.
   */
  protected write<T>(action: string, work: () => T): T {
    return this.read(action, () => this.db.transaction(work).immediate());
  }
}
