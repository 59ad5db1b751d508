import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { xxh3_128Hex } from "../../src/hash/xxh3.ts";
import { packTree } from "../../src/stone/pack-tree.ts";
import {
  FileType, LayoutEntryType, StoneError, StoneReader, packageFromMeta, parseDependency, streamContent,
  type ContentSink, type IndexRecord, type LayoutRecord, type PackageInput,
} from "../../src/stone/index.ts";

const PKG: PackageInput = {
  name: "tree-pkg", version: "1.2.3", release: 4, buildRelease: 1, architecture: "x86_64",
  summary: "A packed tree", description: "Test input", sourceId: "tree", homepage: "https://example.org",
  licenses: ["MIT"], dependencies: [parseDependency("soname(libc.so.6(x86_64))"), parseDependency("bash")],
  providers: [parseDependency("binary(tool)")], conflicts: [],
};

let work: string;
let tree: string;

beforeEach(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "pack-tree-"));
  tree = path.join(work, "usr");
});
afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

/** A tree with every entry kind packTree accepts; returns the files' bytes by target. */
function buildTree(): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  const write = (target: string, bytes: Uint8Array, mode = 0o644) => {
    fs.mkdirSync(path.dirname(path.join(tree, target)), { recursive: true });
    fs.writeFileSync(path.join(tree, target), bytes);
    fs.chmodSync(path.join(tree, target), mode);
    files.set(target, bytes);
  };
  const text = (s: string) => new TextEncoder().encode(s);
  // Over 1 MiB and not a multiple of it, so hashing and storing cross chunk boundaries.
  const big = new Uint8Array(2.5 * (1 << 20) + 7).map((_, i) => (i * 2654435761) >>> 24);
  write("bin/tool", text("#!/bin/sh\necho tool\n"), 0o755);
  write("share/doc/a.txt", text("same words\n"));
  write("share/doc/copy-of-a.txt", text("same words\n"));
  write("lib/nested/deep/copy.txt", text("same words\n"));
  write("share/empty", new Uint8Array(0));
  write("lib/nested/deep/big.bin", big);
  write("lib/nested/medium.bin", big.subarray(0, 300_000));
  fs.mkdirSync(path.join(tree, "share/empty-dir"), { recursive: true });
  fs.chmodSync(path.join(tree, "share/empty-dir"), 0o700);
  fs.symlinkSync("tool", path.join(tree, "bin/alias"));
  fs.symlinkSync("/usr/lib/nested", path.join(tree, "lib/absolute"));
  fs.symlinkSync("../nowhere", path.join(tree, "share/dangling"));
  return files;
}

function collectingSink(): { sink: ContentSink; bytes: Map<string, Uint8Array> } {
  const bytes = new Map<string, Uint8Array>();
  let parts: Uint8Array[] = [];
  return {
    bytes,
    sink: {
      beginFile() { parts = []; },
      write(chunk) { parts.push(chunk.slice()); },
      endFile(record: IndexRecord) { bytes.set(record.digest, Buffer.concat(parts)); },
    },
  };
}

