/**
 * `moss install` from a repository served over HTTP on 127.0.0.1: names and providers resolve
 * through the repository, dependencies come along, every `.stone` is fetched once into the
 * download cache and checked against the index before use, and a bad download changes nothing.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { downloadPath } from "../../src/store/index.ts";
import { MOSS, mossAsync, moss, tempDir } from "../helpers/moss.ts";
import { serveDirectory, type RepoServer } from "../helpers/http-repo.ts";
import { distro, readStateId, snapshot, type Distro } from "../helpers/roots.ts";

const work = tempDir("moss-repo-install-");
let packages: Distro;
let server: RepoServer;

beforeAll(async () => {
  packages = await distro(path.join(work, "distro"));
  const indexed = moss(["index", packages.dir]);
  if (indexed.status !== 0) throw new Error(indexed.stdout);
  server = serveDirectory(packages.dir);
}, 120_000);
afterAll(async () => {
  await server.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

async function rootWithRepository(name: string, extra: string[] = []): Promise<string> {
  const dir = path.join(work, name);
  fs.mkdirSync(dir, { recursive: true });
  const added = await mossAsync(["-D", dir, "repo", "add", "test", `${server.url}stone.index`, ...extra]);
  if (added.status !== 0) throw new Error(added.stdout);
  return dir;
}

describe("install from a repository", () => {
  test("a name brings its dependencies, fetched once each, and gives the same tree as installing the files", async () => {
    const dir = await rootWithRepository("from-repo");
    const before = server.bytesSent;
    const result = await mossAsync(["-D", dir, "-y", "install", "mixnek"]);
    expect(result.status).toBe(0);
    const closure = packages.closure("mixnek");
    for (const file of closure) expect(result.stdout).toContain(`Installed ${packages.manifest.packages.find((p) => file.endsWith(p.fileName))!.name}`);
    // Exactly the closure's bytes went over the wire, and each sits in the download cache.
    expect(server.bytesSent - before).toBe(closure.reduce((sum, file) => sum + fs.statSync(file).size, 0));
    for (const file of closure) {
      const sha = packages.manifest.packages.find((p) => file.endsWith(p.fileName))!.sha256;
      expect(fs.readFileSync(downloadPath(path.join(dir, ".moss", "cache"), sha)).equals(fs.readFileSync(file))).toBe(true);
    }
    const local = path.join(work, "from-files");
    fs.mkdirSync(local);
    expect(moss(["-D", local, "-y", "install", ...closure]).status).toBe(0);
    // The packages' files are the same; the recorded model differs only by the repository one root has.
    const packaged = (usr: string) => {
      const tree = snapshot(usr);
      tree.delete("lib/system-model.kdl");
      return tree;
    };
    expect(packaged(path.join(dir, "usr"))).toEqual(packaged(path.join(local, "usr")));
    expect(fs.readFileSync(path.join(dir, "usr", "lib", "system-model.kdl"), "utf8")).toContain(`uri "http://127.0.0.1:`);
  }, 120_000);

  test("packages are unpacked into the store while a later download is still under way", async () => {
    const dir = await rootWithRepository("overlap");
    const held = packages.manifest.packages.find((p) => p.name === "mixnek")!;
    let release!: () => void;
    server.holds.set(`/${held.fileName}`, new Promise<void>((resolve) => (release = resolve)));
    const assets = path.join(dir, ".moss", "assets", "v2");
    // Published assets sit in fan-out directories (stamps at the top are not assets); `.part` files
    // are still being written and may be renamed between the listing and the stat, so skip them
    // and tolerate entries that vanish.
    const assetCount = () => {
      if (!fs.existsSync(assets)) return 0;
      return fs
        .readdirSync(assets, { recursive: true })
        .map(String)
        .filter((f) => f.includes("/") && !f.endsWith(".part") && fs.statSync(path.join(assets, f), { throwIfNoEntry: false })?.isFile())
        .length;
    };
    try {
      const installing = mossAsync(["-D", dir, "-y", "install", "mixnek"]);
      // The held download has not finished, and the dependencies' files are in the store already.
      const deadline = Date.now() + 30_000;
      while ((assetCount() === 0 || !server.requests.includes(`/${held.fileName}`)) && Date.now() < deadline) await Bun.sleep(50);
      expect(server.requests).toContain(`/${held.fileName}`);
      expect(assetCount()).toBeGreaterThan(0);
      expect(fs.existsSync(downloadPath(path.join(dir, ".moss", "cache"), held.sha256))).toBe(false);
      const whileHeld = assetCount();
      release();
      const result = await installing;
      expect(result.status).toBe(0);
      expect(assetCount()).toBeGreaterThan(whileHeld);
      expect(readStateId(dir)).toBe("1");
    } finally {
      release();
      server.holds.clear();
    }
  }, 120_000);

  test("a package whose bytes do not match the index fails the install, and nothing changes", async () => {
    const dir = await rootWithRepository("tampered");
    const victim = packages.manifest.packages.find((p) => p.name === "mixnek")!;
    const file = path.join(packages.dir, victim.fileName);
    const good = fs.readFileSync(file);
    const bad = Buffer.from(good);
    bad[bad.length - 1]! ^= 0xff;
    fs.writeFileSync(file, bad);
    try {
      const result = await mossAsync(["-D", dir, "-y", "install", "mixnek"]);
      expect(result.status).toBe(1);
      expect(result.stdout).toContain(`Binary stone hash mismatch for mixnek: expected ${victim.sha256}`);
    } finally {
      fs.writeFileSync(file, good);
    }
    expect(fs.existsSync(path.join(dir, "usr", ".stateID"))).toBe(false);
    expect(fs.existsSync(downloadPath(path.join(dir, ".moss", "cache"), victim.sha256))).toBe(false);
  }, 120_000);

  test("a server error on one package is a one-line error naming its URL; the active state stays", async () => {
    const dir = await rootWithRepository("server-error");
    expect((await mossAsync(["-D", dir, "-y", "install", ...packages.closure("stasta")])).status).toBe(0);
    const victim = packages.manifest.packages.find((p) => p.name === "mixnek")!;
    server.failures.set(`/${victim.fileName}`, 500);
    try {
      const result = await mossAsync(["-D", dir, "-y", "install", "mixnek"]);
      expect(result.status).toBe(1);
      expect(result.stdout).toContain(`Error: GET ${server.url}${victim.fileName}: 500`);
    } finally {
      server.failures.clear();
    }
    expect(readStateId(dir)).toBe("1");
  }, 120_000);

  test("a connection cut mid-download resumes with a Range request: no byte is fetched twice", async () => {
    const dir = await rootWithRepository("resumed");
    const victim = packages.manifest.packages.find((p) => p.name === "mixnek")!;
    const half = Math.floor(victim.size / 2);
    server.cuts.set(`/${victim.fileName}`, half);
    server.ranges.length = 0;
    const before = server.bytesSent;
    const result = await mossAsync(["-D", dir, "-y", "install", "mixnek"]);
    expect(result.status).toBe(0);
    expect(server.ranges).toEqual([`/${victim.fileName} ${half}`]);
    const closure = packages.closure("mixnek");
    expect(server.bytesSent - before).toBe(closure.reduce((sum, file) => sum + fs.statSync(file).size, 0));
    expect(readStateId(dir)).toBe("1");
  }, 120_000);

  test("mirrors: a source that errs, is down or serves wrong bytes hands over to the next", async () => {
    const mirror = serveDirectory(packages.dir);
    const down = serveDirectory(packages.dir);
    const downUrl = `${down.url}stone.index`;
    await down.stop();
    try {
      const victim = packages.manifest.packages.find((p) => p.name === "mixnek")!;
      // The repository's own server answers the index but fails the package; a dead mirror
      // comes next; the last one serves it.
      const dir = await rootWithRepository("mirrored", ["--mirrors", `${downUrl},${mirror.url}stone.index`]);
      server.failures.set(`/${victim.fileName}`, 500);
      const viaMirror = await mossAsync(["-D", dir, "-y", "install", "mixnek"]);
      server.failures.clear();
      expect(viaMirror.status).toBe(0);
      expect(mirror.requests).toContain(`/${victim.fileName}`);

      // Wrong bytes from the first source: refused, and the mirror's are used.
      const tampered = Buffer.from(fs.readFileSync(path.join(packages.dir, victim.fileName)));
      tampered[tampered.length - 1]! ^= 0xff;
      const other = await rootWithRepository("mirrored-tampered", ["--mirrors", `${mirror.url}stone.index`]);
      server.replaced.set(`/${victim.fileName}`, tampered);
      const refused = await mossAsync(["-D", other, "-y", "install", "mixnek"]);
      server.replaced.clear();
      expect(refused.status).toBe(0);
      expect(readStateId(other)).toBe("1");

      // When every source fails, the error names each.
      const none = await rootWithRepository("mirrors-all-fail", ["--mirrors", downUrl]);
      server.failures.set(`/${victim.fileName}`, 503);
      const failed = await mossAsync(["-D", none, "-y", "install", "mixnek"]);
      server.failures.clear();
      expect(failed.status).toBe(1);
      expect(failed.stdout).toContain("connection refused");
      expect(failed.stdout).toContain("503");
      expect(fs.existsSync(path.join(none, "usr", ".stateID"))).toBe(false);
    } finally {
      await mirror.stop();
    }
  }, 120_000);

  test("on a terminal the downloads show progress; a package already downloaded says (cached)", async () => {
    const cache = path.join(work, "shared-cache");
    fs.mkdirSync(cache);
    const first = await rootWithRepository("tty-1");
    // script(1) gives moss a terminal; spawned without blocking, as the server runs in this process.
    const tty = Bun.spawn(["script", "-qfec", `${MOSS} -D ${first} --cache ${cache} -y install mixnek`, "/dev/null"], { env: { ...process.env, NO_COLOR: "1", CI: "" }, stdout: "pipe", stdin: "ignore" });
    const shown = await new Response(tty.stdout).text();
    expect(await tty.exited).toBe(0);
    expect(shown).toMatch(/\d+(\.\d)? (B|KiB|MiB)\/\d+(\.\d)? (KiB|MiB) .*\/s .* left/);
    expect(shown).toContain("Installed mixnek");

    const second = await rootWithRepository("tty-2");
    const again = await mossAsync(["-D", second, "--cache", cache, "-y", "install", "mixnek"]);
    expect(again.status).toBe(0);
    expect(again.stdout).toContain("Installed mixnek (cached)");
  }, 120_000);
});
