/**
 * Test helper run as a child process: `bun lock-child.ts <root> <exclusive|shared> [cacheDir]` opens
 * the root, locks it, and reports on stdout: "wait: <message>" if it had to block, then "locked".
 * It keeps the lock until its stdin closes.
 */
import { openInstallation } from "../../src/installation/index.ts";

const [root, mode, cacheDir] = process.argv.slice(2);
if (root === undefined || (mode !== "exclusive" && mode !== "shared")) throw new Error("usage: lock-child.ts <root> <mode> [cacheDir]");
const installation = openInstallation(root, { cacheDir });
installation.lock((message) => process.stdout.write(`wait: ${message}\n`), mode);
process.stdout.write("locked\n");
for await (const _ of Bun.stdin.stream()) {
  // Hold the lock until the parent closes our stdin.
}
installation.unlock();
