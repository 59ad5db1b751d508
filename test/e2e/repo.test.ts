/**
 * `moss repo` and `moss index` with the real binary, against a repository served over HTTP on
 * 127.0.0.1 by the test (and over file://): adding, listing, refreshing with a report of what
 * changed, disabling, removing, root-index sources, and failures that leave everything as it was.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { MetaDb } from "../../src/db/index.ts";
import { repositoryKey } from "../../src/repository/identity.ts";
import { repositoryFromFields } from "../../src/repository/config.ts";
import { readIndex } from "../../src/repository/refresh.ts";
import { FIXTURES, moss, mossAsync, tempDir } from "../helpers/moss.ts";
import { distro } from "../helpers/roots.ts";
import { packageFromMeta, PayloadKind, StoneReader } from "../../src/stone/index.ts";
import { serveDirectory, type RepoServer } from "../helpers/http-repo.ts";
import { tinyStone } from "../helpers/packages.ts";

const work = tempDir("moss-repo-");
const published = path.join(work, "published");
let server: RepoServer;

beforeAll(async () => {
  fs.mkdirSync(path.join(published, "pool"), { recursive: true });
  await tinyStone(path.join(published, "pool"), { name: "alpha", depends: ["soname(libbeta.so.1(x86_64))"] });
  await tinyStone(path.join(published, "pool"), { name: "beta", provides: ["soname(libbeta.so.1(x86_64))"] });
  await tinyStone(path.join(published, "pool"), { name: "gamma" });
  expect(moss(["index", published]).status).toBe(0);
  server = serveDirectory(published);
});
afterAll(async () => {
  await server.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

function root(name: string): string {
  const dir = path.join(work, name);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** The repository's DB rows, by name → id. */
function repoRows(rootDir: string, fields: Record<string, unknown>): Map<string, string> {
  const key = repositoryKey(repositoryFromFields("x", { priority: 0, ...fields }));
  const db = MetaDb.open(path.join(rootDir, ".moss", "repo", key, "db"), { readonly: true });
  try {
    return new Map(db.all().map((p) => [p.name, p.id]));
  } finally {
    db.close();
  }
}

describe("moss index", () => {
  test("one package per name, sorted, each with its SHA-256, size and path relative to the index", () => {
    const entries = readIndex(path.join(published, "stone.index"));
    expect(entries.map((e) => e.meta.name)).toEqual(["alpha", "beta", "gamma"]);
    for (const { id, meta } of entries) {
      const file = path.join(published, meta.uri!);
      expect(meta.uri).toStartWith("pool/");
      expect(id).toBe(new Bun.CryptoHasher("sha256").update(fs.readFileSync(file)).digest("hex"));
      expect(meta.downloadSize).toBe(fs.statSync(file).size);
    }
  });

  test("the higher release wins; two files of one release are an error naming both; -o writes elsewhere", async () => {
    const dir = root("index-releases");
    await tinyStone(dir, { name: "delta", release: 1 });
    await tinyStone(dir, { name: "delta", release: 3 });
    const out = root("index-out");
    const ok = moss(["index", "-o", out, dir]);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain(`Index file written to "${path.join(out, "stone.index")}"`);
    const [delta] = readIndex(path.join(out, "stone.index"));
    expect(delta!.meta.release).toBe(3);
    expect(delta!.meta.uri).toBe(`../index-releases/delta-1.0-3-1-x86_64.stone`);

    await tinyStone(dir, { name: "delta", release: 3 }, "copy-of-delta.stone");
    const twice = moss(["index", dir]);
    expect(twice.status).toBe(1);
    expect(twice.stdout).toContain("package delta has two files with the same release 3");
    expect(fs.existsSync(path.join(dir, "stone.index"))).toBe(false);
  });

  test("an index of the fixtures and a generated distribution reads back every field of every package", async () => {
    const dir = root("index-roundtrip");
    fs.cpSync(FIXTURES, path.join(dir, "fixtures"), { recursive: true });
    const generated = await distro(path.join(dir, "generated"), { seed: 3, files: 300 });
    expect(moss(["index", dir]).status).toBe(0);
    const byName = new Map(readIndex(path.join(dir, "stone.index")).map((e) => [e.meta.name, e]));
    const files = fs.readdirSync(dir, { recursive: true }).map(String).filter((f) => f.endsWith(".stone"));
    expect(byName.size).toBe(files.length);
    expect(files.length).toBe(3 + generated.manifest.packages.length);
    for (const file of files) {
      const reader = StoneReader.open(path.join(dir, file));
      const own = packageFromMeta(reader.records(PayloadKind.Meta).metas[0]!);
      reader.close();
      const bytes = fs.readFileSync(path.join(dir, file));
      const entry = byName.get(own.name)!;
      expect(entry.meta).toEqual({ ...own, uri: file, hash: new Bun.CryptoHasher("sha256").update(bytes).digest("hex"), downloadSize: bytes.length });
      expect(entry.id).toBe(entry.meta.hash!);
    }
  }, 120_000);

  test("a second run hashes only the files that changed since the previous index", async () => {
    const dir = root("index-incremental");
    await tinyStone(dir, { name: "one" });
    await tinyStone(dir, { name: "two" });
    expect(moss(["index", dir]).stdout).not.toContain("(unchanged)");
    await Bun.sleep(20);
    await tinyStone(dir, { name: "two", summary: "rebuilt" });
    const again = moss(["index", dir]);
    expect(again.stdout).toContain("Indexed one-1.0-1-1-x86_64.stone (unchanged)");
    expect(again.stdout).toContain("Indexed two-1.0-1-1-x86_64.stone\n");
    const two = readIndex(path.join(dir, "stone.index")).find((e) => e.meta.name === "two")!;
    expect(two.meta.summary).toBe("rebuilt");
    expect(two.id).toBe(new Bun.CryptoHasher("sha256").update(fs.readFileSync(path.join(dir, "two-1.0-1-1-x86_64.stone"))).digest("hex"));
  });
});

