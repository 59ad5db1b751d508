/**
 * The everyday update, end to end with the real binary against repositories served by the test
 * (HTTP on 127.0.0.1, and file://): add → install with dependencies → a new release published →
 * `sync -u` applies exactly the upgrades and drops what nothing needs → `remove` takes orphans;
 * repository priorities and disabled repositories decide what sync picks.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { openDatabases } from "../../src/db/index.ts";
import { mossAsync, moss, tempDir } from "../helpers/moss.ts";
import { serveDirectory, type RepoServer } from "../helpers/http-repo.ts";
import { tinyStone } from "../helpers/packages.ts";
import { readStateId } from "../helpers/roots.ts";

const work = tempDir("moss-sync-");
const main = path.join(work, "main-repo");
const other = path.join(work, "other-repo");
const root = path.join(work, "root");
let server: RepoServer;

/** name → explicit, for the active state's selections. */
function selections(): Record<string, boolean> {
  const dbs = openDatabases(path.join(root, ".moss", "db"), { readonly: true });
  try {
    const state = dbs.state.get(Number(readStateId(root)))!;
    const metas = new Map(dbs.install.getMany(state.selections.map((s) => s.packageId)).map((m) => [m.id, m.name]));
    return Object.fromEntries(state.selections.map((s) => [metas.get(s.packageId)!, s.explicit]).sort());
  } finally {
    dbs.close();
  }
}

const usrFile = (file: string) => {
  const full = path.join(root, "usr", file);
  return fs.existsSync(full) ? fs.readFileSync(full, "utf8") : undefined;
};

