/**
 * Candidate sources resolve on keys and read whole only what is asked for; package URLs resolve
 * against the index URL exactly as URL resolution does.
 */
import { describe, expect, test } from "bun:test";
import type { PackageKey } from "../../src/db/index.ts";
import { bestNamedMany, bestPerName, CandidateSource, type Candidate } from "../../src/registry/candidates.ts";
import { urlResolver } from "../../src/registry/repositories.ts";
import { Transaction } from "../../src/registry/transaction.ts";
import { parseDependency } from "../../src/stone/index.ts";

function key(id: string, name: string, release: number, dependencies: string[] = [], providers: string[] = []): PackageKey {
  return { id, name, version: "1", release, buildRelease: 1, architecture: "x86_64", providers: [`name(${name})`, ...providers].sort(), dependencies, conflicts: [] };
}

/** A lazy source over `keys` whose loader records every batch it is asked for. */
function lazySource(keys: PackageKey[]) {
  const batches: string[][] = [];
  const source = CandidateSource.lazy("repository", keys, (ids) => {
    batches.push([...ids]);
    return ids.map((id) => {
      const k = keys.find((x) => x.id === id)!;
      const meta = {
        name: k.name, version: k.version, release: k.release, buildRelease: k.buildRelease, architecture: k.architecture,
        summary: `${k.name} summary`, description: "", sourceId: k.name, homepage: "", licenses: [],
        dependencies: k.dependencies.map(parseDependency), providers: k.providers.map(parseDependency), conflicts: [],
      };
      return { id, meta, source: "repository" } satisfies Candidate;
    });
  });
  return { source, batches };
}

describe("a lazy candidate source", () => {
  const keys = [
    key("a1", "app", 1, ["soname(libx.so.1)"]),
    key("a2", "app", 2, ["soname(libx.so.1)"]),
    key("x1", "libx", 1, [], ["soname(libx.so.1)"]),
    key("u1", "unrelated", 1),
  ];

  test("resolution reads no package whole; finalize reads the chosen ones in one batch", () => {
    const { source, batches } = lazySource(keys);
    const transaction = new Transaction([source]);
    transaction.add([source.keysProviding("name(app)")[0]!.id]);
    expect(batches).toEqual([]);
    const chosen = transaction.finalize();
    expect(chosen.map((c) => c.id)).toEqual(["a2", "x1"]);
    expect(batches).toEqual([["a2", "x1"]]);
    expect(chosen[0]!.meta.summary).toBe("app summary");
  });

  test("a package read once is not read again", () => {
    const { source, batches } = lazySource(keys);
    expect(source.get("x1")?.meta.name).toBe("libx");
    expect(source.providing("soname(libx.so.1)").map((c) => c.id)).toEqual(["x1"]);
    expect(source.get("nope")).toBeUndefined();
    expect(batches).toEqual([["x1"]]);
  });

  test("best per name and best of many names read only the winners", () => {
    const { source, batches } = lazySource(keys);
    expect(bestPerName([source], (k) => k.name !== "unrelated").map((c) => c.id).sort()).toEqual(["a2", "x1"]);
    expect(batches.flat().sort()).toEqual(["a2", "x1"]);
    const { source: again, batches: second } = lazySource(keys);
    expect([...bestNamedMany([again], ["app", "missing"])].map(([name, c]) => [name, c.id])).toEqual([["app", "a2"]]);
    expect(second).toEqual([["a2"]]);
  });

  test("replacing swaps a key for a whole candidate under its own id", () => {
    const { source } = lazySource(keys);
    const twin: Candidate = { id: "app-1-2.x86_64", source: "installed", meta: source.get("a2")!.meta };
    const replaced = source.replacing(new Map([["a2", twin]]));
    expect(replaced.keysProviding("name(app)").map((k) => k.id)).toEqual(["app-1-2.x86_64", "a1"]);
    expect(replaced.get("a2")).toBeUndefined();
    expect(replaced.providing("name(app)")[0]).toBe(twin);
  });
});

describe("package URLs", () => {
  const uris = ["n/nano/nano-8.0-1-1-x86_64.stone", "nano.stone", "../x.stone", "./x.stone", "a/../b.stone", "a/./b", "https://h/x.stone",
    "a b.stone", "a%20b.stone", "/abs.stone", "a?b", "a#b", ".hidden.stone", "a//b", "~x+y.stone", "..x.stone", "a/..b", "x:y", "é.stone"];
  const bases = ["http://127.0.0.1:8080/r/x86_64/stone.index", "file:///srv/repo/stone.index", "https://h/a/b/stone.index?x=1", "https://h/a/", "https://h/a#f"];
  test("resolve as URL resolution does, for plain paths and every odd form", () => {
    for (const base of bases) {
      const resolve = urlResolver(base);
      for (const uri of uris) expect(`${base} + ${uri} = ${resolve(uri)}`).toBe(`${base} + ${uri} = ${new URL(uri, base).href}`);
    }
  });
});