describe("moss repo over HTTP", () => {
  const rootDir = path.join(work, "root-http");
  const uri = () => `${server.url}stone.index`;

  test("add saves repo.d/<id>.kdl and fills the repository's DB from the index", async () => {
    fs.mkdirSync(rootDir, { recursive: true });
    const added = await mossAsync(["-D", rootDir, "repo", "add", "test", uri(), "-c", "a test repository", "-p", "10"]);
    expect(added.stdout).toBe("test added\n");
    expect(added.status).toBe(0);
    expect(fs.readFileSync(path.join(rootDir, "etc/moss/repo.d/test.kdl"), "utf8")).toBe(
      `test {\n    description "a test repository"\n    uri "${uri()}"\n    priority 10\n    active #true\n}\n`,
    );
    expect([...repoRows(rootDir, { uri: uri() }).keys()].sort()).toEqual(["alpha", "beta", "gamma"]);
  });

  test("list shows every repository, highest priority first, disabled ones marked", async () => {
    expect((await mossAsync(["-D", rootDir, "repo", "add", "low", `file://${published}/stone.index`, "-p", "1"])).status).toBe(0);
    expect((await mossAsync(["-D", rootDir, "repo", "disable", "low"])).stdout).toBe("low disabled\n");
    const list = await mossAsync(["-D", rootDir, "repo", "list"]);
    expect(list.stdout).toBe(` - test = ${uri()} [10]\n - low = file://${published}/stone.index [1] (disabled)\n`);
    const json = JSON.parse((await mossAsync(["-D", rootDir, "repo", "list", "--json"])).stdout);
    expect(json.map((r: { id: string; active: boolean }) => [r.id, r.active])).toEqual([["test", true], ["low", false]]);
  });

  test("update reports what changed in the index: new, updated and removed packages", async () => {
    const unchanged = await mossAsync(["-D", rootDir, "repo", "update"]);
    expect(unchanged.stdout).toBe("Refreshed test (3 packages: 0 new, 0 updated, 0 removed)\n");
    // A new package, a new release of beta, gamma gone.
    await tinyStone(path.join(published, "pool"), { name: "epsilon" });
    await tinyStone(path.join(published, "pool"), { name: "beta", release: 2, provides: ["soname(libbeta.so.1(x86_64))"] });
    fs.rmSync(path.join(published, "pool", "gamma-1.0-1-1-x86_64.stone"));
    expect((await mossAsync(["index", published])).status).toBe(0);
    const changed = await mossAsync(["-D", rootDir, "repo", "update", "--json"]);
    expect(changed.status).toBe(0);
    const [report] = JSON.parse(changed.stdout).refreshed;
    expect(report).toMatchObject({ id: "test", packages: 3, added: ["epsilon"], updated: ["beta"], removed: ["gamma"] });
    expect([...repoRows(rootDir, { uri: uri() }).keys()].sort()).toEqual(["alpha", "beta", "epsilon"]);
  });

  test("an index that did not change is not read again; a DB written since (by Rust moss) is rebuilt from it", async () => {
    const dir = root("unchanged-index");
    const names = readIndex(path.join(published, "stone.index")).map((p) => p.meta.name).sort();
    expect((await mossAsync(["-D", dir, "repo", "add", "test", uri()])).status).toBe(0);
    const repoDir = path.join(dir, ".moss", "repo", repositoryKey(repositoryFromFields("x", { priority: 0, uri: uri() })));
    const dbFile = path.join(repoDir, "db");
    const written = fs.statSync(dbFile, { bigint: true });
    const sent = server.bytesSent;
    server.notModified.length = 0;
    const again = await mossAsync(["-D", dir, "repo", "update", "--json"]);
    expect(again.status).toBe(0);
    expect(JSON.parse(again.stdout).refreshed[0]).toMatchObject({ packages: names.length, added: [], updated: [], removed: [] });
    // The request named the index it had (If-None-Match): 304, not a byte of it sent again,
    // and the DB file was not written at all.
    expect(server.notModified).toEqual(["/stone.index"]);
    expect(server.bytesSent).toBe(sent);
    const after = fs.statSync(dbFile, { bigint: true });
    expect([after.mtimeNs, after.size]).toEqual([written.mtimeNs, written.size]);
    // Another writer empties a table behind our back: the stamp no longer matches, and the
    // same index fills the DB again.
    const db = MetaDb.open(dbFile);
    db.remove([...db.ids()]);
    db.close();
    expect(repoRows(dir, { uri: uri() }).size).toBe(0);
    server.notModified.length = 0;
    const rebuilt = await mossAsync(["-D", dir, "repo", "update"]);
    // Still the server's index (304): the DB is rebuilt from the copy on disk.
    expect(server.notModified).toEqual(["/stone.index"]);
    expect(rebuilt.stdout).toBe(`Refreshed test (${names.length} packages: ${names.length} new, 0 updated, 0 removed)\n  new     ${names.join(" ")}\n`);
    expect([...repoRows(dir, { uri: uri() }).keys()].sort()).toEqual(names);

    // The copy on disk rewritten by something else: the 304 does not vouch for it, so the index
    // is fetched whole again.
    const localIndex = path.join(repoDir, "stone.index");
    fs.writeFileSync(localIndex, "not the index any more");
    server.notModified.length = 0;
    const before = server.requests.length;
    const refetched = await mossAsync(["-D", dir, "repo", "update"]);
    expect(refetched.status).toBe(0);
    expect(server.notModified).toEqual(["/stone.index"]);
    expect(server.requests.slice(before)).toEqual(["/stone.index", "/stone.index"]);
    expect(fs.readFileSync(localIndex).equals(fs.readFileSync(path.join(published, "stone.index")))).toBe(true);
    expect([...repoRows(dir, { uri: uri() }).keys()].sort()).toEqual(names);
  });

  test("a failing refresh (server error, missing index, bad index) names the URL and keeps the previous DB", async () => {
    const before = repoRows(rootDir, { uri: uri() });
    for (const [status, said] of [[500, "500"], [404, "404"]] as const) {
      server.failures.set("/stone.index", status);
      const failed = await mossAsync(["-D", rootDir, "repo", "update", "test"]);
      server.failures.delete("/stone.index");
      expect(failed.status).toBe(1);
      expect(failed.stdout).toContain(`Error: refreshing test: GET ${uri()}: ${said}`);
      expect(repoRows(rootDir, { uri: uri() })).toEqual(before);
    }
    const index = path.join(published, "stone.index");
    const good = fs.readFileSync(index);
    fs.writeFileSync(index, "this is not a stone");
    const bad = await mossAsync(["-D", rootDir, "repo", "update", "test"]);
    fs.writeFileSync(index, good);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toContain("Error: refreshing test:");
    expect(repoRows(rootDir, { uri: uri() })).toEqual(before);
  });

  test("a server that is down is a one-line error; the repository stays added", async () => {
    const other = serveDirectory(published);
    const url = `${other.url}stone.index`;
    await other.stop();
    const dir = root("root-down");
    const added = await mossAsync(["-D", dir, "repo", "add", "down", url]);
    expect(added.status).toBe(1);
    expect(added.stdout).toBe(`Error: down was added, but refreshing it failed: GET ${url}: connection refused (\`moss repo update down\` tries again)\n`);
    expect(fs.existsSync(path.join(dir, "etc/moss/repo.d/down.kdl"))).toBe(true);
  });

  test("enable, and remove deletes the repository's directory and file", async () => {
    expect((await mossAsync(["-D", rootDir, "repo", "enable", "low"])).stdout).toBe("low enabled\n");
    const key = repositoryKey(repositoryFromFields("low", { uri: `file://${published}/stone.index`, priority: 1 }));
    expect(fs.existsSync(path.join(rootDir, ".moss/repo", key, "db"))).toBe(true);
    expect((await mossAsync(["-D", rootDir, "repo", "remove", "low"])).stdout).toBe("low removed\n");
    expect(fs.existsSync(path.join(rootDir, ".moss/repo", key))).toBe(false);
    expect(fs.existsSync(path.join(rootDir, "etc/moss/repo.d/low.kdl"))).toBe(false);
    const unknown = await mossAsync(["-D", rootDir, "repo", "remove", "low"]);
    expect(unknown.status).toBe(1);
    expect(unknown.stdout).toBe("Error: low not found\n");
  });

  test("a repository defined in another file is not reported removed while its file stays", async () => {
    const dir = root("root-vendor");
    fs.mkdirSync(path.join(dir, "usr/share/moss"), { recursive: true });
    fs.writeFileSync(path.join(dir, "usr/share/moss/repo.yaml"), `vendor:\n  uri: ${uri()}\n  priority: 0\n`);
    const refused = await mossAsync(["-D", dir, "repo", "remove", "vendor"]);
    expect(refused.status).toBe(1);
    expect(refused.stdout).toContain("vendor is defined in");
    expect((await mossAsync(["-D", dir, "repo", "list"])).stdout).toContain(" - vendor = ");
  });

  test("with a system model, only list and update are allowed", async () => {
    const dir = root("root-model");
    fs.mkdirSync(path.join(dir, "etc/moss"), { recursive: true });
    fs.writeFileSync(path.join(dir, "etc/moss/system-model.kdl"), "");
    const refused = await mossAsync(["-D", dir, "repo", "add", "x", uri()]);
    expect(refused.status).toBe(1);
    expect(refused.stdout).toContain("`moss repo add` is not allowed with system-model enabled");
    expect(fs.existsSync(path.join(dir, "etc/moss/repo.d"))).toBe(false);
  });
});

