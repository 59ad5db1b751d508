/** Repository configuration (spec §1.6): files, formats, merge order, the KDL moss writes, cache directory names. */
import { afterAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { configFiles } from "../../src/config/loader.ts";
import { loadRepositories, renderRepositories, repositoryFromFields, sanitizeId, saveRepository } from "../../src/repository/config.ts";
import { repositoryKey } from "../../src/repository/identity.ts";
import { indexUrlFromRoot, parseRootIndex, rootIndexUrl } from "../../src/repository/root-index.ts";
import { tempDir } from "../helpers/moss.ts";

const work = tempDir("moss-repo-config-");
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

function write(root: string, file: string, text: string) {
  fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
  fs.writeFileSync(path.join(root, file), text);
}

describe("loading", () => {
  test("vendor then admin, .d directories in name order, .kdl over .yaml of the same name, .yml ignored", () => {
    const root = path.join(work, "order");
    write(root, "usr/share/moss/repo.yaml", "main:\n  uri: https://vendor.example/stone.index\n  priority: 1\n");
    write(root, "usr/share/moss/repo.d/b.yaml", "extra:\n  uri: https://from-yaml.example/stone.index\n  priority: 2\n");
    write(root, "usr/share/moss/repo.d/b.kdl", 'extra {\n    uri "https://from-kdl.example/stone.index"\n    priority 3\n}\n');
    write(root, "etc/moss/repo.d/main.kdl", 'main {\n    uri "https://admin.example/stone.index"\n    priority 9\n    active #false\n}\n');
    write(root, "etc/moss/repo.d/other.yml", "ignored:\n  uri: https://x.example/\n  priority: 1\n");
    expect(configFiles(root, "repo").map((f) => path.relative(root, f.path))).toEqual([
      "usr/share/moss/repo.yaml", "usr/share/moss/repo.d/b.kdl", "etc/moss/repo.d/main.kdl",
    ]);
    return loadRepositories(root, () => {}).then((repos) => {
      expect([...repos.keys()].sort()).toEqual(["extra", "main"]);
      expect(repos.get("main")).toMatchObject({ priority: 9, active: false, source: { kind: "direct", uri: "https://admin.example/stone.index" } });
      expect(repos.get("extra")!.source).toEqual({ kind: "direct", uri: "https://from-kdl.example/stone.index" });
    });
  });

  test("a file that does not parse is skipped with a warning naming it; the others still load", async () => {
    const root = path.join(work, "broken");
    write(root, "etc/moss/repo.d/good.kdl", 'good {\n    uri "https://good.example/stone.index"\n    priority 0\n}\n');
    write(root, "etc/moss/repo.d/bad.kdl", "bad {\n    uri \"https://bad.example/\n");
    write(root, "etc/moss/repo.d/nopriority.yaml", "np:\n  uri: https://np.example/stone.index\n");
    const warnings: string[] = [];
    const repos = await loadRepositories(root, (m) => warnings.push(m));
    expect([...repos.keys()]).toEqual(["good"]);
    expect(warnings).toHaveLength(2);
    expect(warnings.find((w) => w.includes("bad.kdl"))).toBeDefined();
    expect(warnings.find((w) => w.includes("nopriority.yaml") && w.includes("priority"))).toBeDefined();
  });

  test("root-index records take their defaults; a version must be scoped", () => {
    const repo = repositoryFromFields("vol", { "base-uri": "https://build.aerynos.dev", version: "stream/volatile", priority: 10 });
    expect(repo.source).toEqual({ kind: "root-index", baseUri: "https://build.aerynos.dev/", channel: "main", version: { scope: "stream", id: "volatile" }, arch: "x86_64" });
    expect(() => repositoryFromFields("vol", { "base-uri": "https://x.example/", version: "volatile", priority: 1 })).toThrow("version must be");
    expect(() => repositoryFromFields("both", { uri: "https://a.example/", "base-uri": "https://b.example/", priority: 1 })).toThrow("exactly one of uri and base-uri");
  });

  test("ids are sanitised: anything neither alphanumeric nor - becomes _", () => {
    expect(sanitizeId("my repo.v2")).toBe("my_repo_v2");
    expect(sanitizeId("unstable-x86")).toBe("unstable-x86");
  });
});

describe("writing", () => {
  test("moss writes KDL v2 exactly as the spec's examples show", async () => {
    expect(await renderRepositories([repositoryFromFields("unstable", { description: "AerynOS unstable", uri: "https://cdn.aerynos.dev/unstable/x86_64/stone.index", priority: 0 })])).toBe(
      'unstable {\n    description "AerynOS unstable"\n    uri "https://cdn.aerynos.dev/unstable/x86_64/stone.index"\n    priority 0\n    active #true\n}\n',
    );
    expect(await renderRepositories([repositoryFromFields("volatile", { description: "build infrastructure", "base-uri": "https://build.aerynos.dev/", version: "stream/volatile", priority: 10 })])).toBe(
      'volatile {\n    description "build infrastructure"\n    base-uri "https://build.aerynos.dev/"\n    channel main\n    version "stream/volatile"\n    arch x86_64\n    priority 10\n    active #true\n}\n',
    );
  });

  test("a saved repository reads back the same", async () => {
    const root = path.join(work, "save");
    const repo = repositoryFromFields("round", { description: "with \"quotes\" and spaces", uri: "file:///srv/repo/stone.index", priority: 4, active: false });
    const file = await saveRepository(root, repo);
    expect(path.relative(root, file)).toBe("etc/moss/repo.d/round.kdl");
    const back = (await loadRepositories(root, (m) => { throw new Error(m); })).get("round")!;
    expect({ ...back, file: undefined }).toEqual({ ...repo, file: undefined });
  });
});

describe("identity", () => {
  test("cache directory names are Rust's (XXH3-64 of moss-<uri>, unpadded hex)", () => {
    const direct = (uri: string) => repositoryKey(repositoryFromFields("x", { uri, priority: 0 }));
    expect(direct("https://cdn.aerynos.dev/unstable/x86_64/stone.index")).toBe("921406fc79b8b8d4");
    expect(direct("file:///srv/repo/stone.index")).toBe("1c331a10212bdd56");
    expect(repositoryKey(repositoryFromFields("x", { "base-uri": "https://build.aerynos.dev", version: "stream/unstable", priority: 0 }))).toBe("a4999dd6bd2f583d");
  });
});

describe("root index", () => {
  const source = repositoryFromFields("r", { "base-uri": "https://build.example/base", version: "stream/unstable", priority: 0 }).source as Extract<ReturnType<typeof repositoryFromFields>["source"], { kind: "root-index" }>;
  const json = JSON.stringify({
    formats: { v0: { upgrade_via: "tag/v0-final" }, v1: {} },
    streams: { unstable: { format: "v0", history: "2", tag: "v0-final" }, next: { format: "v1", history: "3" } },
    tags: { "v0-final": { format: "v0", history: "2" } },
    history: { "1": { format: "v0" }, "2": { format: "v0" }, "3": { format: "v1" } },
  });
  const url = rootIndexUrl(source);
  const index = parseRootIndex(json, url);

  test("streams, tags and histories lead to <base>/<channel>/history/<id>/<arch>/stone.index", () => {
    expect(url).toBe("https://build.example/base/main/moss-root-index.json");
    expect(indexUrlFromRoot(index, source, url)).toBe("https://build.example/base/main/history/2/x86_64/stone.index");
    expect(indexUrlFromRoot(index, { ...source, version: { scope: "tag", id: "v0-final" } }, url)).toBe("https://build.example/base/main/history/2/x86_64/stone.index");
    expect(indexUrlFromRoot(index, { ...source, version: { scope: "history", id: "1" } }, url)).toBe("https://build.example/base/main/history/1/x86_64/stone.index");
  });

  test("an unknown version and an unsupported format are clear errors (Rust panics on the latter)", () => {
    expect(() => indexUrlFromRoot(index, { ...source, version: { scope: "stream", id: "nope" } }, url)).toThrow("doesn't have version identifier stream/nope");
    expect(() => indexUrlFromRoot(index, { ...source, version: { scope: "stream", id: "next" } }, url)).toThrow("format v1, which this moss cannot read; moss must first be upgraded through tag/v0-final");
  });
});
