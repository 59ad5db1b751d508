/** Typed database failures; every message starts with the database file it concerns. */
import { SQLiteError } from "bun:sqlite";
import { MossError } from "../errors.ts";

export type DbErrorCode =
  /** The file could not be opened (missing, permissions, a directory in the way). */
  | "DB_OPEN"
  /** The file has no moss schema, or one this build cannot use. */
  | "DB_SCHEMA"
  /** SQLite reports damage, the file is not a database, or a row holds a value moss never writes. */
  | "DB_CORRUPT"
  /** Another process held the database for longer than the busy timeout. */
  | "DB_BUSY"
  /** A write was attempted on a database opened (or only openable) read-only. */
  | "DB_READONLY"
  /** A write broke a table constraint (e.g. the same package twice in one state). */
  | "DB_CONSTRAINT"
  /** A record handed to a write cannot be stored (e.g. a regular file without a digest). */
  | "DB_RECORD"
  /** Any other SQLite failure (disk full, I/O error). */
  | "DB_QUERY";

export class DbError extends MossError {
  declare readonly code: DbErrorCode;
  /** The database file, as it was given to the opener. */
  readonly file: string;
  /** The bare problem, without the file. */
  readonly detail: string;

  constructor(code: DbErrorCode, file: string, detail: string, options?: { cause?: unknown }) {
    super(code, `${file}: ${detail}`, options);
    this.name = "DbError";
    this.file = file;
    this.detail = detail;
  }
}

/**
 * Turn what SQLite threw while doing `action` into a DbError; anything that is not an SQLite
 * failure (our own DbError, or a bug) passes through untouched.
 */
export function asDbError(file: string, action: string, error: unknown): unknown {
  if (!(error instanceof SQLiteError)) return error;
  const sqliteCode = error.code ?? "";
  const detail = `${action}: ${error.message}`;
  return new DbError(dbCodeFor(sqliteCode), file, detail, { cause: error });
}

function dbCodeFor(sqliteCode: string): DbErrorCode {
  if (sqliteCode.startsWith("SQLITE_BUSY") || sqliteCode.startsWith("SQLITE_LOCKED")) return "DB_BUSY";
  if (sqliteCode.startsWith("SQLITE_READONLY")) return "DB_READONLY";
  if (sqliteCode.startsWith("SQLITE_CORRUPT") || sqliteCode === "SQLITE_NOTADB") return "DB_CORRUPT";
  if (sqliteCode.startsWith("SQLITE_CANTOPEN") || sqliteCode.startsWith("SQLITE_PERM")) return "DB_OPEN";
  if (sqliteCode.startsWith("SQLITE_CONSTRAINT")) return "DB_CONSTRAINT";
  return "DB_QUERY";
}
