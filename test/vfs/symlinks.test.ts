/** Symlinked directories: entries put "through" a link move to where it leads (spec §3.9, §9 #1, #3). */
import { describe, expect, test } from "bun:test";
import { build, buildFails, dir, file, link, paths, pkg } from "./rows.ts";

describe("re-parenting through a symlinked directory", () => {
  test("/usr/lib64/libfoo.so lands in /usr/lib when /usr/lib64 -> lib, and the link stays a link", () => {
    const rows = [
      ...pkg("filesystem", link("lib64", "lib"), dir("lib")),
      ...pkg("foo", dir("lib64"), file("lib64/libfoo.so.1", "foo"), link("lib64/libfoo.so", "libfoo.so.1"), dir("lib64/foo"), file("lib64/foo/plugin.so")),
    ];
    const vfs = build(rows);
    expect(paths(vfs)).toEqual([
      "/usr", "/usr/lib", "/usr/lib/foo", "/usr/lib/foo/plugin.so", "/usr/lib/libfoo.so", "/usr/lib/libfoo.so.1", "/usr/lib64",
    ]);
    expect(vfs.byPath("/usr/lib64")).toMatchObject({ kind: "symlink", source: "lib", packageId: "filesystem" });
    expect(vfs.byPath("/usr/lib/libfoo.so.1")).toMatchObject({ kind: "regular", packageId: "foo" });
    expect(vfs.byPath("/usr/lib/libfoo.so")).toMatchObject({ kind: "symlink", source: "libfoo.so.1", packageId: "foo" });
    // The directory `foo` shipped at /usr/lib64 is satisfied by the link: no conflict, no entry.
    expect(vfs.byPath("/usr/lib")?.packageId).toBe("filesystem");
  });

  test("the result does not depend on whether the link or the entries come first", () => {
    const link64 = pkg("filesystem", link("lib64", "lib"), dir("lib"));
    const foo = pkg("foo", dir("lib64"), file("lib64/libfoo.so.1"));
    expect(paths(build([...foo, ...link64]))).toEqual(paths(build([...link64, ...foo])));
    expect(paths(build([...foo, ...link64]))).toEqual(["/usr", "/usr/lib", "/usr/lib/libfoo.so.1", "/usr/lib64"]);
  });

  test("a re-parented entry that differs from one already in the target directory is a conflict", () => {
    const rows = [
      ...pkg("filesystem", link("lib64", "lib"), dir("lib")),
      ...pkg("glibc", file("lib/ld-linux-x86-64.so.2", "real")),
      ...pkg("compat", file("lib64/ld-linux-x86-64.so.2", "other")),
    ];
    const error = buildFails(rows);
    expect(error.conflicts).toEqual([{
      path: "/usr/lib/ld-linux-x86-64.so.2", first: "glibc", second: "compat", firstKind: "regular", secondKind: "regular",
    }]);
    expect(error.message).toContain("/usr/lib/ld-linux-x86-64.so.2: compat conflicts with glibc");
  });

  test("a re-parented entry identical to the one in the target directory is no conflict", () => {
    const rows = [
      ...pkg("filesystem", link("lib64", "lib"), dir("lib")),
      ...pkg("glibc", file("lib/ld.so", "same")),
      ...pkg("compat", file("lib64/ld.so", "same")),
    ];
    expect(build(rows).byPath("/usr/lib/ld.so")?.packageId).toBe("glibc");
  });

  test("chains of links are followed: lib64 -> lib -> x86_64-linux-gnu", () => {
    const rows = [
      ...pkg("filesystem", link("lib64", "lib"), link("lib", "x86_64-linux-gnu"), dir("x86_64-linux-gnu")),
      ...pkg("a", file("lib64/a.so")),
      ...pkg("b", file("lib/b.so")),
    ];
    const vfs = build(rows);
    expect(paths(vfs)).toEqual(["/usr", "/usr/lib", "/usr/lib64", "/usr/x86_64-linux-gnu", "/usr/x86_64-linux-gnu/a.so", "/usr/x86_64-linux-gnu/b.so"]);
    expect(vfs.byPath("/usr/lib")?.kind).toBe("symlink");
  });

  test("link text is normalised: ./, .., absolute /usr paths, and .. past the root", () => {
    const rows = [
      ...pkg("fs", dir("lib"), dir("share/data")),
      ...pkg("l", link("lib32", "./../usr/./lib/"), link("share/data64", "/usr/share/data"), link("deep", "../../../usr/lib")),
      ...pkg("x", file("lib32/a"), file("share/data64/b"), file("deep/c")),
    ];
    const vfs = build(rows);
    for (const path of ["/usr/lib/a", "/usr/share/data/b", "/usr/lib/c"]) expect(vfs.byPath(path)?.packageId).toBe("x");
  });

  test("links inside a re-parented directory are followed from where they end up", () => {
    const rows = [
      ...pkg("fs", link("lib64", "lib"), dir("lib/real")),
      // lib64/alias -> real only makes sense once it sits in /usr/lib.
      ...pkg("p", link("lib64/alias", "real"), file("lib64/alias/x.so")),
      // A link whose target is reached only through lib64, and only after lib64's entries moved.
      ...pkg("q", dir("lib64/sub"), link("a", "lib64/sub"), file("a/y")),
    ];
    const vfs = build(rows);
    expect(vfs.byPath("/usr/lib/real/x.so")?.packageId).toBe("p");
    expect(vfs.byPath("/usr/lib/alias")?.kind).toBe("symlink");
    expect(vfs.byPath("/usr/lib/sub/y")?.packageId).toBe("q");
    expect(vfs.entries.filter((e) => e.kind !== "directory").map((e) => e.path))
      .toEqual(["/usr/a", "/usr/lib/alias", "/usr/lib/real/x.so", "/usr/lib/sub/y", "/usr/lib64"]);
  });

  test("two packages shipping the same link both have their entries carried through it", () => {
    const rows = [...pkg("fs", dir("lib")), ...pkg("a", link("lib64", "lib"), file("lib64/a.so")), ...pkg("b", link("lib64", "lib"), file("lib64/b.so"))];
    const vfs = build(rows);
    expect(vfs.byPath("/usr/lib/a.so")?.packageId).toBe("a");
    expect(vfs.byPath("/usr/lib/b.so")?.packageId).toBe("b");
    expect(vfs.byPath("/usr/lib64")?.packageId).toBe("a");
  });

  test("a directory re-parented onto a file puts its entries below that file: a conflict", () => {
    const rows = [...pkg("fs", link("lib64", "lib"), dir("lib")), ...pkg("a", file("lib/foo")), ...pkg("b", file("lib64/foo/x"))];
    expect(buildFails(rows).conflicts).toEqual([{
      path: "/usr/lib/foo/x", first: "a", second: "b", firstKind: "regular", secondKind: "regular",
      detail: "/usr/lib/foo is a regular file, not a directory",
    }]);
  });

  test("a link to '.' folds its entries into its own directory", () => {
    const vfs = build([...pkg("fs", link("share/self", ".")), ...pkg("x", file("share/self/f"))]);
    expect(vfs.byPath("/usr/share/f")?.packageId).toBe("x");
  });
});

