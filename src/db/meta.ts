/**
 * A meta database (moss-behaviour §2.2): the `install` DB, and the `db` of every repository.
 * Dependencies, providers and conflicts are stored in their text form `kind(name)` [STONE §9].
 */
import type { Database, SQLQueryBindings } from "bun:sqlite";
import { formatDependency, parseDependency, type Dependency, type PackageMeta } from "../stone/index.ts";
import { ChunkedInsert } from "./batch.ts";
import { openSqlite, type OpenOptions } from "./connection.ts";
import { DbError } from "./errors.ts";
import { META_SCHEMA } from "./schema.ts";
import { IN_JSON_LIST, jsonList, SqliteStore } from "./store.ts";

/** A package as the database holds it: its id (the package hash, or the meta id of a local stone) and metadata. */
export type StoredPackage = PackageMeta & { id: string };

/**
 * What resolution reads of a package: who it is, how it ranks, and its capabilities as stored
 * text. Reading only this is a third of the cost of whole rows (descriptions, licenses, parsed
 * dependencies), which only the packages a transaction chooses need.
 */
export interface PackageKey {
  id: string;
  name: string;
  version: string;
  release: number;
  buildRelease: number;
  architecture: string;
  providers: string[];
  dependencies: string[];
  conflicts: string[];
}

export interface PackageEntry {
  id: string;
  meta: PackageMeta;
}

const META_COLUMNS =
  "package, name, version_identifier, source_release, build_release, architecture, summary, description, source_id, homepage, uri, hash, download_size";

/** From how many packages on `wholeOf` reads every row rather than matching a list of ids. */
const WHOLE_SCAN_THRESHOLD = 256;

/** The child tables, the column holding the value, and the order values come back in. */
const CHILDREN = {
  licenses: { table: "meta_licenses", column: "license", order: "rowid" },
  dependencies: { table: "meta_dependencies", column: "dependency", order: "dependency" },
  providers: { table: "meta_providers", column: "provider", order: "provider" },
  conflicts: { table: "meta_conflicts", column: "conflict", order: "conflict" },
} as const;

export class MetaDb extends SqliteStore {
  static open(file: string, opts: OpenOptions = {}): MetaDb {
    return new MetaDb(openSqlite(file, META_SCHEMA, opts), file);
  }

  private constructor(db: Database, file: string) {
    super(db, file);
  }

  /**
   * Store packages in one transaction: each id's old row goes first (its children cascade), then
   * the new rows. An id given twice keeps its last metadata.
   */
  add(entries: readonly PackageEntry[]): void {
    if (entries.length === 0) return;
    this.write("adding packages", () => this.insert(entries));
  }

  /** Empty the database and fill it again in one transaction (a repository refresh; §9 #21). */
  replaceAll(entries: readonly PackageEntry[]): void {
    this.write("replacing packages", () => {
      this.db.run("DELETE FROM meta");
      if (entries.length > 0) this.insert(entries);
    });
  }

  get(id: string): StoredPackage | undefined {
    return this.load("reading a package", "WHERE package = ?", [id])[0];
  }

  /** The packages among these ids that exist, ordered by id. */
  getMany(ids: readonly string[]): StoredPackage[] {
    if (ids.length === 0) return [];
    return this.load("reading packages", `WHERE package IN ${IN_JSON_LIST}`, [jsonList(ids)]);
  }

  byName(name: string): StoredPackage[] {
    return this.load("looking up a package name", "WHERE name = ?", [name]);
  }

  /** Packages providing exactly this `kind(name)`; the implicit `name(<name>)` is stored, so it matches too. */
  byProvider(provider: string | Dependency): StoredPackage[] {
    return this.load("looking up a provider", `WHERE package IN (SELECT package FROM meta_providers WHERE provider = ?)`, [textOf(provider)]);
  }

  byDependency(dependency: string | Dependency): StoredPackage[] {
    return this.load("looking up a dependency", `WHERE package IN (SELECT package FROM meta_dependencies WHERE dependency = ?)`, [textOf(dependency)]);
  }

  /** Rust's keyword search: `%kw%` on name or summary, ASCII case-insensitive; `%` and `_` in it stay wildcards. */
  byKeyword(keyword: string): StoredPackage[] {
    return this.load("searching packages", "WHERE name LIKE '%' || ?1 || '%' OR summary LIKE '%' || ?1 || '%'", [keyword]);
  }

  /** Ids of the packages providing this, ordered by id (the resolver's tie-break, §8.1). */
  idsByProvider(provider: string | Dependency): string[] {
    return this.read("looking up a provider", () =>
      (this.db.query("SELECT package FROM meta_providers WHERE provider = ? ORDER BY package").values(textOf(provider)) as [string][]).map((row) => row[0]),
    );
  }

