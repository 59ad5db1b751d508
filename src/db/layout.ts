/** The `layout` database: the file list of every package ever cached (moss-behaviour §2.3). */
import type { Database } from "bun:sqlite";
import type { LayoutRecord } from "../stone/index.ts";
import { ChunkedInsert } from "./batch.ts";
import { READ_GC_ROWS } from "../constants.ts";
import { YoungCollections } from "../young-collections.ts";
import { asDbError, DbError } from "./errors.ts";
import { openSqlite, type OpenOptions } from "./connection.ts";
import { decimalToDigest, decodeLayoutRow, encodeLayoutFile, LAYOUT_ROW_SQL, toStoredInt32 } from "./layout-codec.ts";
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
      const collections = new YoungCollections(READ_GC_ROWS);
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
        // Every row leaves its encoded values behind once its statement ran: collected as we go,
        // they cost no peak memory (+28 MiB for 78,000 rows otherwise).
        collections.done(records.length);
      }
      insert.flush();
    });
  }

  /** Every record of these packages, in database row order (the order they were added). */
  forPackages(ids: readonly string[]): LayoutEntry[] {
    return [...this.entries(ids)];
  }

  /**
   * The records of these packages in database row order, read as they are asked for: one package
   * at a time through the package_id index, in the order of each package's first row, so only
   * that package's raw rows are in memory at once (a tree built from them keeps what it needs,
   * and nothing else stays). That is row order whenever each package's rows are contiguous,
   * which every writer (Rust and ours) produces; rows interleaved between packages are read at
   * once and sorted instead.
   */
  *entries(ids: readonly string[]): Generator<LayoutEntry> {
    if (ids.length === 0) return;
    try {
      const spans = this.db
        .query(`SELECT package_id, min(id), max(id) FROM layout WHERE package_id IN ${IN_JSON_LIST} GROUP BY package_id ORDER BY 2`)
        .values(jsonList(ids)) as [string, number, number][];
      const contiguous = spans.every((span, i) => i === 0 || span[1] > spans[i - 1]![2]);
      if (!contiguous) {
        const rows = this.db.query(`SELECT ${LAYOUT_ROW_SQL}, package_id FROM layout WHERE package_id IN ${IN_JSON_LIST}`).values(jsonList(ids));
        rows.sort((a, b) => (a[0] as number) - (b[0] as number));
        for (const row of rows) yield decodeLayoutRow(row, row[8], this.file);
        return;
      }
      // package_id is not read back: every row of the query has the one asked for, and 65,000
      // copies of a 64-digit id would only be garbage.
      const ofPackage = this.db.query(`SELECT ${LAYOUT_ROW_SQL} FROM layout WHERE package_id = ? ORDER BY id`);
      const collections = new YoungCollections(READ_GC_ROWS);
      for (const [packageId] of spans) {
        const rows = ofPackage.values(packageId);
        for (const row of rows) yield decodeLayoutRow(row, packageId, this.file);
        // Each row read is an array and strings that are garbage once decoded; the engine lets
        // them pile up (+21 MiB of peak memory for a 78,000-row state) unless collected as we go.
        collections.done(rows.length);
      }
    } catch (error) {
      throw asDbError(this.file, "reading layouts", error);
    }
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

  /**
   * Targets of regular files, symlinks and directories (paths below `/usr`) containing `keyword`
   * (case-sensitive), with their package: `moss search-file` (spec §4.9), in row order.
   */
  targetsContaining(keyword: string): { packageId: string; target: string }[] {
    return this.read("searching file paths", () => {
      const rows = this.db.query(`SELECT package_id, CASE entry_type WHEN 'directory' THEN entry_value1 ELSE entry_value2 END AS target
        FROM layout WHERE entry_type IN ('regular', 'symlink', 'directory') AND instr(target, ?1) > 0 ORDER BY id`).values(keyword);
      return (rows as [string, string][]).map(([packageId, target]) => ({ packageId, target }));
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

  private digestOf(rowId: unknown, decimal: unknown): string {
    const digest = typeof decimal === "string" ? decimalToDigest(decimal) : undefined;
    if (digest === undefined) {
      throw new DbError("DB_CORRUPT", this.file, `layout row ${String(rowId)}: entry_value1 ${JSON.stringify(decimal)} is not a 128-bit decimal digest`);
    }
    return digest;
  }
}
