/**
 * Hostile packages against `moss install` (issue 4, spec §3.9–§3.11, §9 items 1–3): layouts that
 * try to write outside `/usr` or the root, through `..`, absolute targets or a symlink the package
 * itself planted; duplicate or content-less entries; two packages fighting over one file. Each is
 * refused before anything live changes, with a short error naming the package and the path, and
 * nothing appears outside the root (a sentinel directory beside it stays empty).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { xxh3_128Hex } from "../../src/hash/xxh3.ts";
import { metaRecordsFor, writeStone, type LayoutRecord } from "../../src/stone/index.ts";
import { moss, tempDir } from "../helpers/moss.ts";
import { readStateId, snapshot } from "../helpers/roots.ts";

const work = tempDir("moss-hostile-");
/** Holds only the root and the sentinel: anything else appearing here escaped. */
const world = path.join(work, "world");
const root = path.join(world, "root");
const sentinel = path.join(world, "sentinel");
const stones = path.join(work, "stones");

type Entry = LayoutRecord;
const regular = (target: string, digest: string): Entry => ({ uid: 0, gid: 0, mode: 0o100644, tag: 0, entryType: 1, target, digest });
const symlink = (target: string, source: string): Entry => ({ uid: 0, gid: 0, mode: 0o120777, tag: 0, entryType: 2, target, source });
const directory = (target: string): Entry => ({ uid: 0, gid: 0, mode: 0o40755, tag: 0, entryType: 3, target });

/** A package whose regular entries name contents by text: "@pwned" is replaced by that text's digest. */
async function hostileStone(name: string, layout: Entry[], contents: string[]): Promise<string> {
  const encoded = await Promise.all(contents.map(async (text) => {
    const bytes = new TextEncoder().encode(text);
    return { text, bytes, digest: await xxh3_128Hex(bytes) };
  }));
  const byText = new Map(encoded.map((c) => [c.text, c.digest]));
  const file = path.join(stones, `${name}-1-1-1-x86_64.stone`);
  await writeStone(file, {
    fileType: 1,
    metas: [metaRecordsFor({ name, version: "1", release: 1, buildRelease: 1, architecture: "x86_64", summary: "s", description: "d", sourceId: name, homepage: "h" })],
    layout: layout.map((e) => (e.digest?.startsWith("@") ? { ...e, digest: byText.get(e.digest.slice(1)) ?? e.digest } : e)),
    content: encoded.map((c) => ({ digest: c.digest, size: c.bytes.length, chunks: () => [c.bytes] })),
  }, { level: 1 });
  return file;
}

let baseTree: Map<string, string>;
/** Everything in the world except what an install may legitimately add: cached content and database rows. */
function worldView(): Map<string, string> {
  const view = snapshot(world);
  for (const key of [...view.keys()]) {
    if (/^root\/\.moss\/(assets|db|cache)(\/|$)/.test(key)) view.delete(key);
  }
  return view;
}
let baseWorld: Map<string, string>;

beforeAll(async () => {
  fs.mkdirSync(root, { recursive: true });
  fs.mkdirSync(sentinel);
  fs.mkdirSync(stones);
  const good = await hostileStone("good", [directory("share/good"), regular("share/good/file", "@good\n"), symlink("share/good/link", "file")], ["good\n"]);
  const result = moss(["-D", root, "-y", "install", good]);
  if (result.status !== 0) throw new Error(`installing the base package failed\n${result.stdout}${result.stderr}`);
  baseTree = snapshot(path.join(root, "usr"));
  baseWorld = worldView();
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** The install failed cleanly: exit 1, a short error naming what is wrong, state 1 untouched, nothing escaped. */
function expectRefused(files: string[], mentions: (string | RegExp)[], maxLines = 3) {
  const result = moss(["-D", root, "-y", "install", ...files]);
  const output = result.stdout + result.stderr;
  expect(result.status).toBe(1);
  const error = output.slice(output.indexOf("Error: "));
  expect(output).toContain("Error: ");
  for (const mention of mentions) expect(error).toMatch(mention);
  expect(error.trim().split("\n").length).toBeLessThanOrEqual(maxLines);

  expect(fs.readdirSync(sentinel)).toEqual([]);
  expect(readStateId(root)).toBe("1");
  expect(snapshot(path.join(root, "usr"))).toEqual(baseTree);
  expect(worldView()).toEqual(baseWorld);
  const states = JSON.parse(moss(["-D", root, "state", "list", "--json"]).stdout) as { id: number; active: boolean }[];
  expect(states.map((s) => [s.id, s.active])).toEqual([[1, true]]);
  return error;
}

const quoted = (text: string) => new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));