  /** Every package's key (see PackageKey); capabilities in the order full reads give them. */
  keys(): PackageKey[] {
    return this.read("reading package keys", () => {
      const keys = new Map<string, PackageKey>();
      for (const [id, name, version, release, buildRelease, architecture] of this.db
        .query("SELECT package, name, version_identifier, source_release, build_release, architecture FROM meta ORDER BY package")
        .values()) {
        const where = `package ${String(id)}`;
        const key: PackageKey = {
          id: this.text(id, where, "package"), name: this.text(name, where, "name"), version: this.text(version, where, "version_identifier"),
          release: this.integer(release, where, "source_release"), buildRelease: this.integer(buildRelease, where, "build_release"),
          architecture: this.text(architecture, where, "architecture"), providers: [], dependencies: [], conflicts: [],
        };
        keys.set(key.id, key);
      }
      for (const field of ["providers", "dependencies", "conflicts"] as const) {
        const { table, column, order } = CHILDREN[field];
        for (const [packageId, value] of this.db.query(`SELECT package, ${column} FROM ${table} ORDER BY package, ${order}`).values() as [string, string][]) {
          keys.get(packageId)?.[field].push(value);
        }
      }
      return [...keys.values()];
    });
  }

  /**
   * Whole packages for keys read by `keys()`: the capabilities are parsed from the keys' texts,
   * only the rest is read. A large batch reads every row and keeps those asked for, which
   * SQLite does faster than matching each against a list.
   */
  wholeOf(keys: readonly PackageKey[]): StoredPackage[] {
    if (keys.length === 0) return [];
    return this.read("reading packages", () => {
      const wanted = new Map(keys.map((key) => [key.id, key]));
      const scanAll = keys.length > WHOLE_SCAN_THRESHOLD;
      const filter = scanAll ? "" : `WHERE package IN ${IN_JSON_LIST}`;
      const params = scanAll ? [] : [jsonList([...wanted.keys()])];
      const packages = new Map<string, StoredPackage>();
      const rest = this.db.query(`SELECT package, summary, description, source_id, homepage, uri, hash, download_size FROM meta ${filter}`).values(...params);
      for (const [id, summary, description, sourceId, homepage, uri, hash, downloadSize] of rest) {
        const key = wanted.get(id as string);
        if (!key) continue;
        const where = `package ${key.id}`;
        const parse = (texts: string[], column: string) => texts.map((text) => this.parseText(key.id, column, text));
        packages.set(key.id, {
          id: key.id, name: key.name, version: key.version, release: key.release, buildRelease: key.buildRelease, architecture: key.architecture,
          summary: this.text(summary, where, "summary"),
          description: this.text(description, where, "description"),
          sourceId: this.text(sourceId, where, "source_id"),
          homepage: this.text(homepage, where, "homepage"),
          licenses: [],
          dependencies: parse(key.dependencies, "dependency"),
          providers: parse(key.providers, "provider"),
          conflicts: parse(key.conflicts, "conflict"),
          uri: uri === null ? undefined : this.text(uri, where, "uri"),
          hash: hash === null ? undefined : this.text(hash, where, "hash"),
          downloadSize: downloadSize === null ? undefined : this.integer(downloadSize, where, "download_size"),
        });
      }
      for (const [packageId, license] of this.db.query(`SELECT package, license FROM meta_licenses ${filter} ORDER BY package, rowid`).values(...params) as [string, string][]) {
        packages.get(packageId)?.licenses.push(license);
      }
      return keys.flatMap((key) => packages.get(key.id) ?? []);
    });
  }

  all(): StoredPackage[] {
    return this.load("reading packages", "", []);
  }

  /** Every package id, sorted byte-wise. */
  ids(): string[] {
    return this.read("reading package ids", () =>
      (this.db.query("SELECT package FROM meta ORDER BY package").values() as [string][]).map((row) => row[0]),
    );
  }

  /** Distinct non-null `hash` values: the names the download cache must keep. */
  hashes(): Set<string> {
    return this.read("reading package hashes", () =>
      new Set((this.db.query("SELECT DISTINCT hash FROM meta WHERE hash IS NOT NULL").values() as [string][]).map((row) => row[0])),
    );
  }

  remove(ids: readonly string[]): void {
    if (ids.length === 0) return;
    this.write("removing packages", () => {
      this.db.query(`DELETE FROM meta WHERE package IN ${IN_JSON_LIST}`).run(jsonList(ids));
    });
  }

