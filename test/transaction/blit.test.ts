/**
 * The hardlink blit (transaction/blit.ts and its helpers): the tree it makes from a VFS, alone and
 * with a worker thread, the union of modes on shared assets, and the error for a missing asset.
 */
import { afterAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { EMPTY_FILE_DIGEST } from "../../src/constants.ts";
import { LayoutEntryType, type LayoutRecord } from "../../src/stone/types.ts";
import { assetPath } from "../../src/store/index.ts";
import { blitVfs, startBlit, type BlitStrategy } from "../../src/transaction/blit.ts";
import { itemEntries } from "../../src/transaction/blit-job.ts";
import { buildVfs, type Vfs, type VfsRow } from "../../src/vfs/index.ts";

const made: string[] = [];
afterAll(() => {
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), "moss-blit-"));
  made.push(dir);
  return dir;
}

const digestOf = (n: number) => n.toString(16).padStart(32, "a");
const regular = (target: string, digest: string, mode = 0o644): LayoutRecord =>
  ({ uid: 0, gid: 0, mode: 0o100000 | mode, tag: 0, entryType: LayoutEntryType.Regular, target, digest });
const symlink = (target: string, source: string): LayoutRecord =>
  ({ uid: 0, gid: 0, mode: 0o120777, tag: 0, entryType: LayoutEntryType.Symlink, target, source });
const directory = (target: string, mode = 0o755): LayoutRecord =>
  ({ uid: 0, gid: 0, mode: 0o40000 | mode, tag: 0, entryType: LayoutEntryType.Directory, target });

/**
 * 12,000 files in 120 directories (enough for a worker to join), 400 distinct assets shared
 * between them, one of them executable in one place and plain in another, far apart in the
 * tree; symlinks, empty files and a directory with its own mode.
 */
function bigTree(): { rows: VfsRow[]; digests: string[]; shared: string; widened: string } {
  const records: LayoutRecord[] = [directory("share/private", 0o700)];
  const digests = Array.from({ length: 400 }, (_, i) => digestOf(i + 1));
  for (let d = 0; d < 120; d++) {
    for (let f = 0; f < 100; f++) records.push(regular(`share/d${d}/f${f}`, digests[(d * 100 + f) % digests.length]!));
    records.push(symlink(`share/d${d}/link`, "f0"));
    records.push(regular(`share/d${d}/empty`, EMPTY_FILE_DIGEST));
  }
  const shared = digestOf(9999);
  records.push(regular("bin/tool", shared, 0o755), regular("share/zz/plain-copy", shared, 0o644));
  // The other way round: plain where it is first made, set-uid executable later in blit order.
  const widened = digestOf(8888);
  records.push(regular("bin/a-plain", widened, 0o644), regular("share/zz/tool", widened, 0o4755));
  digests.push(shared, widened);
  return { rows: records.map((record) => ({ packageId: "pkg", record })), digests, shared, widened };
}

function storeWith(digests: readonly string[]): string {
  const assetsDir = path.join(tempDir(), "assets");
  for (const digest of digests) {
    const file = assetPath(assetsDir, digest);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, digest, { mode: 0o644 });
  }
  return assetsDir;
}

function expectTree(vfs: Vfs, target: string, assetsDir: string) {
  let checked = 0;
  for (const entry of vfs.entries) {
    const made = fs.lstatSync(target + entry.path);
    if (entry.kind === "directory") {
      expect(made.isDirectory()).toBe(true);
      expect(made.mode & 0o7777).toBe(entry.mode & 0o7777);
    } else if (entry.kind === "symlink") {
      expect(fs.readlinkSync(target + entry.path)).toBe(entry.source!);
    } else if (entry.digest === EMPTY_FILE_DIGEST) {
      expect(made.size).toBe(0);
      expect(made.nlink).toBe(1);
      expect(made.mode & 0o7777).toBe(entry.mode & 0o7555);
    } else {
      // A hard link: the asset's own inode, with at least this path's mode minus write bits.
      const asset = fs.statSync(assetPath(assetsDir, entry.digest!));
      expect(made.ino).toBe(asset.ino);
      const wanted = entry.mode & 0o7555;
      expect(made.mode & wanted).toBe(wanted);
      expect(made.mode & 0o222).toBe(0);
    }
    checked++;
  }
  expect(checked).toBe(vfs.entries.length);
}