describe("a root-index repository", () => {
  test("the version leads through moss-root-index.json to the history's index; index-uri records it", async () => {
    const base = path.join(work, "root-index-site");
    const history = path.join(base, "main", "history", "7", "x86_64");
    fs.mkdirSync(history, { recursive: true });
    fs.cpSync(path.join(published, "pool"), path.join(history, "pool"), { recursive: true });
    expect((await mossAsync(["index", history])).status).toBe(0);
    fs.writeFileSync(path.join(base, "main", "moss-root-index.json"), JSON.stringify({
      formats: { v0: {} }, streams: { unstable: { format: "v0", history: "7" } }, tags: {}, history: { "7": { format: "v0" } },
    }));
    const site = serveDirectory(base);
    try {
      const dir = root("root-rootindex");
      const added = await mossAsync(["-D", dir, "repo", "add", "unstable", site.url, "--root-index", "version=stream/unstable"]);
      expect(added.stdout).toBe("unstable added\n");
      const fields = { "base-uri": site.url, version: "stream/unstable" };
      expect([...repoRows(dir, fields).keys()].sort()).toEqual(["alpha", "beta", "epsilon"]);
      const key = repositoryKey(repositoryFromFields("x", { priority: 0, ...fields }));
      expect(fs.readFileSync(path.join(dir, ".moss/repo", key, "index-uri"), "utf8")).toBe(`${site.url}main/history/7/x86_64/stone.index`);
      expect((await mossAsync(["-D", dir, "repo", "list"])).stdout).toBe(` - unstable = (base-uri=${site.url}, channel=main, version=stream/unstable, arch=x86_64) [0]\n`);
      const badKey = await mossAsync(["-D", dir, "repo", "add", "bad", site.url, "--root-index", "stream=x"]);
      expect(badKey.stdout).toBe("Error: unknown key: stream\n");
    } finally {
      void site.stop();
    }
  });
});