describe("a hostile layout is refused and nothing is written outside the root", () => {
  test("a target climbing out of /usr with ..", async () => {
    const stone = await hostileStone("evil-dotdot", [regular("../../sentinel/escape", "@pwned\n")], ["pwned\n"]);
    expectRefused([stone], [/evil-dotdot/, quoted("../../sentinel/escape")]);
  });

  test("a .. hidden in the middle of a target", async () => {
    const stone = await hostileStone("evil-middle", [regular("share/../../../sentinel/escape", "@pwned\n")], ["pwned\n"]);
    expectRefused([stone], [/evil-middle/, quoted("share/../../../sentinel/escape")]);
  });

  test("an absolute target", async () => {
    const target = path.join(sentinel, "escape");
    const stone = await hostileStone("evil-absolute", [regular(target, "@pwned\n")], ["pwned\n"]);
    expectRefused([stone], [/evil-absolute/, quoted(target)]);
  });

  test("a file below a symlink to an absolute directory that the same package planted", async () => {
    const stone = await hostileStone("evil-link-abs", [symlink("share/link", sentinel), regular("share/link/x", "@pwned\n")], ["pwned\n"]);
    expectRefused([stone], [/evil-link-abs/, /share\/link/]);
  });

  test("a file below a symlink that climbs out with ../../..", async () => {
    const stone = await hostileStone("evil-link-up", [symlink("share/link", "../../.."), regular("share/link/x", "@pwned\n")], ["pwned\n"]);
    expectRefused([stone], [/evil-link-up/, /share\/link/]);
  });

  test("a file below a symlink deep enough to reach the sentinel from staging", async () => {
    // From .moss/root/staging/usr/share the sixth .. is the world directory.
    const stone = await hostileStone("evil-link-deep", [symlink("share/link", "../../../../../../sentinel"), regular("share/link/x", "@pwned\n")], ["pwned\n"]);
    expectRefused([stone], [/evil-link-deep/, /share\/link/]);
  });

  test("the same target twice in one package, with different contents", async () => {
    const stone = await hostileStone("evil-twice", [regular("share/twice", "@one\n"), regular("share/twice", "@two\n")], ["one\n", "two\n"]);
    expectRefused([stone], [/evil-twice/, /\/usr\/share\/twice/]);
  });

  test("the same target twice in one package, once a file and once a symlink", async () => {
    const stone = await hostileStone("evil-kinds", [regular("share/kinds", "@one\n"), symlink("share/kinds", "/etc/shadow")], ["one\n"]);
    expectRefused([stone], [/evil-kinds/, /\/usr\/share\/kinds/]);
  });

  test("a regular entry whose digest has no content in the package", async () => {
    const missing = "0123456789abcdef0123456789abcdef";
    const stone = await hostileStone("evil-nocontent", [regular("share/real", "@real\n"), regular("share/ghost", missing)], ["real\n"]);
    expectRefused([stone], [/evil-nocontent/, /\/usr\/share\/ghost/, quoted(missing)]);
  });

  test("two packages that ship /usr/share/foo with different contents: a file conflict naming both", async () => {
    const left = await hostileStone("foo-left", [regular("share/foo", "@left\n")], ["left\n"]);
    const right = await hostileStone("foo-right", [regular("share/foo", "@right\n")], ["right\n"]);
    const error = expectRefused([left, right], [/\/usr\/share\/foo/, /foo-left/, /foo-right/]);
    expect(error).toMatch(/conflict/);
  });

  test("a symlink over another package's directory, leading outside /usr", async () => {
    const stone = await hostileStone("evil-over-dir", [symlink("share/good", sentinel)], []);
    // One line per entry of good's below the link: the directory, its file and its symlink.
    expectRefused([stone], [/\/usr\/share\/good/, quoted(sentinel)], 4);
  });

  // Each refused entry belongs to another package: the error must also name the one that shipped the link.
  test("a symlink over another package's directory is blamed on the package that shipped it", async () => {
    const stone = await hostileStone("evil-over-dir2", [symlink("share/good", sentinel)], []);
    expectRefused([stone], [/evil-over-dir2/], 5);
  });

  test("a package whose file conflicts with one of the active state", async () => {
    const stone = await hostileStone("good-rival", [regular("share/good/file", "@rival\n")], ["rival\n"]);
    expectRefused([stone], [/\/usr\/share\/good\/file/, /good-rival/, /good \(/]);
  });
});

describe("the same shapes inside /usr are installed", () => {
  test("a file below a symlink to a directory of the package lands in that directory", async () => {
    const fresh = path.join(work, "fresh");
    fs.mkdirSync(fresh);
    const stone = await hostileStone("fine-link", [directory("share/real"), symlink("share/link", "real"), regular("share/link/x", "@fine\n")], ["fine\n"]);
    const result = moss(["-D", fresh, "-y", "install", stone]);
    expect(result.status).toBe(0);
    expect(fs.readFileSync(path.join(fresh, "usr", "share", "real", "x"), "utf8")).toBe("fine\n");
    expect(fs.readlinkSync(path.join(fresh, "usr", "share", "link"))).toBe("real");
  });
});