describe("symlinks that cannot carry entries", () => {
  test("a link to a regular file: the entries below it conflict with the link's package", () => {
    const error = buildFails([...pkg("a", file("share/target"), link("share/dir", "target")), ...pkg("b", file("share/dir/x"))]);
    expect(error.conflicts).toEqual([{
      path: "/usr/share/dir/x", first: "a", second: "b", firstKind: "symlink", secondKind: "regular",
      detail: "the symlink /usr/share/dir -> target points to the regular file /usr/share/target, not a directory",
    }]);
  });

  test("a link to a missing directory is reported, not dropped", () => {
    const error = buildFails([...pkg("a", link("lib64", "lib")), ...pkg("b", file("lib64/libb.so"), file("lib64/sub/c.so"))]);
    expect(error.conflicts.map((c) => [c.path, c.first, c.second])).toEqual([
      ["/usr/lib64/libb.so", "a", "b"],
      ["/usr/lib64/sub/c.so", "a", "b"],
    ]);
  });

  test("a symlink loop is reported, after a bounded number of hops", () => {
    const error = buildFails([...pkg("a", link("x", "y"), link("y", "x/../x")), ...pkg("b", file("x/file"))]);
    expect(error.code).toBe("VFS_CONFLICT");
    expect(error.conflicts).toHaveLength(1);
    expect(error.conflicts[0]!.detail).toBe("the symlink /usr/x -> y is a symlink loop");
  });

  test("a self-referencing link with entries below it is a loop, not a hang", () => {
    const error = buildFails(pkg("a", link("lib64", "lib64/x"), file("lib64/f")));
    expect(error.conflicts[0]!.detail).toContain("symlink loop");
  });

  test("a symlink to a directory with nothing below it needs no target to exist", () => {
    const vfs = build(pkg("a", link("bin/editor", "/etc/alternatives/editor"), link("lib/dangling", "../nowhere")));
    expect(vfs.counts.symlinks).toBe(2);
  });
});
