/** Implicit directories, blit order, and how same-path entries of several packages settle. */
import { describe, expect, test } from "bun:test";
import { IMPLICIT_DIRECTORY_MODE } from "../../src/vfs/index.ts";
import { LayoutEntryType } from "../../src/stone/types.ts";
import { build, buildFails, dir, fifo, file, link, paths, pkg } from "./rows.ts";

describe("implicit directories", () => {
  test("every ancestor of an entry exists as a root-owned 0755 directory owned by no package", () => {
    const vfs = build(pkg("nano", file("share/doc/nano/README")));
    expect(paths(vfs)).toEqual(["/usr", "/usr/share", "/usr/share/doc", "/usr/share/doc/nano", "/usr/share/doc/nano/README"]);
    for (const path of ["/usr", "/usr/share", "/usr/share/doc", "/usr/share/doc/nano"]) {
      expect(vfs.byPath(path)).toEqual({
        path, kind: "directory", mode: IMPLICIT_DIRECTORY_MODE, uid: 0, gid: 0,
        digest: undefined, source: undefined, packageId: undefined, entryType: LayoutEntryType.Directory,
      });
    }
    expect(IMPLICIT_DIRECTORY_MODE).toBe(0o40755);
    expect(vfs.byPath("/usr/share/doc/nano/README")).toMatchObject({ kind: "regular", packageId: "nano", mode: 0o100644 });
    expect(vfs.byPath("/")).toBeUndefined();
    expect(vfs.counts).toEqual({ directories: 4, regular: 1, symlinks: 0, special: 0, textUnits: 4 + 10 + 14 + 19 + 6 });
  });

  test("an explicit directory replaces the implicit one, and of two explicit ones the later row wins", () => {
    const rows = [...pkg("a", file("lib/x/f"), dir("lib/x", 0o700, { uid: 5 })), ...pkg("b", dir("lib/x", 0o750, { gid: 7 }))];
    const vfs = build(rows);
    expect(vfs.byPath("/usr/lib/x")).toMatchObject({ kind: "directory", mode: 0o40750, uid: 0, gid: 7, packageId: "b" });
    expect(vfs.conflicts).toEqual([]);
  });
});

describe("blit order", () => {
  test("depth-first pre-order with siblings sorted by name bytes, whatever the row order", () => {
    const records = [
      file("foo-bar"), file("foo/x"), file("foo/a/b"), link("Zed", "foo"), file("foo.d/y"), file("a"),
      file("\u{1F600}"), file("\uE000"), file("é"), file("e"),
    ];
    const expected = [
      "/usr", "/usr/Zed", "/usr/a", "/usr/e", "/usr/foo", "/usr/foo/a", "/usr/foo/a/b", "/usr/foo/x",
      "/usr/foo-bar", "/usr/foo.d", "/usr/foo.d/y", "/usr/é", "/usr/\uE000", "/usr/\u{1F600}",
    ];
    for (let seed = 1; seed <= 20; seed++) {
      const shuffled = [...records].sort(() => ((seed = (seed * 16807) % 2147483647) & 1 ? 1 : -1));
      expect(paths(build(pkg("p", ...shuffled)))).toEqual(expected);
    }
    // Siblings really are in UTF-8 byte order (U+E000 before U+1F600 although UTF-16 says otherwise).
    const names = ["Zed", "a", "e", "foo", "foo-bar", "foo.d", "é", "\uE000", "\u{1F600}"];
    expect([...names].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)))).toEqual(names);
  });

  test("every entry follows its parent directory, and the counts add up", () => {
    const vfs = build([...pkg("a", file("bin/a"), link("bin/sh", "bash"), dir("share/empty")), ...pkg("b", fifo("lib/pipe"))]);
    const seen = new Set(["/"]);
    for (const entry of vfs.entries) {
      const parent = entry.path.slice(0, entry.path.lastIndexOf("/")) || "/";
      expect(seen.has(parent)).toBe(true);
      if (entry.kind === "directory") seen.add(entry.path);
    }
    // Text: each directory's path, each other entry's name, and a symlink's source too.
    const textUnits = "/usr/usr/bin/usr/lib/usr/share/usr/share/empty".length + "a".length + "sh".length + "bash".length + "pipe".length;
    expect(vfs.counts).toEqual({ directories: 5, regular: 1, symlinks: 1, special: 1, textUnits });
    expect(vfs.byPath("/usr/lib/pipe")).toMatchObject({ kind: "special", entryType: LayoutEntryType.Fifo, packageId: "b" });
  });
});

