import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { StoneReader, formatDependency, packageFromMeta } from "../../src/stone/index.ts";

const SCRIPT = path.join(import.meta.dir, "../../scripts/pack-stone.ts");
let work: string;

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "pack-stone-"));
  fs.mkdirSync(path.join(work, "usr/bin"), { recursive: true });
  fs.writeFileSync(path.join(work, "usr/bin/hello"), "#!/bin/sh\necho hello\n");
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

function run(...args: string[]) {
  const result = Bun.spawnSync([process.execPath, SCRIPT, ...args]);
  return { code: result.exitCode, stdout: result.stdout.toString(), stderr: result.stderr.toString() };
}

const BASE = ["--name", "hello", "--version", "1.0", "--release", "3"];

describe("pack-stone", () => {
  test("packs a tree with the given metadata", () => {
    const out = path.join(work, "hello.stone");
    const result = run(path.join(work, "usr"), ...BASE, "-o", out, "--license", "MIT", "--license", "Apache-2.0",
      "--depends", "soname(libc.so.6(x86_64))", "--depends", "bash", "--provides", "binary(hello)", "--conflicts", "goodbye", "--level", "3");
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(result.stdout).toBe(`${out} ${fs.statSync(out).size} bytes\n`);
    const reader = StoneReader.open(out);
    try {
      const meta = packageFromMeta(reader.records().metas[0]!);
      expect(meta).toMatchObject({ name: "hello", version: "1.0", release: 3, buildRelease: 1, architecture: "x86_64", sourceId: "hello", licenses: ["Apache-2.0", "MIT"] });
      expect(meta.dependencies.map(formatDependency)).toEqual(["name(bash)", "soname(libc.so.6(x86_64))"]);
      expect(meta.providers.map(formatDependency)).toEqual(["binary(hello)", "name(hello)"]);
      expect(meta.conflicts.map(formatDependency)).toEqual(["name(goodbye)"]);
    } finally {
      reader.close();
    }
  });

  test("a command line it cannot parse exits 2 with one line", () => {
    for (const args of [[path.join(work, "usr"), ...BASE], [path.join(work, "usr"), ...BASE, "-o", "x", "--bogus"], [...BASE, "-o", "x"]]) {
      const result = run(...args);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/^Error: [^\n]+\n$/);
    }
  });

  test("input it cannot pack exits 1 with one line", () => {
    const out = path.join(work, "bad.stone");
    const cases: [string[], string][] = [
      [[path.join(work, "usr"), ...BASE, "-o", out, "--depends", "nonsense(x)"], "Error: invalid dependency type: nonsense(x)\n"],
      [[path.join(work, "usr"), "--name", "a", "--version", "1", "--release", "x", "-o", out], 'Error: --release must be a non-negative integer, not "x"\n'],
      [[path.join(work, "missing"), ...BASE, "-o", out], `Error: cannot pack ${path.join(work, "missing")}: not a directory\n`],
      [[path.join(work, "usr"), ...BASE, "-o", path.join(work, "no/such/dir.stone")], `Error: cannot write ${path.join(work, "no/such/dir.stone")}: its directory does not exist\n`],
    ];
    for (const [args, stderr] of cases) expect(run(...args)).toMatchObject({ code: 1, stderr });
    expect(fs.existsSync(out)).toBe(false);
  });
});