describe("a repository on a legacy index URL", () => {
  /**
   * cdn.aerynos.dev as the test serves it: the old direct index of stream unstable and a root
   * index whose stream is in `format`. moss reaches it through HTTP_PROXY, which is the test server.
   */
  async function legacySite(name: string, format: string | undefined) {
    const base = path.join(work, name);
    for (const dir of [path.join(base, "unstable", "x86_64"), path.join(base, "main", "history", "9", "x86_64")]) {
      fs.mkdirSync(dir, { recursive: true });
      fs.cpSync(path.join(published, "pool"), path.join(dir, "pool"), { recursive: true });
      expect((await mossAsync(["index", dir])).status).toBe(0);
    }
    if (format !== undefined) {
      fs.writeFileSync(path.join(base, "main", "moss-root-index.json"), JSON.stringify({
        formats: { v0: {} }, streams: { unstable: { format, history: "9" } }, tags: {}, history: { "9": { format } },
      }));
    }
    const site = serveDirectory(base);
    const dir = root(`${name}-root`);
    const config = path.join(dir, "etc", "moss", "repo.d", "aeryn.yaml");
    fs.mkdirSync(path.dirname(config), { recursive: true });
    const yaml = `unstable:\n  description: "AerynOS unstable"\n  uri: "http://cdn.aerynos.dev/unstable/x86_64/stone.index"\n  priority: 10\nlocal:\n  description: "Mine"\n  uri: "file://${published}/stone.index"\n  priority: 0\n`;
    fs.writeFileSync(config, yaml);
    return { site, dir, config, yaml, env: { HTTP_PROXY: site.url.replace(/\/$/, ""), http_proxy: site.url.replace(/\/$/, "") } };
  }

  test("once the host serves the stream in a newer format, the configuration is rewritten in root-index form and the command fails", async () => {
    const { site, dir, config, yaml, env } = await legacySite("legacy-upgraded", "v0");
    try {
      const updated = await mossAsync(["-D", dir, "repo", "update"], { env });
      expect(updated.status).toBe(1);
      const kdl = path.join(dir, "etc", "moss", "repo.d", "aeryn.kdl");
      expect(updated.stdout).toStartWith(`1 repo will be upgraded to the new repository format\n\nUpdate applied to "${kdl}"\n\n\`\`\`diff\n--- ${config}\n+++ ${kdl}\n@@ `);
      expect(updated.stdout).toContain(`\n-  uri: "http://cdn.aerynos.dev/unstable/x86_64/stone.index"\n`);
      expect(updated.stdout).toContain(`\n+    base-uri "http://cdn.aerynos.dev/"\n+    channel main\n+    version "stream/unstable"\n`);
      expect(updated.stdout).toEndWith("```\n");
      // The YAML is left as it was; the KDL beside it wins, and keeps the repository that was fine.
      expect(fs.readFileSync(config, "utf8")).toBe(yaml);
      const list = await mossAsync(["-D", dir, "repo", "list"], { env });
      expect(list.stdout).toBe(" - unstable = (base-uri=http://cdn.aerynos.dev/, channel=main, version=stream/unstable, arch=x86_64) [10]\n"
        + ` - local = file://${published}/stone.index [0]\n`);
      // Run again, it refreshes through the root index.
      const again = await mossAsync(["-D", dir, "repo", "update"], { env });
      expect(again.status).toBe(0);
      expect(site.requests).toContain("/main/history/9/x86_64/stone.index");
      const fields = { "base-uri": "http://cdn.aerynos.dev/", version: "stream/unstable" };
      expect([...repoRows(dir, fields).keys()]).toContain("alpha");
    } finally {
      void site.stop();
    }
  });

  test("while the stream is still legacy, or the host has no root index, the old URL refreshes as before", async () => {
    for (const [name, format] of [["legacy-still", "legacy"], ["legacy-no-root", undefined]] as const) {
      const { site, dir, config, yaml, env } = await legacySite(name, format);
      try {
        const updated = await mossAsync(["-D", dir, "repo", "update", "unstable"], { env });
        expect(updated.status).toBe(0);
        expect(site.requests).toEqual(["/main/moss-root-index.json", "/unstable/x86_64/stone.index"]);
        expect(fs.readFileSync(config, "utf8")).toBe(yaml);
        expect(fs.existsSync(path.join(dir, "etc", "moss", "repo.d", "aeryn.kdl"))).toBe(false);
      } finally {
        void site.stop();
      }
    }
  });
});

