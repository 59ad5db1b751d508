/**
 * The on-disk shape of a root after one install (issue 4, spec §1.1, §1.3, §2.3, §2.4, §3.13):
 * every path moss-ts leaves, outside the package trees and the content store, is exactly the one
 * Rust moss leaves; assets are named by their digest without leading zeros; layout rows store a
 * regular file's digest as a decimal integer. Read straight from the files, not through moss.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import fs from "node:fs";
import { parseSystemModel } from "../../src/model/system-model.ts";
import path from "node:path";
import { EMPTY_FILE_DIGEST } from "../../src/constants.ts";
import { STATE_PINS_TABLE } from "../../src/db/schema.ts";
import { xxh3_128Hex } from "../../src/hash/xxh3.ts";
import { metaRecordsFor, packageFromMeta, StoneReader, writeStone, type LayoutRecord } from "../../src/stone/index.ts";
import { moss, tempDir } from "../helpers/moss.ts";
import { distro, type Distro } from "../helpers/roots.ts";
import { SWEPT_STAMP } from "../../src/store/writers.ts";

const work = tempDir("moss-layout-");
const root = path.join(work, "root");
let packages: Distro;
let installed: string[];
let probe: { file: string; zeroDigest: string };

/** Regular-file digests of these bytes, as the records carry them: 32 hex digits, zero-padded. */
const digestOf = (bytes: Uint8Array) => xxh3_128Hex(bytes);

/** What Rust's local-file plugin calls a package: `name-version-release.arch` from its meta. */
function localPackageId(file: string): string {
  using reader = StoneReader.open(file);
  const meta = packageFromMeta(reader.records().metas[0]!);
  return `${meta.name}-${meta.version}-${meta.release}.${meta.architecture}`;
}

/**
 * A package with what the layout rules single out: a file whose digest starts with two zero
 * nibbles (its asset name drops them), an empty file, a symlink and a directory.
 */
async function probePackage(dir: string): Promise<{ file: string; zeroDigest: string }> {
  let zero: { bytes: Uint8Array; digest: string } | undefined;
  for (let i = 0; !zero; i++) {
    const bytes = new TextEncoder().encode(`leading zeros ${i}\n`);
    const digest = await digestOf(bytes);
    if (digest.startsWith("00")) zero = { bytes, digest };
  }
  const entry = (target: string, more: Partial<LayoutRecord>): LayoutRecord => ({ uid: 0, gid: 0, mode: 0o100644, tag: 0, entryType: 1, target, ...more });
  const file = path.join(dir, "layout-probe-1-1-1-x86_64.stone");
  await writeStone(file, {
    fileType: 1,
    metas: [metaRecordsFor({ name: "layout-probe", version: "1", release: 1, buildRelease: 1, architecture: "x86_64", summary: "s", description: "d", sourceId: "layout-probe", homepage: "h" })],
    layout: [
      entry("share/layout-probe", { entryType: 3, mode: 0o40755 }),
      entry("share/layout-probe/zeros", { digest: zero.digest }),
      entry("share/layout-probe/empty", { digest: EMPTY_FILE_DIGEST }),
      entry("share/layout-probe/link", { entryType: 2, mode: 0o120777, source: "zeros" }),
    ],
    content: [{ digest: zero.digest, size: zero.bytes.length, chunks: () => [zero.bytes] }],
  }, { level: 1 });
  return { file, zeroDigest: zero.digest };
}

beforeAll(async () => {
  packages = await distro(path.join(work, "repo"));
  probe = await probePackage(work);
  installed = [...packages.closure("mixnek"), probe.file];
  fs.mkdirSync(root);
  const result = moss(["-D", root, "-y", "install", ...installed]);
  if (result.status !== 0) throw new Error(`install failed\n${result.stdout}${result.stderr}`);
}, 120_000);
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** path → `d`, `f`, or `l <target>`, skipping the contents of the trees the spec does not fix. */
function listing(dir: string, skipBelow: string[]): Map<string, string> {
  const result = new Map<string, string>();
  const walk = (current: string) => {
    for (const name of fs.readdirSync(current).sort()) {
      const full = path.join(current, name);
      const rel = path.relative(dir, full);
      const stat = fs.lstatSync(full);
      if (stat.isSymbolicLink()) result.set(rel, `l ${fs.readlinkSync(full)}`);
      else if (stat.isDirectory()) {
        result.set(rel, "d");
        if (!skipBelow.includes(rel)) walk(full);
      } else result.set(rel, stat.isFile() ? "f" : "other");
    }
  };
  walk(dir);
  return result;
}