describe("hardlink blit", () => {
  for (const threads of [1, 2]) {
    test(`with ${threads} thread${threads > 1 ? "s" : ""}: every entry is made, links share their asset, modes are the union of uses`, () => {
      const { rows, digests, shared, widened } = bigTree();
      const vfs = buildVfs(rows);
      const assetsDir = storeWith(digests);
      const target = tempDir();
      const summary = blitVfs(vfs, target, assetsDir, { strategy: "hardlink", threads });
      expect(summary.entries).toBe(vfs.counts.directories + vfs.counts.regular + vfs.counts.symlinks);
      expectTree(vfs, target, assetsDir);
      // Executable in one place, plain in another: the shared inode is both readable and executable.
      expect(fs.statSync(assetPath(assetsDir, shared)).mode & 0o7777).toBe(0o555);
      // A later use that wants more than the first: widened once every link is made.
      expect(fs.statSync(assetPath(assetsDir, widened)).mode & 0o7777).toBe(0o4555);
      expect(fs.statSync(assetPath(assetsDir, digests[0]!)).mode & 0o7777).toBe(0o444);
      // Nothing else was written into the target.
      expect(fs.readdirSync(target)).toEqual(["usr"]);
    }, 60_000);
  }

  test("names and link texts beyond ASCII (accents, CJK, an emoji) are made byte-exact by the threaded blit", () => {
    const digest = digestOf(77);
    const vfs = buildVfs([
      { packageId: "p", record: directory("share/café") },
      { packageId: "p", record: regular("share/café/naïve-文字-😀.txt", digest) },
      { packageId: "p", record: symlink("share/café/→ link", "naïve-文字-😀.txt") },
    ]);
    const assetsDir = storeWith([digest]);
    const target = tempDir();
    blitVfs(vfs, target, assetsDir, { strategy: "hardlink", threads: 1 });
    const dir = path.join(target, "usr", "share", "café");
    expect(fs.readdirSync(dir).sort()).toEqual(["naïve-文字-😀.txt", "→ link"].sort());
    expect(fs.statSync(path.join(dir, "naïve-文字-😀.txt")).ino).toBe(fs.statSync(assetPath(assetsDir, digest)).ino);
    expect(fs.readlinkSync(path.join(dir, "→ link"))).toBe("naïve-文字-😀.txt");
  });

  test("a second blit of the same tree from the same store links the same inodes again", () => {
    const { rows, digests } = bigTree();
    const vfs = buildVfs(rows);
    const assetsDir = storeWith(digests);
    blitVfs(vfs, tempDir(), assetsDir, { strategy: "hardlink", threads: 2 });
    const again = tempDir();
    blitVfs(vfs, again, assetsDir, { strategy: "hardlink", threads: 2 });
    expectTree(vfs, again, assetsDir);
  }, 60_000);

  test("the copy strategy makes files of their own, each with its path's mode, and the same tree", () => {
    const shared = digestOf(7);
    const vfs = buildVfs([
      { packageId: "pkg", record: regular("bin/tool", shared, 0o755) },
      { packageId: "pkg", record: regular("share/doc/readme", shared, 0o644) },
      { packageId: "pkg", record: symlink("share/doc/link", "readme") },
      { packageId: "pkg", record: regular("share/doc/empty", EMPTY_FILE_DIGEST) },
    ]);
    const assetsDir = storeWith([shared]);
    const target = tempDir();
    const summary = blitVfs(vfs, target, assetsDir, { strategy: "copy" });
    expect(summary.entries).toBe(vfs.counts.directories + 4);
    const asset = fs.statSync(assetPath(assetsDir, shared));
    for (const [file, mode] of [["/usr/bin/tool", 0o555], ["/usr/share/doc/readme", 0o444]] as const) {
      const made = fs.statSync(target + file);
      expect(made.ino).not.toBe(asset.ino);
      expect(made.mode & 0o7777).toBe(mode);
      expect(fs.readFileSync(target + file, "utf8")).toBe(shared);
    }
    expect(fs.readlinkSync(`${target}/usr/share/doc/link`)).toBe("readme");
    expect(asset.mode & 0o7777).toBe(0o644); // copies never touch the store
  });

  test("a missing asset fails the blit naming the path, the package and the way to repair it", () => {
    const present = digestOf(1);
    const missing = digestOf(2);
    const vfs = buildVfs([
      { packageId: "pkg-a", record: regular("share/here", present) },
      { packageId: "pkg-b", record: regular("share/gone", missing) },
    ]);
    const assetsDir = storeWith([present]);
    expect(() => blitVfs(vfs, tempDir(), assetsDir, { strategy: "hardlink", threads: 1 })).toThrow(
      `the asset ${missing} of /usr/share/gone (package pkg-b) is missing from the content store; run \`moss state verify\``,
    );
  });

  test("a store without any asset directory fails the same way", () => {
    const vfs = buildVfs([{ packageId: "pkg-a", record: regular("share/gone", digestOf(3)) }]);
    expect(() => blitVfs(vfs, tempDir(), path.join(tempDir(), "no-assets"), { strategy: "hardlink", threads: 1 })).toThrow(
      "is missing from the content store",
    );
  });
});

