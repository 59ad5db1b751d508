/**
 * How a layout record becomes a `layout` row and back (moss-behaviour §2.3, MUST): the entry
 * type as text, two value columns whose meaning depends on it, the XXH3-128 digest of a regular
 * file as a decimal integer, and uid/gid/mode/tag as signed 32-bit integers.
 */
import { LayoutEntryType, type LayoutRecord } from "../stone/index.ts";
import { DbError } from "./errors.ts";

/** The stone value Rust reports for an entry type it does not know; such rows are stored as `unknown`. */
export const UNKNOWN_ENTRY_TYPE = 255;

const ENTRY_TYPE_TEXT: Record<number, string> = {
  [LayoutEntryType.Regular]: "regular",
  [LayoutEntryType.Symlink]: "symlink",
  [LayoutEntryType.Directory]: "directory",
  [LayoutEntryType.CharacterDevice]: "character-device",
  [LayoutEntryType.BlockDevice]: "block-device",
  [LayoutEntryType.Fifo]: "fifo",
  [LayoutEntryType.Socket]: "socket",
};
const ENTRY_TYPE_VALUE: Record<string, number> = {
  ...Object.fromEntries(Object.entries(ENTRY_TYPE_TEXT).map(([value, text]) => [text, Number(value)])),
  unknown: UNKNOWN_ENTRY_TYPE,
};

/** `entry_type`, `entry_value1`, `entry_value2` of one row. */
export type LayoutFileColumns = [entryType: string, value1: string, value2: string | null];

/**
 * The entry type of a row as a number, computed by SQLite: reading the text of every row would
 * allocate a string per row (65,000 per state). A type this table does not know comes back as
 * its text (or NULL), for the error message.
 */
export const ENTRY_TYPE_SQL = `CASE entry_type ${Object.entries(ENTRY_TYPE_VALUE).map(([text, value]) => `WHEN '${text}' THEN ${value}`).join(" ")} ELSE entry_type END`;

/** The columns `decodeLayoutRow` reads, in order (with `package_id` given apart). */
export const LAYOUT_ROW_SQL = `id, uid, gid, mode, tag, ${ENTRY_TYPE_SQL}, entry_value1, entry_value2`;

/** A row read with LAYOUT_ROW_SQL in `values()` form. */
export type LayoutRowValues = unknown[];

export function encodeLayoutFile(record: LayoutRecord, file: string): LayoutFileColumns {
  switch (record.entryType) {
    case LayoutEntryType.Regular: {
      if (record.digest === undefined || record.digest.length !== 32) {
        throw new DbError("DB_RECORD", file, `layout entry ${record.target}: a regular file needs a 32-digit hex digest, got ${JSON.stringify(record.digest)}`);
      }
      return ["regular", digestToDecimal(record.digest, record.target, file), record.target];
    }
    case LayoutEntryType.Symlink:
      if (record.source === undefined) throw new DbError("DB_RECORD", file, `layout entry ${record.target}: a symlink needs a source`);
      return ["symlink", record.source, record.target];
    case LayoutEntryType.Directory:
    case LayoutEntryType.CharacterDevice:
    case LayoutEntryType.BlockDevice:
    case LayoutEntryType.Fifo:
    case LayoutEntryType.Socket:
      return [ENTRY_TYPE_TEXT[record.entryType]!, record.target, null];
    default:
      return ["unknown", record.source ?? "", record.target];
  }
}

/** The stone's u32 as the signed value Diesel-era Rust wrote and current Rust reads back (`i32`). */
export function toStoredInt32(value: number, field: string, target: string, file: string): number {
  if (value >>> 0 !== value) throw new DbError("DB_RECORD", file, `layout entry ${target}: ${field} ${value} is not an unsigned 32-bit integer`);
  return value | 0;
}

export function decodeLayoutRow(row: LayoutRowValues, packageId: unknown, file: string): { packageId: string; record: LayoutRecord } {
  const [rowId, uid, gid, mode, tag, entryTypeValue, value1, value2] = row;
  // No closure per row for the error path: 65,000 of them were a tenth of a state's read garbage.
  if (typeof packageId !== "string") throw corruptRow(file, rowId, "package_id is not text");
  if (typeof entryTypeValue !== "number") throw corruptRow(file, rowId, `unknown entry_type ${JSON.stringify(entryTypeValue)}`);
  const entryType = entryTypeValue;
  if (typeof value1 !== "string") throw corruptRow(file, rowId, `entry_value1 is ${value1 === null ? "NULL" : "not text"}`);
  const needsValue2 = entryType === LayoutEntryType.Regular || entryType === LayoutEntryType.Symlink || entryType === UNKNOWN_ENTRY_TYPE;
  if (needsValue2 && typeof value2 !== "string") {
    throw corruptRow(file, rowId, `entry_value2 is ${value2 === null ? "NULL" : "not text"} for a ${ENTRY_TYPE_TEXT[entryType] ?? "unknown"} entry`);
  }

  const u = fromStoredInt32(uid, "uid", file, rowId);
  const g = fromStoredInt32(gid, "gid", file, rowId);
  const m = fromStoredInt32(mode, "mode", file, rowId);
  const t = fromStoredInt32(tag, "tag", file, rowId);
  // Each kind built whole in one literal: a property added afterwards moves the object's fields
  // to a separate allocation, for every one of a state's 65,000 records.
  let record: LayoutRecord;
  if (entryType === LayoutEntryType.Regular) {
    const digest = decimalToDigest(value1);
    if (digest === undefined) throw corruptRow(file, rowId, `entry_value1 ${JSON.stringify(value1)} is not a 128-bit decimal digest`);
    record = { uid: u, gid: g, mode: m, tag: t, entryType, target: value2 as string, digest };
  } else if (entryType === LayoutEntryType.Symlink || entryType === UNKNOWN_ENTRY_TYPE) {
    record = { uid: u, gid: g, mode: m, tag: t, entryType, target: value2 as string, source: value1 };
  } else {
    record = { uid: u, gid: g, mode: m, tag: t, entryType, target: value1 };
  }
  return { packageId, record };
}

function corruptRow(file: string, rowId: unknown, problem: string): DbError {
  return new DbError("DB_CORRUPT", file, `layout row ${String(rowId)}: ${problem}`);
}

/** 32 hex digits → the decimal text Rust stores (`u128` printed with `Display`). */
export function digestToDecimal(digest: string, target: string, file: string): string {
  try {
    return BigInt(`0x${digest}`).toString();
  } catch {
    throw new DbError("DB_RECORD", file, `layout entry ${target}: digest ${JSON.stringify(digest)} is not hexadecimal`);
  }
}

const DECIMAL = /^[0-9]+$/;
const U128_LIMIT = 1n << 128n;

/** Decimal text → 32 hex digits, zero padded; undefined when it is not a u128. */
export function decimalToDigest(decimal: string): string | undefined {
  if (!DECIMAL.test(decimal)) return undefined;
  const value = BigInt(decimal);
  return value < U128_LIMIT ? value.toString(16).padStart(32, "0") : undefined;
}

/**
 * Rows written by Diesel-era Rust and by moss-ts hold the signed value; current Rust binds the
 * u32 as a 64-bit integer, so values ≥ 2³¹ may also appear positive. Both mean the same u32.
 */
function fromStoredInt32(value: unknown, field: string, file: string, rowId: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < -0x8000_0000 || value > 0xffff_ffff) {
    throw corruptRow(file, rowId, `${field} ${JSON.stringify(value)} is not a 32-bit integer`);
  }
  return value >>> 0;
}
