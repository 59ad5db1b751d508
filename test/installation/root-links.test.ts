import { afterAll, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { checkRootLinks, ensureRootLinks, InstallationError } from "../../src/installation/index.ts";

const temp = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), "moss-root-links-"));
afterAll(() => fs.rmSync(temp, { recursive: true, force: true }));

const EXPECTED = { bin: "usr/bin", lib: "usr/lib", lib32: "usr/lib32", lib64: "usr/lib", sbin: "usr/sbin" };

function freshRoot(name: string, withUsr = true): string {
  const root = path.join(temp, name);
  fs.mkdirSync(root);
  // lib32 stays dangling on purpose: most systems have no 32-bit libraries.
  if (withUsr) for (const dir of ["bin", "sbin", "lib"]) fs.mkdirSync(path.join(root, "usr", dir), { recursive: true });
  return root;
}

/** name → [kind, link target or "", inode] for every entry at the top of `root`. */
function snapshot(root: string): Record<string, [string, string, number]> {
  const entries: Record<string, [string, string, number]> = {};
  for (const name of fs.readdirSync(root).sort()) {
    const file = path.join(root, name);
    const stats = fs.lstatSync(file);
    const kind = stats.isSymbolicLink() ? "symlink" : stats.isDirectory() ? "dir" : "file";
    entries[name] = [kind, kind === "symlink" ? fs.readlinkSync(file) : "", stats.ino];
  }
  return entries;
}

function links(root: string): Record<string, string> {
  return Object.fromEntries(Object.entries(snapshot(root)).filter(([, [kind]]) => kind === "symlink").map(([name, [, target]]) => [name, target]));
}

test("creates the five relative links in Rust's order", () => {
  const root = freshRoot("fresh");
  expect(checkRootLinks(root)).toEqual([]);
  expect(ensureRootLinks(root)).toEqual(["sbin", "bin", "lib", "lib64", "lib32"]);
  expect(links(root)).toEqual(EXPECTED);
  expect(fs.readdirSync(path.join(root, "bin"))).toEqual([]);
  expect(fs.existsSync(path.join(root, "lib32"))).toBe(false);
});

test("a second run changes nothing, not even the dangling lib32", () => {
  const root = freshRoot("idempotent");
  ensureRootLinks(root);
  const before = snapshot(root);
  expect(ensureRootLinks(root)).toEqual([]);
  expect(snapshot(root)).toEqual(before);
});

test("a wrong link is replaced atomically and a stale .next is cleared", () => {
  const root = freshRoot("wrong");
  ensureRootLinks(root);
  fs.rmSync(path.join(root, "bin"));
  fs.symlinkSync("/somewhere/else", path.join(root, "bin"));
  fs.symlinkSync("junk", path.join(root, "lib.next"));
  fs.writeFileSync(path.join(root, "sbin.next"), "left by a crash");
  const libInode = fs.lstatSync(path.join(root, "lib")).ino;
  expect(ensureRootLinks(root)).toEqual(["bin"]);
  expect(links(root)).toEqual(EXPECTED);
  expect(fs.lstatSync(path.join(root, "lib")).ino).toBe(libInode);
  expect(Object.keys(snapshot(root)).filter((name) => name.endsWith(".next"))).toEqual([]);
});

test("a real directory at bin is refused before anything changes", () => {
  const root = freshRoot("real-bin", false);
  fs.mkdirSync(path.join(root, "bin"));
  fs.writeFileSync(path.join(root, "bin", "sh"), "");
  fs.symlinkSync("usr/lib", path.join(root, "lib"));
  const before = snapshot(root);
  const binPath = path.join(root, "bin");
  expect(checkRootLinks(root)).toEqual([`"${binPath}" is a directory, not a symlink to usr/bin`]);
  let error: unknown;
  try {
    ensureRootLinks(root);
  } catch (caught) {
    error = caught;
  }
  expect(error).toBeInstanceOf(InstallationError);
  expect((error as InstallationError).code).toBe("INSTALLATION_ROOT_LINKS");
  expect((error as InstallationError).message).toBe(`cannot make the root links: "${binPath}" is a directory, not a symlink to usr/bin`);
  expect(snapshot(root)).toEqual(before);
});

test("every blocker is reported at once: files, directories, a directory at .next", () => {
  const root = freshRoot("many-problems", false);
  fs.writeFileSync(path.join(root, "lib64"), "");
  fs.mkdirSync(path.join(root, "sbin"));
  fs.mkdirSync(path.join(root, "lib32.next"));
  expect(checkRootLinks(root)).toEqual([
    `"${path.join(root, "sbin")}" is a directory, not a symlink to usr/sbin`,
    `"${path.join(root, "lib64")}" is a file, not a symlink to usr/lib`,
    `"${path.join(root, "lib32.next")}" is a directory`,
  ]);
  expect(() => ensureRootLinks(root)).toThrow(InstallationError);
  expect(links(root)).toEqual({});
});

test("a missing directory is a problem, not a crash halfway", () => {
  const missing = path.join(temp, "absent");
  expect(checkRootLinks(missing)).toEqual([`"${missing}" does not exist`]);
  expect(() => ensureRootLinks(missing)).toThrow(InstallationError);
});