describe("same path in several packages", () => {
  test("identical entries from two packages are one entry, kept from the first", () => {
    const rows = [
      ...pkg("a", file("share/licenses/GPL-2.0", "gpl"), link("bin/vi", "vim")),
      ...pkg("b", file("share/licenses/GPL-2.0", "gpl"), link("bin/vi", "vim")),
    ];
    const vfs = build(rows);
    expect(vfs.byPath("/usr/share/licenses/GPL-2.0")?.packageId).toBe("a");
    expect(vfs.byPath("/usr/bin/vi")?.packageId).toBe("a");
    expect(vfs.conflicts).toEqual([]);
  });

  test("file/file, file/symlink, directory/file and directory/dangling-symlink clashes are all reported with both packages", () => {
    const rows = [
      ...pkg("a", file("share/foo", "one"), file("bin/tool", "t"), dir("lib/plugins"), dir("etc/conf.d"), file("etc/conf.d/x")),
      ...pkg("b", file("share/foo", "two"), link("bin/tool", "other"), file("lib/plugins"), link("etc/conf.d", "missing.d")),
      ...pkg("c", file("share/foo", "one", { mode: 0o100755 })),
    ];
    const names: Record<string, string> = { a: "alpha-1.0-1", b: "beta-2.0-1", c: "gamma-3-1" };
    const error = buildFails(rows, { describe: (id) => names[id]! });
    expect(error.code).toBe("VFS_CONFLICT");
    const found = error.conflicts.map((c) => [c.path, c.first, c.second, c.firstKind, c.secondKind]);
    expect(found).toEqual(expect.arrayContaining([
      ["/usr/share/foo", "a", "b", "regular", "regular"],
      ["/usr/share/foo", "a", "c", "regular", "regular"],
      ["/usr/bin/tool", "a", "b", "regular", "symlink"],
      ["/usr/lib/plugins", "a", "b", "directory", "regular"],
      // The symlink leads nowhere: the directory a ships there and the file in it cannot be placed.
      ["/usr/etc/conf.d", "b", "a", "symlink", "directory"],
      ["/usr/etc/conf.d/x", "b", "a", "symlink", "regular"],
    ]));
    expect(error.conflicts).toHaveLength(6);
    expect(error.message).toContain("6 file conflicts between the selected packages:");
    expect(error.message).toContain("/usr/share/foo: beta-2.0-1 conflicts with alpha-1.0-1");
    expect(error.message).toContain("/usr/share/foo: gamma-3-1 conflicts with alpha-1.0-1");
    expect(error.message).toContain("/usr/bin/tool: beta-2.0-1 conflicts with alpha-1.0-1");
    expect(error.message).toContain("/usr/etc/conf.d/x: alpha-1.0-1 conflicts with beta-2.0-1 (the symlink /usr/etc/conf.d -> missing.d points to a missing directory)");
  });

  test("the message lists the first ten conflicts and says how many there are", () => {
    const rows = [];
    for (let i = 0; i < 25; i++) rows.push(...pkg("a", file(`share/f${i}`, "a")), ...pkg("b", file(`share/f${i}`, "b")));
    const error = buildFails(rows);
    expect(error.conflicts).toHaveLength(25);
    const lines = error.message.split("\n");
    expect(lines[0]).toBe("25 file conflicts between the selected packages:");
    expect(lines.filter((line) => line.endsWith(": b conflicts with a"))).toHaveLength(10);
    expect(lines.at(-1)).toBe("… and 15 more (25 in total)");
  });

  test("whatever sits below a file is a conflict with the file's package, in either row order", () => {
    for (const rows of [
      [...pkg("a", file("share/thing")), ...pkg("b", file("share/thing/inside"))],
      [...pkg("b", file("share/thing/inside")), ...pkg("a", file("share/thing"))],
    ]) {
      const error = buildFails(rows);
      expect(error.conflicts).toEqual([{
        path: "/usr/share/thing/inside", first: "a", second: "b", firstKind: "regular", secondKind: "regular",
        detail: "/usr/share/thing is a regular file, not a directory",
      }]);
    }
  });

  test("entries below a device or fifo conflict too, since nothing is created for them", () => {
    const error = buildFails([...pkg("a", fifo("run/pipe")), ...pkg("b", file("run/pipe/x"))]);
    expect(error.conflicts.map((c) => [c.path, c.firstKind])).toEqual([["/usr/run/pipe/x", "special"]]);
  });

  test("with conflicts: \"report\" the first entry stays, the conflicts come back, and the tree is still blit-safe", () => {
    const rows = [...pkg("a", file("share/foo", "one"), file("x")), ...pkg("b", file("share/foo", "two"), file("x/y"))];
    const vfs = build(rows, { conflicts: "report" });
    expect(vfs.byPath("/usr/share/foo")).toMatchObject({ packageId: "a", digest: file("", "one").digest });
    expect(vfs.byPath("/usr/x/y")).toBeUndefined();
    expect(vfs.conflicts.map((c) => c.path)).toEqual(["/usr/share/foo", "/usr/x/y"]);
  });
});

describe("walking without a list", () => {
  const rows = () => [
    ...pkg("a", file("bin/a", "1"), link("bin/b", "a"), dir("lib/x", 0o700), file("lib/x/f", "2", { uid: 4_294_967_294, gid: 65_534 }), fifo("lib/p")),
    ...pkg("b", file("bin/a", "1"), file("share/z", "3", { mode: 0o104755 })),
  ];

  test("forEach gives the entries the list has, in the same order, as often as it is called", () => {
    const list = build(rows()).entries;
    const vfs = build(rows());
    const walked = (): unknown[] => {
      const seen: unknown[] = [];
      vfs.forEach((entry) => seen.push(entry));
      return seen;
    };
    expect(walked()).toEqual(list);
    expect(walked()).toEqual(list);
    expect(vfs.size).toBe(list.length);
    // Made from the tree after the walks, the list is still the same; walks then read the list.
    expect(vfs.entries).toEqual(list);
    expect(walked()).toEqual(list);
  });

  test("plain files keep their full metadata: unsigned ids, set-id modes, package and digest", () => {
    const vfs = build(rows());
    expect(vfs.byPath("/usr/lib/x/f")).toMatchObject({ kind: "regular", uid: 4_294_967_294, gid: 65_534, packageId: "a", digest: file("x", "2").digest });
    expect(vfs.byPath("/usr/share/z")).toMatchObject({ kind: "regular", mode: 0o104755, packageId: "b" });
    // The same file shipped twice is one entry, the first package's.
    expect(vfs.byPath("/usr/bin/a")).toMatchObject({ packageId: "a" });
    expect(vfs.counts).toMatchObject({ directories: 5, regular: 3, symlinks: 1, special: 1 });
  });
});