function sqlite(name: string): Database {
  return new Database(path.join(root, ".moss", "db", name), { readonly: true });
}

/** moss-ts's trash for superseded trees; not in spec §1.1, so it must be gone after every command. */
const TRASH = ".moss/root/.trash";

describe("a root after one install (spec §1.1)", () => {
  test("holds exactly the paths Rust moss leaves, outside /usr and the content store", () => {
    const found = listing(root, ["usr", ".moss/assets/v2", ".moss/cache/downloads"]);
    expect(Object.fromEntries(found)).toEqual({
      ".moss": "d",
      ".moss/.moss-lockfile": "f",
      ".moss/assets": "d",
      ".moss/assets/v2": "d",
      ".moss/cache": "d",
      ".moss/cache/CACHEDIR.TAG": "f",
      ".moss/db": "d",
      ".moss/db/install": "f",
      ".moss/db/layout": "f",
      ".moss/db/state": "f",
      ".moss/repo": "d",
      ".moss/root": "d",
      // Rust also puts root links and etc/ here before transaction triggers (§3.13); moss-ts has no triggers yet.
      ".moss/root/isolation": "d",
      ".moss/root/staging": "d",
      "bin": "l usr/bin",
      "etc": "d",
      "lib": "l usr/lib",
      "lib32": "l usr/lib32",
      "lib64": "l usr/lib",
      "sbin": "l usr/sbin",
      "usr": "d",
    });
  });

  test("the lockfile is empty, and CACHEDIR.TAG has Rust's exact bytes", () => {
    expect(fs.readFileSync(path.join(root, ".moss", ".moss-lockfile"))).toHaveLength(0);
    expect(fs.readFileSync(path.join(root, ".moss", "cache", "CACHEDIR.TAG"), "utf8")).toBe(
      "Signature: 8a477f597d28d172789f06886806bc55\n" +
        "# This file is a cache directory tag created by moss.\n" +
        "# For information about cache directory tags see https://bford.info/cachedir/",
    );
  });

  test("/usr/.stateID is the decimal id without a newline, and /usr/lib/os-release is the clean fallback", () => {
    expect(fs.readFileSync(path.join(root, "usr", ".stateID"))).toEqual(Buffer.from("1"));
    const osRelease = fs.readFileSync(path.join(root, "usr", "lib", "os-release"), "utf8");
    const lines = osRelease.trimEnd().split("\n");
    for (const line of lines) expect(line).toMatch(/^[A-Z_]+="([^"\\]|\\.)*"$/);
    expect(lines.slice(0, 2)).toEqual(['NAME="Unbranded OS"', 'ID="unbranded-os"']);
    expect(osRelease).toContain('VERSION_ID="no-os-info.json"');
  });

  test("the databases are SQLite files at schema version 1 with Rust's tables (and moss-ts's pins)", () => {
    const tables: Record<string, string[]> = {
      install: ["meta", "meta_conflicts", "meta_dependencies", "meta_licenses", "meta_providers"],
      layout: ["layout"],
      state: [STATE_PINS_TABLE, "state", "state_selections"].sort(),
    };
    for (const [name, expected] of Object.entries(tables)) {
      expect(fs.readFileSync(path.join(root, ".moss", "db", name)).subarray(0, 16).toString("latin1")).toBe("SQLite format 3\0");
      const db = sqlite(name);
      try {
        expect(db.query<{ user_version: number }, []>("PRAGMA user_version").get()!.user_version).toBe(1);
        const names = db.query<{ name: string }, []>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all();
        expect(names.map((t) => t.name)).toEqual(expected);
      } finally {
        db.close();
      }
    }
  });

  test("the state DB holds state 1, an Install transaction selecting every local package by its meta id", async () => {
    const ids = installed.map(localPackageId);
    const db = sqlite("state");
    try {
      expect(db.query("SELECT id, type, summary, description FROM state").all()).toEqual([{ id: 1, type: "transaction", summary: "Install", description: null }]);
      const selections = db.query<{ package_id: string; explicit: number }, []>("SELECT package_id, explicit FROM state_selections WHERE state_id = 1 ORDER BY package_id").all();
      expect(selections).toEqual(ids.sort().map((id) => ({ package_id: id, explicit: 1 })));
    } finally {
      db.close();
    }
  });

  // Spec §1.1 lists everything moss writes under a root; moss-ts's trash (src/transaction/trash.ts) is removed once emptied.
  test("leaves no .moss/root/.trash behind", () => {
    expect(fs.existsSync(path.join(root, TRASH))).toBe(false);
  });

  // §1.1 and §3.13: every new state writes the system model that produced it.
  test("writes /usr/lib/system-model.kdl: generated from the repositories and the explicit packages", async () => {
    const text = fs.readFileSync(path.join(root, "usr", "lib", "system-model.kdl"), "utf8");
    const model = await parseSystemModel(text, "recorded");
    const explicit = JSON.parse(moss(["-D", root, "list", "installed", "-e", "--json"]).stdout) as { name: string }[];
    expect(model.providers).toEqual(explicit.map((p) => `name(${p.name})`).sort());
    expect(text).toStartWith("repositories");
  });
});