describe("packTree", () => {
  test("every entry reads back with its exact record and bytes", async () => {
    const files = buildTree();
    const out = path.join(work, "tree-pkg.stone");
    const summary = await packTree(tree, PKG, out, { level: 3 });

    const reader = StoneReader.open(out);
    try {
      expect(reader.header.fileType).toBe(FileType.Binary);
      const records = reader.records();
      const meta = packageFromMeta(records.metas[0]!);
      expect(meta).toMatchObject({ name: "tree-pkg", version: "1.2.3", release: 4, buildRelease: 1, sourceId: "tree", licenses: ["MIT"] });
      expect(meta.dependencies.map((d) => `${d.kind}(${d.name})`)).toEqual(["name(bash)", "soname(libc.so.6(x86_64))"]);

      // Directories, files and links: parents first, names in byte order, full st_mode, root-owned.
      const expected: LayoutRecord[] = [];
      const visit = (rel: string) => {
        for (const name of fs.readdirSync(path.join(tree, rel)).sort()) {
          const target = rel ? `${rel}/${name}` : name;
          const stat = fs.lstatSync(path.join(tree, target));
          const base = { uid: 0, gid: 0, mode: stat.mode, tag: 0, target };
          if (stat.isDirectory()) {
            expected.push({ ...base, entryType: LayoutEntryType.Directory });
            visit(target);
          } else if (stat.isSymbolicLink()) {
            expected.push({ ...base, entryType: LayoutEntryType.Symlink, source: fs.readlinkSync(path.join(tree, target)) });
          } else {
            expected.push({ ...base, entryType: LayoutEntryType.Regular, digest: "" });
          }
        }
      };
      visit("");
      for (const record of expected) if (record.entryType === LayoutEntryType.Regular) record.digest = await xxh3_128Hex(files.get(record.target)!);
      expect(records.layout).toEqual(expected);
      expect(records.layout.find((r) => r.target === "share/empty-dir")!.mode).toBe(0o040700);
      expect(records.layout.find((r) => r.target === "bin/tool")!.mode).toBe(0o100755);
      expect(records.layout.find((r) => r.target === "bin/alias")!.source).toBe("tool");
      expect(records.layout.find((r) => r.target === "share/empty")!.digest).toBe("99aa06d3014798d86001c324468d497f");

      // One index record per unique digest, largest first, tiling the content.
      const unique = new Map<string, number>();
      for (const [target, bytes] of files) unique.set(expected.find((r) => r.target === target)!.digest!, bytes.length);
      expect(records.index.map((r) => r.digest).sort()).toEqual([...unique.keys()].sort());
      expect(records.index.map((r) => r.end - r.start)).toEqual([...unique.values()].sort((a, b) => b - a));
      expect(records.index[0]!.start).toBe(0);

      const { sink, bytes } = collectingSink();
      const content = await streamContent(reader, records.index, sink);
      expect(content.strategy).toBe("split");
      for (const record of expected.filter((r) => r.entryType === LayoutEntryType.Regular)) {
        expect(Buffer.compare(bytes.get(record.digest!)!, files.get(record.target)!)).toBe(0);
      }
      expect(summary).toMatchObject({ path: out, size: fs.statSync(out).size, regularFiles: 7, symlinks: 3, directories: 7, uniqueFiles: 5, payloads: 4 });
      expect(summary.contentPlainSize).toBe([...unique.values()].reduce((a, b) => a + b, 0));
    } finally {
      reader.close();
    }
  });

  test("the same tree always packs to the same bytes", async () => {
    buildTree();
    await packTree(tree, PKG, path.join(work, "a.stone"), { level: 3 });
    await packTree(tree, PKG, path.join(work, "b.stone"), { level: 3 });
    expect(Buffer.compare(fs.readFileSync(path.join(work, "a.stone")), fs.readFileSync(path.join(work, "b.stone")))).toBe(0);
  });

  test("a tree of only directories and symlinks has no index or content payload", async () => {
    fs.mkdirSync(path.join(tree, "share/dir"), { recursive: true });
    fs.symlinkSync("dir", path.join(tree, "share/link"));
    const summary = await packTree(tree, PKG, path.join(work, "no-content.stone"));
    const reader = StoneReader.open(summary.path);
    try {
      expect(reader.payloads.length).toBe(2);
      expect(reader.records().layout.map((r) => r.target)).toEqual(["share", "share/dir", "share/link"]);
    } finally {
      reader.close();
    }
  });

  test("ownership is 0:0 unless asked to keep it", async () => {
    if (process.getuid?.() !== 0) return; // chown needs root
    fs.mkdirSync(tree);
    fs.writeFileSync(path.join(tree, "owned"), "x");
    fs.chownSync(path.join(tree, "owned"), 1234, 5678);
    const owners = async (keepOwnership: boolean) => {
      const summary = await packTree(tree, PKG, path.join(work, `own-${keepOwnership}.stone`), { keepOwnership });
      const reader = StoneReader.open(summary.path);
      try {
        const [record] = reader.records().layout;
        return [record!.uid, record!.gid];
      } finally {
        reader.close();
      }
    };
    expect(await owners(false)).toEqual([0, 0]);
    expect(await owners(true)).toEqual([1234, 5678]);
  });

  test("a fifo is refused with its path, and nothing is written", async () => {
    buildTree();
    const fifo = path.join(tree, "share/doc/pipe");
    expect(Bun.spawnSync(["mkfifo", fifo]).exitCode).toBe(0);
    const out = path.join(work, "refused.stone");
    const error = await packTree(tree, PKG, out).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoneError);
    expect((error as StoneError).code).toBe("STONE_UNSUPPORTED");
    expect((error as StoneError).message).toBe(`cannot pack ${fifo}: it is a fifo; packages hold only regular files, symlinks and directories`);
    expect(fs.readdirSync(work)).toEqual(["usr"]);
  });

  test("a character device is refused with its path", async () => {
    if (process.getuid?.() !== 0) return; // mknod needs root
    fs.mkdirSync(path.join(tree, "dev"), { recursive: true });
    const device = path.join(tree, "dev/null");
    if (Bun.spawnSync(["mknod", device, "c", "1", "3"]).exitCode !== 0) return; // not allowed in this container
    const error = await packTree(tree, PKG, path.join(work, "dev.stone")).catch((e: unknown) => e);
    expect((error as StoneError).message).toBe(`cannot pack ${device}: it is a character device; packages hold only regular files, symlinks and directories`);
  });

  test("a name that is not UTF-8 is refused rather than mangled", async () => {
    fs.mkdirSync(tree);
    fs.writeFileSync(Buffer.concat([Buffer.from(`${tree}/bad-`), Buffer.from([0xff])]), "x");
    const error = await packTree(tree, PKG, path.join(work, "utf8.stone")).catch((e: unknown) => e);
    expect((error as StoneError).code).toBe("STONE_UTF8");
  });

  test("the root must be a directory", async () => {
    const error = await packTree(path.join(work, "missing"), PKG, path.join(work, "x.stone")).catch((e: unknown) => e);
    expect((error as StoneError).message).toBe(`cannot pack ${path.join(work, "missing")}: not a directory`);
  });
});
