/** The `layout` database: the file list of every package ever cached (moss-behaviour §2.3). */
import type { Database } from "bun:sqlite";
import type { LayoutRecord } from "../stone/index.ts";
import { ChunkedInsert } from "./batch.ts";
import { DbError } from "./errors.ts";
import { openSqlite, type OpenOptions } from "./connection.ts";
import { decimalToDigest, decodeLayoutRow, encodeLayoutFile, toStoredInt32, type LayoutRowValues } from "./layout-codec.ts";
import { LAYOUT_SCHEMA } from "./schema.ts";
import { IN_JSON_LIST, jsonList, SqliteStore } from "./store.ts";

export interface PackageLayout {
  id: string;
  /** In the order of the stone's layout payload; stored and returned in that order. */
  records: readonly LayoutRecord[];
}

export interface LayoutEntry {
  packageId: string;
  record: LayoutRecord;
}

/** One use of an asset: which package places it where (relative to `/usr`). */
export interface AssetUse {
  packageId: string;
  target: string;
}

const COLUMNS = "id, package_id, uid, gid, mode, tag, entry_type, entry_value1, entry_value2";
const INSERT_HEAD = "INSERT INTO layout (package_id, uid, gid, mode, tag, entry_type, entry_value1, entry_value2) VALUES";

export class LayoutDb extends SqliteStore {
  static open(file: string, opts: OpenOptions = {}): LayoutDb {
    return new LayoutDb(openSqlite(file, LAYOUT_SCHEMA, opts), file);
  }

  private constructor(db: Database, file: string) {
    super(db, file);
  }

  /**
   * Replace the layouts of these packages, all in one transaction: every existing row of each id
   * is deleted first (package_id is not unique in the schema), then the records go in, in order.
   * An id given twice keeps its last record list.
   */
  add(packages: readonly PackageLayout[]): void {
    const byId = new Map<string, readonly LayoutRecord[]>();
    for (const layout of packages) {
      // Delete first so a repeated id is stored where its last list was given, not its first.
      byId.delete(layout.id);
      byId.set(layout.id, layout.records);
    }
    if (byId.size === 0) return;
    this.write("adding layouts", () => {
      this.db.query(`DELETE FROM layout WHERE package_id IN ${IN_JSON_LIST}`).run(jsonList([...byId.keys()]));
      const insert = new ChunkedInsert(this.db, INSERT_HEAD, 8);
      for (const [id, records] of byId) {
        for (const record of records) {
          const [entryType, value1, value2] = encodeLayoutFile(record, this.file);
          insert.push(
            id,
            toStoredInt32(record.uid, "uid", record.target, this.file),
            toStoredInt32(record.gid, "gid", record.target, this.file),
            toStoredInt32(record.mode, "mode", record.target, this.file),
            toStoredInt32(record.tag, "tag", record.target, this.file),
            entryType,
            value1,
            value2,
          );
        }
      }
      insert.flush();
    });
  }

  /** Every record of these packages, in database row order (the order they were added). */
  forPackages(ids: readonly string[]): LayoutEntry[] {
    const entries: LayoutEntry[] = [];
    this.forEachEntry(ids, (packageId, record) => entries.push({ packageId, record }));
    return entries;
  }

  /**
   * Visit the records of these packages in database row order without holding the rows: one
   * package at a time through the package_id index, in the order of each package's first row.
   * That is row order whenever each package's rows are contiguous, which every writer (Rust and
   * ours) produces; rows interleaved between packages are read at once and sorted instead.
   */
  forEachEntry(ids: readonly string[], visit: (packageId: string, record: LayoutRecord) => void): void {
    if (ids.length === 0) return;
    this.read("reading layouts", () => {
      const spans = this.db
        .query(`SELECT package_id, min(id), max(id) FROM layout WHERE package_id IN ${IN_JSON_LIST} GROUP BY package_id ORDER BY 2`)
        .values(jsonList(ids)) as [string, number, number][];
      const contiguous = spans.every((span, i) => i === 0 || span[1] > spans[i - 1]![2]);
      if (!contiguous) {
        const rows = this.db.query(`SELECT ${COLUMNS} FROM layout WHERE package_id IN ${IN_JSON_LIST}`).values(jsonList(ids));
        rows.sort((a, b) => (a[0] as number) - (b[0] as number));
        for (const row of rows) this.visitRow(row, visit);
        return;
      }
      const ofPackage = this.db.query(`SELECT ${COLUMNS} FROM layout WHERE package_id = ? ORDER BY id`);
      for (const [packageId] of spans) {
        for (const row of ofPackage.values(packageId)) this.visitRow(row, visit);
      }
    });
  }

  /** Every distinct digest of a regular file (32 hex digits): the assets the store must keep. */
  regularDigests(): Set<string> {
    return this.read("reading file digests", () => {
      // Deduplicated here rather than by DISTINCT: a JS Set is cheaper than SQLite's sort, and
      // each distinct value is converted to hex only once.
      const decimals = new Map<unknown, unknown>();
      for (const [rowId, decimal] of this.db.query("SELECT id, entry_value1 FROM layout WHERE entry_type = 'regular'").values()) {
        if (!decimals.has(decimal)) decimals.set(decimal, rowId);
      }
      const digests = new Set<string>();
      for (const [decimal, rowId] of decimals) digests.add(this.digestOf(rowId, decimal));
      return digests;
    });
  }

  /** Every regular file of every package, grouped by digest (for `state verify`), in row order. */
  regularUses(): Map<string, AssetUse[]> {
    return this.read("reading file digests", () => {
      const uses = new Map<string, AssetUse[]>();
      const rows = this.db.query("SELECT id, package_id, entry_value1, entry_value2 FROM layout WHERE entry_type = 'regular' ORDER BY id");
      for (const [rowId, packageId, decimal, target] of rows.values()) {
        const digest = this.digestOf(rowId, decimal);
        if (typeof packageId !== "string" || typeof target !== "string") {
          throw new DbError("DB_CORRUPT", this.file, `layout row ${String(rowId)}: package_id or entry_value2 of a regular entry is not text`);
        }
        const use = { packageId, target };
        const list = uses.get(digest);
        if (list) list.push(use);
        else uses.set(digest, [use]);
      }
      return uses;
    });
  }

  /** Ids of every package with rows, sorted byte-wise. */
  packageIds(): string[] {
    return this.read("reading package ids", () =>
      (this.db.query("SELECT DISTINCT package_id FROM layout ORDER BY package_id").values() as [string][]).map((row) => row[0]),
    );
  }

  remove(ids: readonly string[]): void {
    if (ids.length === 0) return;
    this.write("removing layouts", () => {
      this.db.query(`DELETE FROM layout WHERE package_id IN ${IN_JSON_LIST}`).run(jsonList(ids));
    });
  }

  private visitRow(row: LayoutRowValues, visit: (packageId: string, record: LayoutRecord) => void): void {
    const { packageId, record } = decodeLayoutRow(row, this.file);
    visit(packageId, record);
  }

  private digestOf(rowId: unknown, decimal: unknown): string {
    const digest = typeof decimal === "string" ? decimalToDigest(decimal) : undefined;
    if (digest === undefined) {
      throw new DbError("DB_CORRUPT", this.file, `layout row ${String(rowId)}: entry_value1 ${JSON.stringify(decimal)} is not a 128-bit decimal digest`);
    }
    return digest;
  }
}
