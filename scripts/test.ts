/**
 * The whole test suite: type-check, build `dist/moss` (the end-to-end tests run the real binary),
 * run `bun test`, and close with the one line CI reads: `N passed, N failed`. Exits non-zero when
 * anything failed or when no test ran.
 */
import { spawn, spawnSync } from "node:child_process";
import path from "node:path";

const root = path.resolve(import.meta.dir, "..");
const typecheck = spawnSync(process.execPath, [path.join(root, "node_modules", "typescript", "bin", "tsc"), "--noEmit", "-p", root], { cwd: root, stdio: "inherit" });
if (typecheck.status !== 0) {
  console.log("\ntype check failed\n0 passed, 1 failed");
  process.exit(1);
}
const build = spawnSync(process.execPath, [path.join(root, "scripts", "build.ts")], { cwd: root, stdio: "inherit" });
if (build.status !== 0) {
  console.log("0 passed, 1 failed");
  process.exit(1);
}

// bun 1.4 ignores bunfig's [test] timeout, so the generous per-test limit that fuzzing and the
// memory tests need on a 2-core CI machine is passed on the command line.
const child = spawn(process.execPath, ["test", "--timeout", "120000", ...process.argv.slice(2)], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
let passed = 0;
let failed = 0;
let tail = "";
const scan = (chunk: Buffer, sink: NodeJS.WriteStream) => {
  sink.write(chunk);
  tail += chunk.toString("utf8");
  const lines = tail.split("\n");
  tail = lines.pop() ?? "";
  for (const line of lines) {
    const pass = /^\s*(\d+) pass\s*$/.exec(line);
    const fail = /^\s*(\d+) fail\s*$/.exec(line);
    if (pass) passed = Number(pass[1]);
    if (fail) failed = Number(fail[1]);
  }
};
child.stdout.on("data", (chunk) => scan(chunk, process.stdout));
child.stderr.on("data", (chunk) => scan(chunk, process.stderr));
const code: number = await new Promise((resolve) => child.on("close", (status) => resolve(status ?? 1)));
if (code !== 0 && failed === 0) failed = 1;
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(code !== 0 || passed === 0 ? 1 : 0);
