/**
 * The life of a root through the real binary (issue 4): install → state 1, install more → 2,
 * remove → 3, activate 1 brings state 1's tree back byte for byte with 3 archived, state removal
 * by range frees archives and unreferenced assets; conflicting packages change nothing.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { FIXTURES, moss, tempDir } from "../helpers/moss.ts";
import { distro, readStateId, snapshot, type Distro } from "../helpers/roots.ts";

const work = tempDir("moss-lifecycle-");
const root = path.join(work, "root");
let packages: Distro;

beforeAll(async () => {
  fs.mkdirSync(root);
  packages = await distro(path.join(work, "repo"));
}, 60_000);
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

function ok(args: string[]) {
  const result = moss(["-D", root, "-y", ...args]);
  if (result.status !== 0) throw new Error(`moss ${args.join(" ")} exited ${result.status}\n${result.stdout}\n${result.stderr}`);
  return result;
}

function statesJson(): { id: number; summary: string; active: boolean; packages: number }[] {
  return JSON.parse(ok(["state", "list", "--json"]).stdout);
}

function countAssets(): number {
  return (fs.readdirSync(path.join(root, ".moss", "assets", "v2"), { recursive: true }) as string[])
    .filter((f) => fs.statSync(path.join(root, ".moss", "assets", "v2", f)).isFile()).length;
}

describe("a root's lifecycle", () => {
  let firstTree: Map<string, string>;

  test("installing local .stone files creates state 1 with every file in /usr", () => {
    const result = ok(["install", ...packages.closure("mixnek")]);
    expect(result.stdout).toContain("The following package(s) will be installed:");
    expect(result.stdout).toMatch(/^\d+ entries blitted in \d+\.\d\ds \(\d+\.\dk \/ s\)$/m);
    expect(readStateId(root)).toBe("1");
    expect(fs.readlinkSync(path.join(root, "bin"))).toBe("usr/bin");
    firstTree = snapshot(path.join(root, "usr"));
    const listed = JSON.parse(ok(["list", "installed", "--json"]).stdout) as { name: string }[];
    expect(listed.map((p) => p.name)).toContain("mixnek");
    // Every regular file of every installed package is in the tree with its digest's bytes.
    expect([...firstTree.keys()]).toContain("lib/os-release");
    expect(statesJson()).toMatchObject([{ id: 1, summary: "Install", active: true }]);
  }, 60_000);

  test("installing more creates state 2 and archives state 1", () => {
    ok(["install", ...packages.closure("bermorpo")]);
    expect(readStateId(root)).toBe("2");
    expect(fs.readFileSync(path.join(root, ".moss", "root", "1", "usr", ".stateID"), "utf8")).toBe("1");
    expect(snapshot(path.join(root, ".moss", "root", "1", "usr"))).toEqual(firstTree);
  }, 60_000);

  test("state verify finds a corrupt asset, repairs it from the .stone, and is clean after", () => {
    expect(ok(["state", "verify"]).stdout.trim()).toBe("No issues found");
    // A file of mixnek's, present in both states 1 and 2: corrupt its asset (the same inode as the trees' files).
    const victim = [...firstTree].find(([file, what]) => file.startsWith("share/mixnek/") && what.startsWith("f "))![0];
    const usrFile = path.join(root, "usr", victim);
    const original = fs.readFileSync(usrFile);
    fs.chmodSync(usrFile, 0o644);
    fs.writeFileSync(usrFile, Buffer.concat([original, Buffer.from("corruption")]));
    const found = moss(["-D", root, "state", "verify"], { env: {} });
    expect(found.stdout).toMatch(/^Found \d+ issue\(s\)$/m);
    expect(found.stdout).toMatch(/^ × Corrupt asset [0-9a-f]{32} - \{.*"share\/mixnek\//m);
    expect(found.status).toBe(1); // stdin is not a terminal and -y was not given: nothing changed
    const repaired = ok(["state", "verify"]);
    expect(repaired.stdout).toContain("Reinstalling packages");
    expect(repaired.stdout).toContain(" » state #1");
    expect(repaired.stdout).toContain(" » state #2");
    expect(repaired.stdout.trim().split("\n").at(-1)).toBe("All issues resolved");
    expect(fs.readFileSync(usrFile)).toEqual(original);
    expect(snapshot(path.join(root, ".moss", "root", "1", "usr"))).toEqual(firstTree);
    expect(ok(["state", "verify"]).stdout.trim()).toBe("No issues found");
  }, 60_000);

  test("removing a package creates state 3 without it", () => {
    const result = ok(["remove", "bermorpo"]);
    expect(result.stdout).toContain("Removed bermorpo");
    expect(readStateId(root)).toBe("3");
    const names = (JSON.parse(ok(["list", "installed", "--json"]).stdout) as { name: string }[]).map((p) => p.name);
    expect(names).not.toContain("bermorpo");
  }, 60_000);

  test("state diff names what changed between two states, from the databases alone", () => {
    const diff = JSON.parse(ok(["state", "diff", "2", "3", "--json"]).stdout);
    expect(diff.removed.map((p: { name: string }) => p.name)).toEqual(["bermorpo"]);
    expect(diff.added).toEqual([]);
    const reverse = JSON.parse(ok(["state", "diff", "3", "2", "--json"]).stdout);
    expect(reverse.added.map((p: { name: string }) => p.name)).toEqual(["bermorpo"]);
    expect(ok(["state", "diff", "2", "3"]).stdout).toContain("- bermorpo");
  });

  test("a pinned state survives prune, its neighbour goes, and the estimate is shown first", () => {
    expect(ok(["state", "pin", "1"]).stdout.trim()).toBe("State 1 pinned");
    expect(statesJson().find((s) => s.id === 1)).toMatchObject({ pinned: true });
    const refused = moss(["-D", root, "-y", "state", "remove", "1"]);
    expect(refused.status).toBe(1);
    expect(refused.stdout).toContain("state 1 is pinned");
    const text = ok(["state", "prune", "--keep", "1"]).stdout;
    expect(text).toMatch(/^This frees about [\d.]+ (B|KiB|MiB) \(\d+ files of the content store no other state uses\)\.$/m);
    expect(text).toContain(`Removed "${path.join(root, ".moss", "root", "2")}"`);
    expect(statesJson().map((s) => s.id)).toEqual([3, 1]);
    expect(fs.existsSync(path.join(root, ".moss", "root", "1", "usr"))).toBe(true);
    ok(["state", "unpin", "1"]);
    expect(statesJson().find((s) => s.id === 1)).toMatchObject({ pinned: false });
  }, 60_000);

  test("info shows an installed package and, with -f, the files it puts in the state", () => {
    const text = ok(["info", "-f", "mixnek"]).stdout;
    expect(text).toMatch(/^Name {17}mixnek$/m);
    expect(text).toMatch(/^Status {15}Installed$/m);
    const info = JSON.parse(ok(["info", "-f", "mixnek", "--json"]).stdout)[0];
    const file = info.files.find((f: { kind: string }) => f.kind === "regular");
    expect(fs.existsSync(path.join(root, file.path))).toBe(true);
    const missing = moss(["-D", root, "info", "no-such-package"]);
    expect(missing.status).toBe(1);
    expect(missing.stdout.trim()).toBe("Error: No such package no-such-package");
  });

  test("activating state 1 brings its tree back byte for byte and archives state 3", () => {
    const result = ok(["state", "activate", "1"]);
    expect(result.stdout.trim()).toBe("State 1 activated (3 archived)");
    expect(readStateId(root)).toBe("1");
    expect(snapshot(path.join(root, "usr"))).toEqual(firstTree);
    expect(fs.readFileSync(path.join(root, ".moss", "root", "3", "usr", ".stateID"), "utf8")).toBe("3");
    expect(fs.existsSync(path.join(root, ".moss", "root", "1"))).toBe(false);
    expect(fs.readdirSync(path.join(root, ".moss", "root", "staging"))).toEqual([]);
    expect(statesJson().map((s) => [s.id, s.active])).toEqual([[3, false], [1, true]]);
  }, 60_000);

  test("activating the active state or a missing one fails and changes nothing", () => {
    for (const [id, message] of [["1", "state 1 already active"], ["9", "state 9 doesn't exist"]] as const) {
      const result = moss(["-D", root, "-y", "state", "activate", id]);
      expect(result.status).toBe(1);
      expect(result.stdout + result.stderr).toContain(message);
    }
    expect(readStateId(root)).toBe("1");
  });

  test("removing states by range deletes their archives and the assets only they used", () => {
    const before = countAssets();
    const refused = moss(["-D", root, "-y", "state", "remove", "1-3"]);
    expect(refused.status).toBe(1);
    expect(refused.stdout + refused.stderr).toContain("cannot prune the currently active state");
    const result = ok(["state", "remove", "2-3"]);
    expect(result.stdout).toContain(`Removed "${path.join(root, ".moss", "root", "3")}"`);
    expect(fs.existsSync(path.join(root, ".moss", "root", "2"))).toBe(false);
    expect(fs.existsSync(path.join(root, ".moss", "root", "3"))).toBe(false);
    expect(statesJson().map((s) => s.id)).toEqual([1]);
    expect(countAssets()).toBeLessThan(before);
    expect(snapshot(path.join(root, "usr"))).toEqual(firstTree);
  }, 60_000);
});

describe("conflicting packages", () => {
  test("a package whose declared conflict is installed is refused and the active state stays", () => {
    const conflictRoot = path.join(work, "conflicts");
    fs.mkdirSync(conflictRoot);
    const first = moss(["-D", conflictRoot, "-y", "install", path.join(FIXTURES, "conflicts", "pineapple-1-1-1-x86_64.stone")]);
    expect(first.status).toBe(0);
    const tree = snapshot(path.join(conflictRoot, "usr"));
    const second = moss(["-D", conflictRoot, "-y", "install", path.join(FIXTURES, "conflicts", "italian-pizza-1-1-1-x86_64.stone")]);
    expect(second.status).toBe(1);
    expect(second.stdout).toMatch(/^Error: .*italian-pizza conflicts with pineapple/m);
    expect(readStateId(conflictRoot)).toBe("1");
    expect(snapshot(path.join(conflictRoot, "usr"))).toEqual(tree);
  }, 60_000);
});

describe("a package that fails to unpack while the rest of the new tree is being blitted", () => {
  test("the install fails naming the file, and the active state, its tree, staging and the databases are as before", () => {
    const brokenRoot = path.join(work, "broken-update");
    fs.mkdirSync(brokenRoot);
    expect(moss(["-D", brokenRoot, "-y", "install", path.join(FIXTURES, "conflicts", "pineapple-1-1-1-x86_64.stone")]).status).toBe(0);
    const tree = snapshot(path.join(brokenRoot, "usr"));
    // Its layout reads fine (the new tree is built and blitted from it); its content does not.
    const bad = path.join(work, "bad-bash-completion.stone");
    const bytes = fs.readFileSync(path.join(FIXTURES, "bash-completion-2.11-1-1-x86_64.stone"));
    bytes[bytes.length - 5000]! ^= 0x01;
    fs.writeFileSync(bad, bytes);
    const result = moss(["-D", brokenRoot, "-y", "install", bad]);
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/^Error: .*bad-bash-completion\.stone: payload 3 \(content\): checksum mismatch/m);
    expect(readStateId(brokenRoot)).toBe("1");
    expect(snapshot(path.join(brokenRoot, "usr"))).toEqual(tree);
    const rootsDir = path.join(brokenRoot, ".moss", "root");
    expect(fs.readdirSync(path.join(rootsDir, "staging"))).toEqual([]);
    expect(fs.existsSync(path.join(rootsDir, ".moss-transaction"))).toBe(false);
    const states = JSON.parse(moss(["-D", brokenRoot, "state", "list", "--json"]).stdout) as { id: number }[];
    expect(states.map((s) => s.id)).toEqual([1]);
    const installed = JSON.parse(moss(["-D", brokenRoot, "list", "installed", "--json"]).stdout) as { name: string }[];
    expect(installed.map((p) => p.name)).toEqual(["pineapple"]);
    // Nothing half-done is left for the next command either: the same install of a good file works.
    const good = moss(["-D", brokenRoot, "-y", "install", path.join(FIXTURES, "bash-completion-2.11-1-1-x86_64.stone")]);
    expect(good.status).toBe(0);
    expect(readStateId(brokenRoot)).toBe("2");
  }, 60_000);
});

describe("install --to", () => {
  test("builds a root in another directory from the host's store, with no state and no change to the host", () => {
    const host = path.join(work, "host");
    const target = path.join(work, "ephemeral");
    fs.mkdirSync(host);
    const result = moss(["-D", host, "-y", "install", "--to", target, ...packages.closure("morwenwen")]);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/entries blitted in/);
    expect(fs.existsSync(path.join(target, "usr", ".stateID"))).toBe(false);
    expect(fs.readFileSync(path.join(target, "usr", "lib", "os-release"), "utf8")).toContain("NAME=");
    expect(fs.readlinkSync(path.join(target, "lib64"))).toBe("usr/lib");
    expect(fs.existsSync(path.join(target, "etc"))).toBe(true);
    expect(fs.readdirSync(path.join(target, "usr", "share"))).toContain("morwenwen");
    // The host has no state, no /usr, but keeps the packages cached.
    expect(fs.existsSync(path.join(host, "usr"))).toBe(false);
    expect(JSON.parse(moss(["-D", host, "state", "list", "--json"]).stdout)).toEqual([]);
    // A second run into the now non-empty directory is refused rather than deleting it.
    const again = moss(["-D", host, "-y", "install", "--to", target, ...packages.closure("morwenwen")]);
    expect(again.status).toBe(1);
    expect(again.stdout).toContain("is not empty");
  }, 60_000);
});

describe("local package ids", () => {
  test("two files that are the same package (name-version-release.arch) in one install are refused, naming both", () => {
    const dupRoot = path.join(work, "duplicates");
    fs.mkdirSync(dupRoot);
    const original = path.join(FIXTURES, "conflicts", "pineapple-1-1-1-x86_64.stone");
    const copy = path.join(work, "copy-of-pineapple.stone");
    fs.copyFileSync(original, copy);
    const refused = moss(["-D", dupRoot, "-y", "install", original, copy]);
    expect(refused.status).toBe(1);
    expect(refused.stdout).toContain(`${original} and ${copy} are both pineapple-1-1.x86_64`);
    expect(fs.existsSync(path.join(dupRoot, "usr"))).toBe(false);
    // The same file named twice is one package.
    const twice = moss(["-D", dupRoot, "-y", "install", original, original]);
    expect(twice.status).toBe(0);
    const selections = JSON.parse(moss(["-D", dupRoot, "state", "query", "1", "--json"]).stdout);
    expect(JSON.stringify(selections)).toContain("pineapple-1-1.x86_64");
  }, 60_000);
});