describe("a signed repository", () => {
  test("an index signed by moss index --sign is accepted; a tampered or unsigned one is refused and the DB kept", async () => {
    const dir = path.join(work, "signed-site");
    fs.mkdirSync(dir, { recursive: true });
    await tinyStone(dir, { name: "signed-one" });
    const key = path.join(work, "index-key.pem");
    const { privateKey } = require("node:crypto").generateKeyPairSync("ed25519");
    fs.writeFileSync(key, privateKey.export({ format: "pem", type: "pkcs8" }));
    const signed = moss(["index", "--sign", key, dir]);
    expect(signed.status).toBe(0);
    const publicKey = /public-key (\S+)\)/.exec(signed.stdout)![1]!;
    const site = serveDirectory(dir);
    try {
      const rootDir = root("root-signed");
      const added = await mossAsync(["-D", rootDir, "repo", "add", "signed", `${site.url}stone.index`, "--public-key", publicKey]);
      expect(added.stdout).toBe("signed added\n");
      const fields = { uri: `${site.url}stone.index` };
      expect([...repoRows(rootDir, fields).keys()]).toEqual(["signed-one"]);

      // A new index without a new signature: the old .sig no longer matches.
      await tinyStone(dir, { name: "signed-two" });
      expect(moss(["index", dir]).status).toBe(0);
      const tampered = await mossAsync(["-D", rootDir, "repo", "update", "signed"]);
      expect(tampered.status).toBe(1);
      expect(tampered.stdout).toContain(`the signature of ${site.url}stone.index does not match the repository's public-key`);
      expect([...repoRows(rootDir, fields).keys()]).toEqual(["signed-one"]);

      fs.rmSync(path.join(dir, "stone.index.sig"));
      const unsigned = await mossAsync(["-D", rootDir, "repo", "update", "signed"]);
      expect(unsigned.status).toBe(1);
      expect(unsigned.stdout).toContain(`the index's signature could not be fetched: GET ${site.url}stone.index.sig: 404`);

      expect(moss(["index", "--sign", key, dir]).status).toBe(0);
      expect((await mossAsync(["-D", rootDir, "repo", "update", "signed"])).status).toBe(0);
      expect([...repoRows(rootDir, fields).keys()].sort()).toEqual(["signed-one", "signed-two"]);

      const badKey = await mossAsync(["-D", root("root-badkey"), "repo", "add", "x", `${site.url}stone.index`, "--public-key", "not-a-key"]);
      expect(badKey.status).toBe(1);
      expect(badKey.stdout).toContain("public-key is not an ed25519 public key");
    } finally {
      await site.stop();
    }
  });
});
