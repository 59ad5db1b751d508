/** Layouts that try to write outside /usr, or that no filesystem can hold: refused, naming the package. */
import { describe, expect, test } from "bun:test";
import { build, buildFails, dir, file, link, pkg } from "./rows.ts";

const names: Record<string, string> = { evil: "evil-1.0-1", good: "good-2-1" };
const describeId = (id: string) => names[id] ?? id;

describe("unsafe layout targets", () => {
  const cases: [string, string][] = [
    ["../etc/passwd", 'the path has a ".." component'],
    ["share/../../etc/shadow", 'the path has a ".." component'],
    ["/etc/passwd", "absolute paths are refused; layout paths are relative to /usr"],
    ["a/./b", 'the path has a "." component'],
    [".", 'the path has a "." component'],
    ["a//b", "the path has an empty component"],
    ["a/b/", "the path has an empty component"],
    ["", "the path is empty"],
    ["bin/a\0b", "the path contains a NUL byte"],
    [`share/${"x".repeat(256)}`, "a component is longer than 255 bytes"],
    [`share/${"é".repeat(128)}`, "a component is longer than 255 bytes"], // 256 UTF-8 bytes in 128 units
  ];
  for (const [target, reason] of cases) {
    test(`refuses ${JSON.stringify(target.length > 40 ? `${target.slice(0, 30)}…` : target)}: ${reason}`, () => {
      const error = buildFails([...pkg("good", file("bin/ok")), ...pkg("evil", file(target))], { describe: describeId });
      expect(error.code).toBe("VFS_UNSAFE_PATH");
      expect(error.unsafePaths).toEqual([{ path: target.startsWith("/") ? target : `/usr/${target}`, packageId: "evil", reason }]);
      expect(error.message).toContain(`evil-1.0-1: ${error.unsafePaths[0]!.path}: ${reason}`);
    });
  }

  test("a 255-byte component is fine, in ASCII and in multi-byte text", () => {
    const vfs = build(pkg("p", file(`share/${"x".repeat(255)}`), file(`share/${"é".repeat(127)}a`)));
    expect(vfs.counts.regular).toBe(2);
  });

  test("every unsafe path is collected before the build fails", () => {
    const error = buildFails(pkg("evil", file("../a"), file("/b"), file("c/../d"), link("e", "")));
    expect(error.unsafePaths.map((u) => u.path)).toEqual(["/usr/../a", "/b", "/usr/c/../d", "/usr/e"]);
    expect(error.unsafePaths[3]!.reason).toBe("the symlink has no target text");
    expect(error.message.split("\n")[0]).toBe("refusing 4 unsafe layout paths (nothing may be written outside /usr):");
  });
});

describe("escapes planted with symlinks", () => {
  test("a link 'evil -> ../../etc' and a file 'evil/passwd' in one package are refused, in either order", () => {
    for (const records of [
      [link("evil", "../../etc"), file("evil/passwd", "root::0:0")],
      [file("evil/passwd", "root::0:0"), link("evil", "../../etc")],
    ]) {
      const error = buildFails([...pkg("good", file("bin/ok")), ...pkg("evil", ...records)], { describe: describeId });
      expect(error.code).toBe("VFS_UNSAFE_PATH");
      expect(error.unsafePaths).toEqual([{
        path: "/usr/evil/passwd", packageId: "evil", reason: "the symlink /usr/evil -> ../../etc leads outside /usr",
      }]);
      expect(error.message).toContain("evil-1.0-1: /usr/evil/passwd: the symlink /usr/evil -> ../../etc leads outside /usr");
    }
  });

  test("an absolute link out of /usr, a link to '/' and a link to '/usr/..' cannot carry entries", () => {
    const error = buildFails(pkg("evil",
      link("etc", "/etc"), file("etc/shadow"),
      link("root", "/"), dir("root/boot"),
      link("up", "/usr/.."), file("up/x"),
    ));
    expect(error.unsafePaths.map((u) => u.path).sort()).toEqual(["/usr/etc/shadow", "/usr/root/boot", "/usr/up/x"]);
  });

  test("a chain that leaves /usr half way is caught too: a -> b/c, b -> ../../tmp", () => {
    const error = buildFails([...pkg("good", link("a", "b/c")), ...pkg("evil", link("b", "../../tmp"), file("a/payload"))]);
    // The link that leads out is good's: the record names it, so the error can blame both packages.
    expect(error.unsafePaths).toEqual([{ path: "/usr/a/payload", packageId: "evil", reason: "the symlink /usr/a -> b/c leads outside /usr", linkedBy: "good" }]);
  });

  test("a link planted inside a symlinked directory is followed from its real place and refused", () => {
    // lib64 -> lib; lib64/esc -> ../../etc from /usr/lib is /etc: outside.
    const error = buildFails(pkg("evil", link("lib64", "lib"), dir("lib"), link("lib64/esc", "../../etc"), file("lib64/esc/cron")));
    expect(error.unsafePaths.map((u) => [u.path, u.reason])).toEqual([["/usr/lib/esc/cron", "the symlink /usr/lib/esc -> ../../etc leads outside /usr"]]);
  });

  test("nothing in a successful build sits below a symlink or outside /usr", () => {
    const vfs = build(pkg("p", link("lib64", "lib"), dir("lib"), link("lib/x", "../share"), dir("share"), file("lib64/x/y"), link("bin/out", "/etc/alt")));
    const symlinks = vfs.entries.filter((e) => e.kind === "symlink").map((e) => `${e.path}/`);
    for (const entry of vfs.entries) {
      expect(entry.path === "/usr" || entry.path.startsWith("/usr/")).toBe(true);
      expect(symlinks.some((prefix) => entry.path.startsWith(prefix))).toBe(false);
    }
    expect(vfs.byPath("/usr/share/y")?.kind).toBe("regular");
  });
});