describe("staged blit (an update blits what is stored while its new packages unpack)", () => {
  /** bigTree with a second package, "new", whose files' assets are not in the store when the blit starts. */
  function updateTree() {
    const base = bigTree();
    const fresh = Array.from({ length: 300 }, (_, i) => digestOf(50_000 + i));
    const rows: VfsRow[] = [...base.rows];
    for (let d = 0; d < 120; d++) {
      // Beside the kept package's files (most directories get one new file), and in directories of its own.
      rows.push({ packageId: "new", record: regular(`share/d${d}/new-${d}`, fresh[d]!, d % 7 === 0 ? 0o755 : 0o644) });
    }
    for (let i = 120; i < fresh.length; i++) rows.push({ packageId: "new", record: regular(`lib/new/n${i}`, fresh[i]!) });
    // A new file sharing a stored asset, a new symlink and a new empty file: none waits.
    rows.push({ packageId: "new", record: regular("lib/new/shares-stored", base.digests[3]!) });
    rows.push({ packageId: "new", record: symlink("lib/new/link", "n120") });
    rows.push({ packageId: "new", record: regular("lib/new/empty", EMPTY_FILE_DIGEST, 0o640) });
    return { vfs: buildVfs(rows), stored: base.digests, fresh };
  }
  const isNew = (entry: { kind: string; packageId?: string }) => entry.kind === "regular" && entry.packageId === "new";

  for (const [strategy, threads] of [["hardlink", 1], ["hardlink", 2], ["copy", 1]] as [BlitStrategy, number][]) {
    test(`${strategy}, ${threads} thread${threads > 1 ? "s" : ""}: everything but the deferred files is made before finish, the rest by it`, async () => {
      const { vfs, stored, fresh } = updateTree();
      const assetsDir = storeWith(stored);
      const target = tempDir();
      const staged = startBlit(vfs, target, assetsDir, { strategy, threads, defer: isNew });
      // The assets arrive only now, as an unpack would write them; the workers go on meanwhile.
      for (const digest of fresh) {
        const file = assetPath(assetsDir, digest);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, digest, { mode: 0o644 });
      }
      await Bun.sleep(20);
      // Before finish: no deferred file exists, whatever the workers have done so far.
      let deferred = 0;
      for (const entry of vfs.entries) {
        if (!isNew(entry) || entry.digest === EMPTY_FILE_DIGEST) continue;
        deferred++;
        expect(fs.existsSync(target + entry.path)).toBe(false);
      }
      expect(deferred).toBe(fresh.length + 1);
      const summary = staged.finish();
      expect(summary.entries).toBe(vfs.counts.directories + vfs.counts.regular + vfs.counts.symlinks);
      if (strategy === "hardlink") expectTree(vfs, target, assetsDir);
      else for (const entry of vfs.entries) expect(fs.lstatSync(target + entry.path)).toBeDefined();
    }, 60_000);
  }

  test("files the workers make between the stages get their exact modes whatever the process umask is then", () => {
    const vfs = buildVfs([
      ...Array.from({ length: 9000 }, (_, i) => ({ packageId: "kept", record: regular(`share/e/f${i}`, EMPTY_FILE_DIGEST, i % 2 ? 0o755 : 0o4755) })),
      { packageId: "new", record: regular("share/late", digestOf(5)) },
    ]);
    const assetsDir = storeWith([]);
    const target = tempDir();
    const previous = process.umask(0o077);
    try {
      const staged = startBlit(vfs, target, assetsDir, { strategy: "hardlink", threads: 2, defer: isNew });
      fs.mkdirSync(path.dirname(assetPath(assetsDir, digestOf(5))), { recursive: true });
      fs.writeFileSync(assetPath(assetsDir, digestOf(5)), "x");
      staged.finish();
      expect(process.umask()).toBe(0o077);
    } finally {
      process.umask(previous);
    }
    for (let i = 0; i < 9000; i++) expect(fs.statSync(`${target}/usr/share/e/f${i}`).mode & 0o7777).toBe(i % 2 ? 0o555 : 0o4555);
  }, 60_000);

  test("a deferred file whose asset never came fails finish with the missing-asset error, and abandon after a failure elsewhere stops cleanly", () => {
    const { vfs, stored } = updateTree();
    const assetsDir = storeWith(stored);
    const staged = startBlit(vfs, tempDir(), assetsDir, { strategy: "hardlink", threads: 2, defer: isNew });
    expect(() => staged.finish()).toThrow("is missing from the content store");
    const other = startBlit(vfs, tempDir(), assetsDir, { strategy: "hardlink", threads: 2, defer: isNew });
    other.abandon();
    other.abandon(); // twice is harmless
  }, 60_000);

  test("item numbers of a staged blit: the deferred entries come after every other item", () => {
    const vfs = buildVfs([
      { packageId: "kept", record: regular("a/one", digestOf(1)) },
      { packageId: "new", record: regular("a/two", digestOf(2)) },
      { packageId: "kept", record: symlink("a/three", "one") },
      { packageId: "new", record: regular("b/four", digestOf(4)) },
    ]);
    const found = itemEntries(vfs, [0, 1, 2, 3], { defer: isNew, first: 2 });
    expect([0, 1, 2, 3].map((n) => found.get(n)!.path)).toEqual(["/usr/a/one", "/usr/a/three", "/usr/a/two", "/usr/b/four"]);
  });
});

describe("items found again", () => {
  test("item numbers count files and symlinks in blit order, skipping directories and specials", () => {
    const fifo: LayoutRecord = { uid: 0, gid: 0, mode: 0o010644, tag: 0, entryType: LayoutEntryType.Fifo, target: "a/pipe" };
    const vfs = buildVfs([
      { packageId: "p", record: regular("a/one", digestOf(1)) },
      { packageId: "p", record: fifo },
      { packageId: "p", record: symlink("a/two", "one") },
      { packageId: "p", record: directory("b") },
      { packageId: "p", record: regular("b/three", digestOf(3)) },
    ]);
    const found = itemEntries(vfs, [0, 1, 2, 7]);
    expect([...found.keys()].sort()).toEqual([0, 1, 2]);
    expect([found.get(0)!.path, found.get(1)!.path, found.get(2)!.path]).toEqual(["/usr/a/one", "/usr/a/two", "/usr/b/three"]);
  });
});
