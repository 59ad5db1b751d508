import { beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { xxh3_128Hex } from "../../src/hash/xxh3.ts";
import { metaRecordsFor, StoneReader, writeStone, type LayoutRecord } from "../../src/stone/index.ts";
import { ensureBinary, FIXTURES, moss, tempDir } from "../helpers/moss.ts";

const BASH = path.join(FIXTURES, "bash-completion-2.11-1-1-x86_64.stone");
const PIZZA = path.join(FIXTURES, "conflicts", "italian-pizza-1-1-1-x86_64.stone");

beforeAll(() => void ensureBinary());

describe("moss extract (spec §4.11)", () => {
  test("reproduces every file of every fixture with its digest, mode and symlink target", async () => {
    const out = tempDir();
    for (const stone of [BASH, PIZZA]) {
      const result = moss(["extract", "-o", out, stone]);
      expect(result.status).toBe(0);
      const reader = StoneReader.open(stone);
      const { layout, metas } = reader.records();
      reader.close();
      const name = metas[0]!.find((r) => r.tag === 1)!.value as { value: string };
      const root = fs.readdirSync(out).find((d) => d.startsWith(`${name.value}-`))!;
      expect(result.stdout).toStartWith(`Extract: ${JSON.stringify(stone)} -> ${JSON.stringify(path.join(out, root))}\n\n`);
      expect(result.stdout).toMatch(/\n\d+ entries blitted in \d+\.\d\ds \(\d+\.\dk \/ s\)\n$/);
      for (const entry of layout) {
        const file = path.join(out, root, "usr", entry.target);
        const stat = fs.lstatSync(file);
        if (entry.entryType === 1) {
          expect(stat.isFile()).toBe(true);
          expect(await xxh3_128Hex(fs.readFileSync(file))).toBe(entry.digest!);
          expect(stat.mode & 0o7777).toBe(entry.mode & 0o7777 & ~0o222);
        } else if (entry.entryType === 2) {
          expect(stat.isSymbolicLink()).toBe(true);
          expect(fs.readlinkSync(file)).toBe(entry.source!);
        }
      }
    }
    expect(fs.readdirSync(out).sort()).toEqual(["bash-completion-2.11-1.x86_64", "italian-pizza-1-1.x86_64"]);
    fs.rmSync(out, { recursive: true });
  });

  test("the default output directory is the current one, and a second run replaces the tree", () => {
    const cwd = tempDir();
    expect(moss(["extract", PIZZA], { cwd }).status).toBe(0);
    fs.writeFileSync(path.join(cwd, "italian-pizza-1-1.x86_64", "stale"), "old");
    expect(moss(["extract", PIZZA], { cwd }).status).toBe(0);
    expect(fs.readdirSync(path.join(cwd, "italian-pizza-1-1.x86_64"))).toEqual(["usr"]);
    expect(fs.readdirSync(cwd)).toEqual(["italian-pizza-1-1.x86_64"]);
    fs.rmSync(cwd, { recursive: true });
  });

  test("a corrupt package extracts nothing and leaves no temporary files", () => {
    const out = tempDir();
    const bad = path.join(out, "bad.stone");
    const bytes = fs.readFileSync(BASH);
    bytes[bytes.length - 5000]! ^= 0x01;
    fs.writeFileSync(bad, bytes);
    const result = moss(["extract", "-o", out, bad]);
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/^Error: .*bad\.stone: payload 3 \(content\): checksum mismatch/);
    expect(fs.readdirSync(out)).toEqual(["bad.stone"]);
    fs.rmSync(out, { recursive: true });
  });
});

describe("hostile packages never write outside the output directory", () => {
  const regular = (target: string, digest: string): LayoutRecord => ({ uid: 0, gid: 0, mode: 0o100644, tag: 0, entryType: 1, target, digest });
  const symlink = (target: string, source: string): LayoutRecord => ({ uid: 0, gid: 0, mode: 0o120777, tag: 0, entryType: 2, target, source });
  const meta = metaRecordsFor({
    name: "evil", version: "1", release: 1, buildRelease: 1, architecture: "x86_64",
    summary: "s", description: "d", sourceId: "evil", homepage: "h",
  });

  async function evilStone(dir: string, layout: LayoutRecord[], withContent = true): Promise<string> {
    const bytes = new TextEncoder().encode("pwned\n");
    const digest = await xxh3_128Hex(bytes);
    const file = path.join(dir, "evil.stone");
    const fixed = layout.map((e) => (e.digest === "CONTENT" ? { ...e, digest } : e));
    await writeStone(file, {
      fileType: 1, metas: [meta], layout: fixed,
      content: withContent ? [{ digest, size: bytes.length, chunks: () => [bytes] }] : [],
    }, { level: 1 });
    return file;
  }

  const cases: [string, LayoutRecord[], RegExp][] = [
    ["a target with ..", [regular("../../../escape", "CONTENT")], /unsafe layout path "\.\.\/\.\.\/\.\.\/escape"/],
    ["an absolute target", [regular("/tmp/escape", "CONTENT")], /unsafe layout path "\/tmp\/escape"/],
    ["a .. hidden in the middle", [regular("share/../../escape", "CONTENT")], /unsafe layout path/],
    ["a path through a symlink the package planted", [symlink("share/link", "/tmp"), regular("share/link/escape", "CONTENT")], /below the symlink \/usr\/share\/link/],
    ["a duplicate target", [regular("share/a", "CONTENT"), regular("share/a", "CONTENT")], /\/usr\/share\/a appears twice/],
  ];

  for (const [what, layout, message] of cases) {
    test(`${what} is refused`, async () => {
      const dir = tempDir();
      const out = path.join(dir, "out");
      const stone = await evilStone(dir, layout);
      const result = moss(["extract", "-o", out, stone]);
      expect(result.status).toBe(1);
      expect(result.stdout).toMatch(message);
      expect(result.stdout.split("\n").filter(Boolean)).toHaveLength(1);
      expect(fs.existsSync(path.join(dir, "escape"))).toBe(false);
      expect(fs.existsSync("/tmp/escape")).toBe(false);
      expect(fs.existsSync(out) ? fs.readdirSync(out) : []).toEqual([]);
      fs.rmSync(dir, { recursive: true });
    });
  }

  test("a regular file whose digest has no content is refused", async () => {
    const dir = tempDir();
    const stone = await evilStone(dir, [regular("share/a", "0123456789abcdef0123456789abcdef")], false);
    const result = moss(["extract", "-o", path.join(dir, "out"), stone]);
    expect(result.status).toBe(1);
    expect(result.stdout).toContain("refers to content 0123456789abcdef0123456789abcdef that the package does not contain");
    fs.rmSync(dir, { recursive: true });
  });
});
