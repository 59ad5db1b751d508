/**
 * `moss --version` answers in ~10 ms because nothing heavy is loaded before the command is known:
 * the modules `src/main.ts` imports statically (transitively) must stay small and local. Timing is
 * measured by scripts/bench/startup.ts; this guards the structure that makes it fast.
 */
import { expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";

const SRC = path.resolve(import.meta.dir, "..", "..", "src");
const transpiler = new Bun.Transpiler({ loader: "ts" });

/** Every module reached from `entry` through static imports only (dynamic `import()` is lazy). */
function staticClosure(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    if (!file.startsWith(SRC)) return;
    for (const imp of transpiler.scanImports(fs.readFileSync(file, "utf8"))) {
      if (imp.kind !== "import-statement") continue;
      visit(imp.path.startsWith(".") ? path.resolve(path.dirname(file), imp.path) : imp.path);
    }
  };
  visit(entry);
  return seen;
}

test("the start-up path imports no package and no heavy module statically", () => {
  const closure = [...staticClosure(path.join(SRC, "main.ts"))];
  const relative = closure.map((f) => (f.startsWith(SRC) ? path.relative(SRC, f) : f));
  // Node built-ins and package.json are free; npm packages (citty, hash-wasm) and the stone reader are not.
  const heavy = relative.filter((f) => !f.startsWith("node:") && !f.endsWith("package.json") && (!f.endsWith(".ts") || /^(stone|zstd|hash|client|cli\/(?!argv))/.test(f)));
  expect(heavy).toEqual([]);
  expect(relative).toContain("cli/argv.ts");
});