beforeAll(async () => {
  fs.mkdirSync(main, { recursive: true });
  fs.mkdirSync(other, { recursive: true });
  fs.mkdirSync(root, { recursive: true });
  await tinyStone(main, { name: "app", depends: ["binary(helper)", "soname(libold.so.1(x86_64))"], files: { "bin/app": "app 1\n" } });
  await tinyStone(main, { name: "helper", provides: ["binary(helper)"], files: { "bin/helper": "helper 1\n" } });
  await tinyStone(main, { name: "libold", provides: ["soname(libold.so.1(x86_64))"], files: { "lib/libold.so.1": "old\n" } });
  await tinyStone(main, { name: "extra", files: { "share/extra/version": "main 1\n" } });
  expect(moss(["index", main]).status).toBe(0);
  server = serveDirectory(main);
});
afterAll(async () => {
  await server.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

describe("sync", () => {
  test("install from the repository brings the dependencies", async () => {
    expect((await mossAsync(["-D", root, "repo", "add", "main", `${server.url}stone.index`, "-p", "10"])).status).toBe(0);
    const installed = await mossAsync(["-D", root, "-y", "install", "app", "extra"]);
    expect(installed.status).toBe(0);
    expect(selections()).toEqual({ app: true, extra: true, helper: false, libold: false });
    expect(usrFile("bin/app")).toBe("app 1\n");
    expect((await mossAsync(["-D", root, "sync"])).stdout).toBe("No packages to sync\n");
  });

  test("sync -u applies exactly the upgrades and drops the dependency nothing needs any more", async () => {
    await tinyStone(main, { name: "app", version: "2.0", release: 2, depends: ["binary(helper)"], files: { "bin/app": "app 2\n" } });
    await tinyStone(main, { name: "helper", release: 2, provides: ["binary(helper)"], files: { "bin/helper": "helper 2\n" } });
    await tinyStone(main, { name: "unrelated", files: { "bin/unrelated": "x\n" } });
    expect(moss(["index", main]).status).toBe(0);

    const plan = await mossAsync(["-D", root, "sync", "-u", "--dry-run", "--json"]);
    expect(plan.status).toBe(0);
    const json = JSON.parse(plan.stdout);
    expect(json.dryRun).toBe(true);
    expect(json.add).toEqual([]);
    expect(json.update.map((u: { name: string; from: { release: number }; to: { release: number } }) => [u.name, u.from.release, u.to.release])).toEqual([["app", 1, 2], ["helper", 1, 2]]);
    expect(json.remove.map((r: { name: string }) => r.name)).toEqual(["libold"]);
    expect(readStateId(root)).toBe("1");

    const listed = await mossAsync(["-D", root, "list", "sync"]);
    expect(listed.stdout).toContain("app");
    expect(listed.stdout).toContain("1.0-1 => 2.0-2");
    expect(listed.stdout).not.toContain("extra");

    const synced = await mossAsync(["-D", root, "-y", "sync", "-u"]);
    expect(synced.status).toBe(0);
    expect(synced.stdout).toContain("Refreshed main\n");
    expect(synced.stdout).toContain("The following packages will be updated: \n");
    expect(synced.stdout).toContain("The following orphaned packages will be removed: \n");
    expect(readStateId(root)).toBe("2");
    expect(selections()).toEqual({ app: true, extra: true, helper: false });
    expect(usrFile("bin/app")).toBe("app 2\n");
    expect(usrFile("bin/helper")).toBe("helper 2\n");
    expect(usrFile("lib/libold.so.1")).toBeUndefined();
    expect(usrFile("bin/unrelated")).toBeUndefined();
  });

  test("a higher-priority repository wins, and disabling it goes back to the other (a downgrade)", async () => {
    await tinyStone(other, { name: "extra", version: "9.0", release: 1, files: { "share/extra/version": "other 9\n" } });
    expect(moss(["index", other]).status).toBe(0);
    expect((await mossAsync(["-D", root, "repo", "add", "other", `file://${other}/stone.index`, "-p", "20"])).status).toBe(0);
    expect((await mossAsync(["-D", root, "-y", "sync"])).status).toBe(0);
    expect(usrFile("share/extra/version")).toBe("other 9\n");

    expect((await mossAsync(["-D", root, "repo", "disable", "other"])).status).toBe(0);
    const back = await mossAsync(["-D", root, "-y", "sync"]);
    expect(back.status).toBe(0);
    expect(usrFile("share/extra/version")).toBe("main 1\n");
    expect(selections()).toEqual({ app: true, extra: true, helper: false });
  });

  test("remove takes the packages only the removed one needed", async () => {
    const removed = await mossAsync(["-D", root, "-y", "remove", "app"]);
    expect(removed.status).toBe(0);
    expect(selections()).toEqual({ extra: true });
    expect(usrFile("bin/helper")).toBeUndefined();
  });
});

describe("queries over the repositories", () => {
  test("search: keywords in names before summaries, providers exactly, -i only what is installed", async () => {
    const byKeyword = JSON.parse((await mossAsync(["-D", root, "search", "--json", "E"])).stdout);
    expect(byKeyword.map((h: { name: string; matched: string }) => [h.name, h.matched])).toEqual([
      ["extra", "name"], ["helper", "name"], ["unrelated", "name"], ["app", "summary"], ["libold", "summary"],
    ]);
    expect((await mossAsync(["-D", root, "search", "help"])).stdout).toBe("helper  the helper package\n");
    const summaries = JSON.parse((await mossAsync(["-D", root, "search", "--json", "package"])).stdout);
    expect(summaries.map((h: { name: string }) => h.name)).toEqual(["app", "extra", "helper", "libold", "unrelated"]);
    expect(summaries.every((h: { matched: string }) => h.matched === "summary")).toBe(true);
    const provider = JSON.parse((await mossAsync(["-D", root, "search", "--json", "binary(helper)"])).stdout);
    expect(provider.map((h: { name: string; release: number }) => [h.name, h.release])).toEqual([["helper", 2]]);
    const kind = JSON.parse((await mossAsync(["-D", root, "search", "--json", "--provides=binary", "helper"])).stdout);
    expect(kind.map((h: { name: string }) => h.name)).toEqual(["helper"]);
    const installedOnly = JSON.parse((await mossAsync(["-D", root, "search", "-i", "--json", "package"])).stdout);
    expect(installedOnly.map((h: { name: string }) => h.name)).toEqual(["extra"]);
  });

  test("info shows repository packages as not installed", async () => {
    const info = await mossAsync(["-D", root, "info", "helper"]);
    expect(info.status).toBe(0);
    expect(info.stdout).toContain("Name                 helper\nStatus               Not installed\n");
    expect(info.stdout).toContain("Release number       2\n");
    expect((await mossAsync(["-D", root, "info", "extra"])).stdout).toContain("Status               Installed\n");
  });

  test("fetch puts the checked .stone in the output directory under its own name", async () => {
    const out = path.join(work, "fetched");
    const result = await mossAsync(["-D", root, "fetch", "-o", out, "helper"]);
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(`Fetched helper ${path.relative(process.cwd(), path.join(out, "helper-1.0-2-1-x86_64.stone"))}\n`);
    expect(fs.readFileSync(path.join(out, "helper-1.0-2-1-x86_64.stone")).equals(fs.readFileSync(path.join(main, "helper-1.0-2-1-x86_64.stone")))).toBe(true);
    const missing = await mossAsync(["-D", root, "fetch", "-o", out, "nothing-like-this"]);
    expect(missing.status).toBe(1);
    expect(missing.stdout).toBe("Error: no package found: nothing-like-this\n");
  });
});

describe("cache prune", () => {
  test("forgets packages no state selects and no enabled repository offers, and deletes their files", async () => {
    // "other" is disabled: its extra 9.0 (once installed, in state 3) is still selected by that
    // state, so it stays; a repository directory left by hand goes.
    const stray = path.join(root, ".moss", "repo", "0123abcd");
    fs.mkdirSync(stray, { recursive: true });
    const first = JSON.parse((await mossAsync(["-D", root, "cache", "prune", "--json"])).stdout);
    expect(first.repositoryDirsRemoved).toEqual(["0123abcd"]);
    expect(fs.existsSync(stray)).toBe(false);
    // Every state still exists, so every package is selected by one: nothing to forget.
    expect(first.packagesForgotten).toBe(0);

    // A package recorded by no state (as a failed transaction would leave it) is forgotten.
    const dbs = openDatabases(path.join(root, ".moss", "db"));
    try {
      dbs.install.add([{ id: "f".repeat(64), meta: { ...dbs.install.all()[0]!, hash: "f".repeat(64) } }]);
    } finally {
      dbs.close();
    }
    const second = JSON.parse((await mossAsync(["-D", root, "cache", "prune", "--json"])).stdout);
    expect(second.packagesForgotten).toBe(1);
    expect((await mossAsync(["-D", root, "cache", "prune"])).stdout).toBe("No files to remove\n");
  });
});

describe("search-file", () => {
  test("paths of every cached package containing the keyword, with or without /usr/ in front", async () => {
    const found = await mossAsync(["-D", root, "search-file", "/usr/bin/hel"]);
    expect(found.status).toBe(0);
    // Both releases of helper are in the layout DB (Rust searches every package, not the state).
    expect(found.stdout).toBe("/usr/bin/helper from helper\n/usr/bin/helper from helper\n");
    const json = JSON.parse((await mossAsync(["-D", root, "sf", "--json", "extra"])).stdout);
    expect(json.map((r: { path: string }) => r.path)).toContain("/usr/share/extra/version");
    expect((await mossAsync(["-D", root, "search-file", "Bin/helper"])).stdout).toBe("");
  });
});

describe("packages installed from local files", () => {
  test("sync knows them in a repository by their build, and does not copy them onto themselves", async () => {
    const dir = path.join(work, "local-then-repo");
    const files = path.join(work, "local-files");
    fs.mkdirSync(dir, { recursive: true });
    fs.mkdirSync(files, { recursive: true });
    const tool = await tinyStone(files, { name: "tool", depends: ["soname(libtool.so.1(x86_64))"], files: { "bin/tool": "tool 1\n" } });
    const lib = await tinyStone(files, { name: "libtool", provides: ["soname(libtool.so.1(x86_64))"], files: { "lib/libtool.so.1": "lib 1\n" } });
    expect(moss(["-D", dir, "-y", "install", tool, lib]).status).toBe(0);
    expect(moss(["index", files]).status).toBe(0);
    expect(moss(["-D", dir, "repo", "add", "files", `file://${files}/stone.index`]).status).toBe(0);
    expect(moss(["-D", dir, "sync"]).stdout).toBe("No packages to sync\n");

    await tinyStone(files, { name: "libtool", release: 2, provides: ["soname(libtool.so.1(x86_64))"], files: { "lib/libtool.so.1": "lib 2\n" } });
    expect(moss(["index", files]).status).toBe(0);
    const plan = JSON.parse(moss(["-D", dir, "sync", "-u", "--dry-run", "--json"]).stdout);
    expect(plan.update.map((u: { name: string }) => u.name)).toEqual(["libtool"]);
    expect(plan.add).toEqual([]);
    expect(plan.remove).toEqual([]);
  });
});

describe("packages from a file:// repository", () => {
  /** Every file of the root's download cache. */
  const cached = (dir: string) => {
    const found: string[] = [];
    const walk = (at: string) => {
      for (const entry of fs.readdirSync(at, { withFileTypes: true })) {
        if (entry.isDirectory()) walk(path.join(at, entry.name));
        else found.push(path.join(at, entry.name));
      }
    };
    walk(path.join(dir, ".moss", "cache", "downloads"));
    return found;
  };

  async function installFrom(repo: string, dir: string) {
    const stone = await tinyStone(repo, { name: "local-tool", files: { "bin/local-tool": "local tool\n" } });
    expect(moss(["index", repo]).status).toBe(0);
    expect(moss(["-D", dir, "repo", "add", "files", `file://${repo}/stone.index`]).status).toBe(0);
    const installed = moss(["-D", dir, "-y", "install", "local-tool"]);
    expect(installed.status).toBe(0);
    expect(fs.readFileSync(path.join(dir, "usr", "bin", "local-tool"), "utf8")).toBe("local tool\n");
    const [download] = cached(dir);
    expect(download).toBeDefined();
    expect(fs.readFileSync(download!)).toEqual(fs.readFileSync(stone));
    return { stone, download: download! };
  }

  test("are hard-linked into the download cache on the same file system, not copied", async () => {
    const dir = path.join(work, "file-linked-root");
    const repo = path.join(work, "file-linked-repo");
    fs.mkdirSync(dir, { recursive: true });
    fs.mkdirSync(repo, { recursive: true });
    const { stone, download } = await installFrom(repo, dir);
    expect(fs.statSync(download).ino).toBe(fs.statSync(stone).ino);
    expect(fs.readdirSync(path.dirname(download))).toEqual([path.basename(download)]);
  });

  test("are copied from another file system", async () => {
    const dir = path.join(work, "file-copied-root");
    const repo = fs.mkdtempSync("/dev/shm/moss-file-repo-");
    try {
      fs.mkdirSync(dir, { recursive: true });
      if (fs.statSync(repo).dev === fs.statSync(dir).dev) return; // no second file system here
      const { stone, download } = await installFrom(repo, dir);
      expect(fs.statSync(download).ino).not.toBe(fs.statSync(stone).ino);
    } finally {
      fs.rmSync(repo, { recursive: true, force: true });
    }
  });

  test("whose bytes differ from the index fail with the hash mismatch and leave nothing in the cache", async () => {
    const dir = path.join(work, "file-bad-root");
    const repo = path.join(work, "file-bad-repo");
    fs.mkdirSync(dir, { recursive: true });
    fs.mkdirSync(repo, { recursive: true });
    const stone = await tinyStone(repo, { name: "local-bad", files: { "bin/local-bad": "good\n" } });
    expect(moss(["index", repo]).status).toBe(0);
    const bytes = fs.readFileSync(stone);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
    fs.writeFileSync(stone, bytes);
    expect(moss(["-D", dir, "repo", "add", "files", `file://${repo}/stone.index`]).status).toBe(0);
    const failed = moss(["-D", dir, "-y", "install", "local-bad"]);
    expect(failed.status).not.toBe(0);
    expect(failed.stdout).toContain("Error: Binary stone hash mismatch for local-bad");
    expect(cached(dir)).toEqual([]);
    expect(fs.existsSync(path.join(dir, "usr", "bin", "local-bad"))).toBe(false);
  });
});