describe("the content store (spec §1.3)", () => {
  const v2 = () => path.join(root, ".moss", "assets", "v2");

  test("a digest with leading zeros is stored under its name without them", () => {
    const name = probe.zeroDigest.replace(/^0+/, "");
    expect(name.length).toBeLessThanOrEqual(30);
    const asset = path.join(v2(), name.slice(0, 2), name.slice(2, 4), name.slice(4, 6), name);
    expect(fs.readFileSync(asset, "utf8")).toStartWith("leading zeros ");
    const padded = probe.zeroDigest;
    expect(fs.existsSync(path.join(v2(), padded.slice(0, 2), padded.slice(2, 4), padded.slice(4, 6), padded))).toBe(false);
    // The tree's file is that asset (hard link or copy) with the same bytes.
    expect(fs.readFileSync(path.join(root, "usr", "share", "layout-probe", "zeros"))).toEqual(fs.readFileSync(asset));
  });

  test("every asset sits at the path its own bytes' digest names, and nothing else is there", async () => {
    // Besides the assets, only the stamp of a clean sweep (src/store/writers.ts), which moss-ts
    // keeps at the top of v2 and Rust ignores.
    const files = (fs.readdirSync(v2(), { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(v2(), f)).isFile() && f !== SWEPT_STAMP);
    expect(fs.existsSync(path.join(v2(), SWEPT_STAMP))).toBe(true);
    expect(files.length).toBeGreaterThan(100);
    for (const file of files) {
      const name = (await xxh3_128Hex(fs.readFileSync(path.join(v2(), file)))).replace(/^0+/, "").padStart(2, "0");
      expect(file).toBe(name.length < 10 ? name : path.join(name.slice(0, 2), name.slice(2, 4), name.slice(4, 6), name));
    }
  });

  test("an empty file in a package is a fresh empty file in the tree, not a link to a shared inode", () => {
    const stat = fs.statSync(path.join(root, "usr", "share", "layout-probe", "empty"));
    expect(stat.size).toBe(0);
    expect(stat.nlink).toBe(1);
  });
});

describe("layout DB rows (spec §2.3)", () => {
  test("each package's rows follow its stone's records, with a regular file's digest in decimal", async () => {
    const db = sqlite("layout");
    try {
      for (const file of installed) {
        const id = localPackageId(file);
        const reader = StoneReader.open(file);
        const records = reader.records().layout;
        reader.close();
        const rows = db.query("SELECT uid, gid, mode, tag, entry_type, entry_value1, entry_value2 FROM layout WHERE package_id = ? ORDER BY id").all(id);
        expect(rows).toEqual(records.map((r) => ({
          uid: r.uid, gid: r.gid, mode: r.mode | 0, tag: r.tag,
          ...(r.entryType === 1 ? { entry_type: "regular", entry_value1: BigInt(`0x${r.digest}`).toString(10), entry_value2: r.target }
            : r.entryType === 2 ? { entry_type: "symlink", entry_value1: r.source, entry_value2: r.target }
            : { entry_type: "directory", entry_value1: r.target, entry_value2: null }),
        })));
      }
    } finally {
      db.close();
    }
  });

  test("the digests the spec names are stored as the spec writes them", async () => {
    const db = sqlite("layout");
    try {
      const value = (target: string) =>
        db.query<{ entry_value1: string }, [string]>("SELECT entry_value1 FROM layout WHERE entry_value2 = ? AND entry_type = 'regular'").get(target)!.entry_value1;
      expect(value("share/layout-probe/empty")).toBe("204254712233039002205064565430793619839");
      // Leading zero nibbles simply make a smaller number: no padding survives in decimal.
      expect(value("share/layout-probe/zeros")).toBe(BigInt(`0x${probe.zeroDigest}`).toString(10));
      expect(BigInt(value("share/layout-probe/zeros"))).toBeLessThan(2n ** 120n);
    } finally {
      db.close();
    }
  });
});