  /** Inside a transaction. Parents are all flushed before any child row, as the foreign keys need. */
  private insert(entries: readonly PackageEntry[]): void {
    const byId = new Map<string, PackageMeta>();
    for (const entry of entries) byId.set(entry.id, entry.meta);
    this.db.query(`DELETE FROM meta WHERE package IN ${IN_JSON_LIST}`).run(jsonList([...byId.keys()]));

    const metaRows = new ChunkedInsert(this.db, `INSERT INTO meta (${META_COLUMNS}) VALUES`, 13);
    for (const [id, meta] of byId) {
      metaRows.push(
        id, meta.name, meta.version, meta.release, meta.buildRelease, meta.architecture, meta.summary,
        meta.description, meta.sourceId, meta.homepage, meta.uri ?? null, meta.hash ?? null, meta.downloadSize ?? null,
      );
    }
    metaRows.flush();

    const child = (table: string, column: string) => new ChunkedInsert(this.db, `INSERT OR IGNORE INTO ${table} (package, ${column}) VALUES`, 2);
    const licenses = child("meta_licenses", "license");
    const dependencies = child("meta_dependencies", "dependency");
    const providers = child("meta_providers", "provider");
    const conflicts = child("meta_conflicts", "conflict");
    for (const [id, meta] of byId) {
      // File order goes in as rowid order, which is how licenses come back.
      for (const license of meta.licenses) licenses.push(id, license);
      for (const dependency of storable(meta.dependencies)) dependencies.push(id, dependency);
      // Rust resolves names through the providers table, so the implicit provider must be a row.
      providers.push(id, `name(${meta.name})`);
      for (const provider of storable(meta.providers)) providers.push(id, provider);
      for (const conflict of storable(meta.conflicts)) conflicts.push(id, conflict);
    }
    for (const rows of [licenses, dependencies, providers, conflicts]) rows.flush();
  }

  private load(action: string, where: string, params: SQLQueryBindings[]): StoredPackage[] {
    return this.read(action, () => {
      const packages = new Map<string, StoredPackage>();
      for (const row of this.db.query(`SELECT ${META_COLUMNS} FROM meta ${where} ORDER BY package`).values(...params)) {
        const stored = this.decodeMeta(row);
        packages.set(stored.id, stored);
      }
      if (packages.size === 0) return [];
      // A filtered load asks only for the children of what it found; a full one reads them all.
      const filter = where === "" ? "" : `WHERE package IN ${IN_JSON_LIST}`;
      const filterParams = where === "" ? [] : [jsonList([...packages.keys()])];
      for (const [field, { table, column, order }] of Object.entries(CHILDREN) as [keyof typeof CHILDREN, (typeof CHILDREN)[keyof typeof CHILDREN]][]) {
        const rows = this.db.query(`SELECT package, ${column} FROM ${table} ${filter} ORDER BY package, ${order}`).values(...filterParams);
        for (const [packageId, value] of rows as [string, string][]) {
          const stored = packages.get(packageId);
          if (stored === undefined) continue; // a child without parent: only possible with foreign keys off
          if (field === "licenses") stored.licenses.push(value);
          else stored[field].push(this.parseText(packageId, column, value));
        }
      }
      return [...packages.values()];
    });
  }

  private decodeMeta(row: unknown[]): StoredPackage {
    const [id, name, version, release, buildRelease, architecture, summary, description, sourceId, homepage, uri, hash, downloadSize] = row;
    const where = `package ${String(id)}`;
    return {
      id: this.text(id, where, "package"),
      name: this.text(name, where, "name"),
      version: this.text(version, where, "version_identifier"),
      release: this.integer(release, where, "source_release"),
      buildRelease: this.integer(buildRelease, where, "build_release"),
      architecture: this.text(architecture, where, "architecture"),
      summary: this.text(summary, where, "summary"),
      description: this.text(description, where, "description"),
      sourceId: this.text(sourceId, where, "source_id"),
      homepage: this.text(homepage, where, "homepage"),
      licenses: [],
      dependencies: [],
      providers: [],
      conflicts: [],
      uri: uri === null ? undefined : this.text(uri, where, "uri"),
      hash: hash === null ? undefined : this.text(hash, where, "hash"),
      downloadSize: downloadSize === null ? undefined : this.integer(downloadSize, where, "download_size"),
    };
  }

  private parseText(packageId: string, column: string, text: string): Dependency {
    try {
      return parseDependency(text);
    } catch (error) {
      throw new DbError("DB_CORRUPT", this.file, `package ${packageId}: ${column} ${JSON.stringify(text)} is not a known kind(name)`, { cause: error });
    }
  }

  private text(value: unknown, where: string, column: string): string {
    if (typeof value !== "string") throw new DbError("DB_CORRUPT", this.file, `${where}: ${column} is ${value === null ? "NULL" : "not text"}`);
    return value;
  }

  private integer(value: unknown, where: string, column: string): number {
    if (typeof value !== "number" || !Number.isInteger(value)) throw new DbError("DB_CORRUPT", this.file, `${where}: ${column} ${JSON.stringify(value)} is not an integer`);
    return value;
  }
}

function textOf(dependency: string | Dependency): string {
  return typeof dependency === "string" ? dependency : formatDependency(dependency);
}

/**
 * The text of every dependency of a known kind. An unknown kind (kept by the stone reader only
 * so it can round-trip) has no text Rust could parse back, so it is left out, as moss drops it.
 */
function* storable(dependencies: readonly Dependency[]): Iterable<string> {
  for (const dependency of dependencies) if (dependency.kind !== "unknown") yield formatDependency(dependency);
}
