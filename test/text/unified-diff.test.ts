import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { unifiedDiff } from "../../src/text/unified-diff.ts";

/** GNU diff's hunks for the same two texts (its headers carry timestamps, so they are dropped). */
function gnuHunks(from: string, to: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "moss-diff-"));
  try {
    fs.writeFileSync(path.join(dir, "a"), from);
    fs.writeFileSync(path.join(dir, "b"), to);
    const run = spawnSync("diff", ["-u", "a", "b"], { cwd: dir, encoding: "utf8" });
    return run.stdout.split("\n").slice(2).join("\n");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function ours(from: string, to: string): string {
  return unifiedDiff(from, to, "a", "b").split("\n").slice(2).join("\n");
}

/** A deterministic generator, so a failure names a seed that reproduces it. */
function lcg(seed: number) {
  let state = seed >>> 0;
  return () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

describe("unifiedDiff", () => {
  test("names both files and gives the hunks diff -u gives for a configuration rewrite", () => {
    const from = 'unstable:\n  description: "AerynOS unstable"\n  uri: "https://cdn.aerynos.dev/unstable/x86_64/stone.index"\n  priority: 10\n';
    const to = 'unstable {\n    description "AerynOS unstable"\n    base-uri "https://cdn.aerynos.dev/"\n    channel main\n    priority 10\n}\n';
    const diff = unifiedDiff(from, to, "/etc/moss/repo.d/x.yaml", "/etc/moss/repo.d/x.kdl");
    expect(diff).toStartWith("--- /etc/moss/repo.d/x.yaml\n+++ /etc/moss/repo.d/x.kdl\n@@ -1,4 +1,6 @@\n");
    expect(ours(from, to)).toBe(gnuHunks(from, to));
  });

  test("is empty for equal texts", () => {
    expect(unifiedDiff("a\nb\n", "a\nb\n", "x", "y")).toBe("");
  });

  test("empty sides and far-apart changes split into the hunks diff -u prints", () => {
    const long = Array.from({ length: 30 }, (_, i) => `line ${i}`);
    const changed = long.map((line, i) => (i === 2 || i === 25 ? `${line} changed` : line));
    for (const [from, to] of [
      ["", "one\ntwo\n"],
      ["one\ntwo\n", ""],
      [`${long.join("\n")}\n`, `${changed.join("\n")}\n`],
      [`${long.join("\n")}\n`, `${long.slice(0, 10).join("\n")}\n`],
    ] as const) {
      expect(ours(from, to)).toBe(gnuHunks(from, to));
    }
  });

  test("agrees with diff -u on the line counts of 200 random edits", () => {
    for (let seed = 1; seed <= 200; seed++) {
      const random = lcg(seed);
      const from = Array.from({ length: 1 + Math.floor(random() * 25) }, () => `l${Math.floor(random() * 8)}`);
      const to = from.flatMap((line) => {
        const roll = random();
        if (roll < 0.15) return [];
        if (roll < 0.3) return [line, `n${Math.floor(random() * 8)}`];
        if (roll < 0.4) return [`c${Math.floor(random() * 8)}`];
        return [line];
      });
      const a = `${from.join("\n")}\n`;
      const b = to.length === 0 ? "" : `${to.join("\n")}\n`;
      // Several minimal edit scripts can exist; the hunk headers and the lines each side keeps cannot differ.
      const sides = (diff: string) => {
        const rows = diff.split("\n");
        return {
          headers: rows.filter((row) => row.startsWith("@@")).length > 0,
          removed: rows.filter((row) => row.startsWith("-")).length,
          added: rows.filter((row) => row.startsWith("+")).length,
        };
      };
      expect({ seed, ...sides(ours(a, b)) }).toEqual({ seed, ...sides(gnuHunks(a, b)) });
    }
  });
});
