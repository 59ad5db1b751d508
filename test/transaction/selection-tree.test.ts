/**
 * The tree a transaction builds while it caches: it must be exactly the tree buildVfs makes from
 * the layout database once caching is done (spec §3.9: every row of the selection, in database
 * row order), whichever packages were already recorded and whichever are being cached now.
 */
import { afterAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { LayoutDb } from "../../src/db/index.ts";
import { LayoutEntryType, type LayoutRecord } from "../../src/stone/index.ts";
import { SelectionTree } from "../../src/transaction/selection-tree.ts";
import { buildVfs, VfsError } from "../../src/vfs/index.ts";
import { tempDir } from "../db/rust-schema.ts";

const root = tempDir("selection-tree");
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
let serial = 0;

const dir = (target: string, mode = 0o40755, uid = 0): LayoutRecord => ({ uid, gid: 0, mode, tag: 0, entryType: LayoutEntryType.Directory, target });
const file = (target: string, digest: string): LayoutRecord => ({ uid: 0, gid: 0, mode: 0o100644, tag: 0, entryType: LayoutEntryType.Regular, digest: digest.padStart(32, "0"), target });
const link = (target: string, source: string): LayoutRecord => ({ uid: 0, gid: 0, mode: 0o120777, tag: 0, entryType: LayoutEntryType.Symlink, source, target });

/** A package with `files` files below a directory both it and `base` list, with its own metadata. */
function packageRecords(name: string, files: number, dirUid: number): LayoutRecord[] {
  return [dir("share", 0o40755, dirUid), dir(`share/${name}`), ...Array.from({ length: files }, (_, i) => file(`share/${name}/f${i}`, `${name.length}${i}`))];
}

function layoutDb(): LayoutDb {
  return LayoutDb.open(path.join(root, `layout-${serial++}`));
}

/** The rows of each package being cached are recorded while the tree reads, as an unpack records them. */
async function treeWhileCaching(db: LayoutDb, selected: string[], caching: Map<string, LayoutRecord[]>) {
  const tree = new SelectionTree(db, selected, new Set(caching.keys()));
  for (const [id, records] of caching) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    db.add([{ id, records }]);
  }
  return tree.finish();
}

describe("SelectionTree", () => {
  test("gives the tree buildVfs makes from the database once caching is done, later directory rows winning", async () => {
    const db = layoutDb();
    // Enough rows that the reader hands the thread back several times while packages are recorded.
    db.add([
      { id: "base", records: [dir("share", 0o40700, 1), dir("lib"), link("lib64", "lib"), ...packageRecords("base", 3000, 1)] },
      { id: "old-app", records: packageRecords("old-app", 5, 2) },
      { id: "tool", records: packageRecords("tool", 2500, 3) },
    ]);
    const caching = new Map([
      ["app", [...packageRecords("app", 40, 4), file("lib64/libapp.so", "abc")]],
      // Recorded before, being cached again: its rows move to the end, and so does its claim on /usr/share.
      ["tool", packageRecords("tool", 2500, 5)],
    ]);
    const selected = ["app", "base", "tool"];
    const vfs = await treeWhileCaching(db, selected, caching);
    const expected = buildVfs(db.entries(selected));
    expect(vfs.entries).toEqual(expected.entries);
    expect(vfs.byPath("/usr/share")?.uid).toBe(5);
    expect(vfs.byPath("/usr/lib/libapp.so")?.packageId).toBe("app");
    expect(vfs.byPath("/usr/share/old-app")).toBeUndefined();
    expect(vfs.size).toBe(expected.size);
    db.close();
  });

  test("a conflict between a recorded package and a cached one is thrown by finish, naming both", async () => {
    const db = layoutDb();
    db.add([{ id: "base", records: [file("bin/tool", "1")] }]);
    const tree = treeWhileCaching(db, ["base", "other"], new Map([["other", [file("bin/tool", "2")]]]));
    const error = await tree.then(() => undefined, (thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(VfsError);
    expect((error as VfsError).message).toContain("/usr/bin/tool: other conflicts with base");
    db.close();
  });

  test("abandon stops reading after the slice under way and leaves the database to the caller", async () => {
    const db = layoutDb();
    db.add([{ id: "big", records: packageRecords("big", 20_000, 0) }]);
    // Count the rows the tree pulls from the database.
    let pulled = 0;
    const entries = db.entries.bind(db);
    db.entries = function* (ids) {
      for (const row of entries(ids)) {
        pulled++;
        yield row;
      }
    };
    const tree = new SelectionTree(db, ["big"], new Set());
    await tree.abandon();
    expect(pulled).toBeGreaterThan(0);
    expect(pulled).toBeLessThan(20_000);
    const after = pulled;
    await new Promise<void>((resolve) => setTimeout(resolve, 20));
    expect(pulled).toBe(after);
    db.close();
  });
});
