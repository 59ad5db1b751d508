import { beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { ensureBinary, FIXTURES, moss, tempDir } from "../helpers/moss.ts";

const PIZZA = path.join(FIXTURES, "conflicts", "italian-pizza-1-1-1-x86_64.stone");
const PINEAPPLE = path.join(FIXTURES, "conflicts", "pineapple-1-1-1-x86_64.stone");
const BASH = path.join(FIXTURES, "bash-completion-2.11-1-1-x86_64.stone");

beforeAll(() => void ensureBinary());

describe("moss inspect (spec §4.10)", () => {
  test("prints the text form of a package exactly as Rust moss does", () => {
    const result = moss(["inspect", "italian-pizza-1-1-1-x86_64.stone"], { cwd: path.dirname(PIZZA) });
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(
      [
        `"italian-pizza-1-1-1-x86_64.stone" = stone container version V1`,
        "Name                 : italian-pizza",
        "Version              : 1",
        "Release              : 1",
        "BuildRelease         : 1",
        "Architecture         : x86_64",
        "Summary              : A certain Italian pizza that hates pineapples",
        "Description          : Me no like pineapples.",
        "SourceID             : italian-pizza",
        "Homepage             : https://github.com/serpent-os",
        "License              : Zlib",
        "",
        "Conflicts            :",
        "    - name(pineapple)",
        "",
        "Layout entries       :",
        "    - /usr/share/defaults/italian-pizza - [Regular] 99aa06d3014798d86001c324468d497f",
        "",
      ].join("\n"),
    );
  });

  test("lists providers, symlinks and every layout entry of bash-completion", () => {
    const result = moss(["inspect", BASH]);
    expect(result.status).toBe(0);
    const lines = result.stdout.split("\n");
    expect(lines).toContain("Providers            :");
    expect(lines).toContain("    - cmake(bash-completion)");
    expect(lines).toContain("    - /usr/share/bash-completion/bash_completion - [Regular] 3c005061e2d565b469e9abdfe6478cfe");
    expect(lines).toContain("    - /usr/share/bash-completion/completions/7za -> 7z [Symlink]");
    expect(lines.filter((l) => l.startsWith("    - /usr/")).length).toBe(745);
  });

  test("--json describes header, payloads, packages, layout and index", () => {
    const result = moss(["inspect", "--json", PIZZA, BASH]);
    expect(result.status).toBe(0);
    const [pizza, bash] = JSON.parse(result.stdout);
    expect(pizza.path).toBe(PIZZA);
    expect(pizza.header).toEqual({ version: 1, fileType: "binary" });
    expect(pizza.payloads).toEqual([
      { kind: "meta", compression: "zstd", storedSize: 171, plainSize: 256, checksum: "5b5160d68add1855", numRecords: 11 },
      { kind: "layout", compression: "zstd", storedSize: 71, plainSize: 76, checksum: "6559741ee73c9457", numRecords: 1 },
      { kind: "index", compression: "zstd", storedSize: 32, plainSize: 32, checksum: "911d313ef4ec8028", numRecords: 1 },
      { kind: "content", compression: "zstd", storedSize: 9, plainSize: 0, checksum: "e6fb29dda2e7a873", numRecords: 0 },
    ]);
    expect(pizza.packages).toEqual([{
      name: "italian-pizza", version: "1", release: 1, buildRelease: 1, architecture: "x86_64",
      summary: "A certain Italian pizza that hates pineapples", description: "Me no like pineapples.",
      homepage: "https://github.com/serpent-os", sourceId: "italian-pizza", licenses: ["Zlib"],
      dependencies: [], providers: [], conflicts: ["name(pineapple)"],
    }]);
    expect(pizza.layout).toEqual([{
      type: "regular", uid: 0, gid: 0, mode: 0o100644, tag: 0, target: "/usr/share/defaults/italian-pizza",
      digest: "99aa06d3014798d86001c324468d497f",
    }]);
    expect(pizza.index).toEqual([{ start: 0, end: 0, digest: "99aa06d3014798d86001c324468d497f" }]);
    expect(bash.packages[0].providers).toEqual(["cmake(bash-completion)"]);
    expect(bash.layout).toHaveLength(745);
    expect(bash.layout.find((e: { target: string }) => e.target.endsWith("/completions/7za"))).toMatchObject({ type: "symlink", source: "7z", mode: 0o120777 });
    expect(bash.index).toHaveLength(474);
    expect(bash.index.at(-1).end).toBe(872279);
  });
});

describe("moss inspect --check", () => {
  test("verifies every payload of good files", () => {
    const result = moss(["inspect", "--check", PIZZA, PINEAPPLE, BASH]);
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(
      [PIZZA, PINEAPPLE, BASH].map((p) => `Checking: ${JSON.stringify(p)}\n  OK: Meta\n  OK: Layout\n  OK: Index\n  OK: Content\nResult: OK\n\n`).join(""),
    );
  });

  test("a corrupt content body fails the file, names the cause, and exits 1", () => {
    const dir = tempDir();
    const bad = path.join(dir, "bad.stone");
    const bytes = fs.readFileSync(BASH);
    bytes[bytes.length - 1000]! ^= 0x10;
    fs.writeFileSync(bad, bytes);
    const result = moss(["inspect", "--check", BASH, bad]);
    expect(result.status).toBe(1);
    expect(result.stdout).toContain(`Checking: ${JSON.stringify(bad)}`);
    expect(result.stdout).toMatch(/Result: FAILED - .*bad\.stone: payload 3 \(content\): checksum mismatch/);
    expect(result.stdout.trimEnd().split("\n").at(-1)).toBe("Error: inspect: One or more files failed the integrity check");
    const quiet = moss(["inspect", "--check", "-q", bad]);
    expect(quiet.status).toBe(1);
    expect(quiet.stdout).toBe("Error: inspect: One or more files failed the integrity check\n");
    const asJson = moss(["inspect", "--check", "--json", bad]);
    expect(JSON.parse(asJson.stdout.slice(0, asJson.stdout.lastIndexOf("]") + 1))[0]).toMatchObject({ ok: false, error: { code: "STONE_CHECKSUM" } });
    fs.rmSync(dir, { recursive: true });
  });

  test("a file that is not a stone is one clear line, exit 1, no stack trace", () => {
    const dir = tempDir();
    const notStone = path.join(dir, "notes.txt");
    fs.writeFileSync(notStone, "this is not a stone file, but it is long enough");
    const result = moss(["inspect", notStone]);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe(`Error: ${notStone}: not a stone file (magic 0x74686973, expected 0x006d6f73)\n`);
    expect(result.stderr).toBe("");
    const missing = moss(["inspect", path.join(dir, "nope.stone")]);
    expect(missing.status).toBe(1);
    expect(missing.stdout).toBe(`Error: ${path.join(dir, "nope.stone")}: no such file\n`);
    fs.rmSync(dir, { recursive: true });
  });
});

describe("the command line", () => {
  test("--version prints the full version; version prints the short one", () => {
    expect(moss(["--version"]).stdout).toMatch(/^moss version v\d+\.\d+\.\d+( \(Git ref [0-9a-f]+(-dirty)?\))? \(Built at \d{4}-\d\d-\d\dT[\d:]+\+00:00\)\n$/);
    expect(moss(["version"]).stdout).toMatch(/^moss v\d+\.\d+\.\d+( \(Git ref [0-9a-f]+(-dirty)?\))?\n$/);
    expect(moss(["version", "-f"]).stdout).toMatch(/^moss version v/);
  });

  test("-V prints the version and then runs the sub-command", () => {
    const result = moss(["-V", "inspect", PIZZA]);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^moss version v.*\n".*italian-pizza-1-1-1-x86_64.stone" = stone container version V1\n/);
  });

  test("-v prints the short version line before a sub-command", () => {
    expect(moss(["-v", "inspect", PIZZA]).stdout).toMatch(/^moss v\d+\.\d+\.\d+.*\n"/);
  });

  test("usage errors go to stderr with exit 2", () => {
    for (const args of [[], ["frobnicate"], ["inspect"], ["inspect", "--bogus", PIZZA], ["inspect", "-q", PIZZA], ["-D"]]) {
      const result = moss(args);
      expect({ args, status: result.status }).toEqual({ args, status: 2 });
      expect(result.stdout).toBe("");
      expect(result.stderr.length).toBeGreaterThan(0);
    }
  });

  test("--help shows usage and exits 0", () => {
    const result = moss(["inspect", "--help"]);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("USAGE moss inspect");
    expect(result.stdout).not.toContain("\x1b[");
  });

  test("global options are accepted after the sub-command", () => {
    const result = moss(["inspect", PIZZA, "-D", "/nonexistent-root", "--cache", "/tmp", "-y"]);
    expect(result.status).toBe(0);
  });
});
