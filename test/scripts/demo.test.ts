/** The README's first command: the demo runs the real binary end to end and cleans up after itself. */
import { expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ensureBinary } from "../helpers/moss.ts";

test("the demo packs, verifies, extracts, installs and syncs from a repository, rolls back, rebuilds a root from its model, and leaves no temporary directory", () => {
  ensureBinary();
  const before = new Set(fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith("moss-demo-")));
  const result = Bun.spawnSync([process.execPath, path.join(import.meta.dir, "../../scripts/demo.ts")], { env: { ...process.env, NO_COLOR: "1" } });
  const stdout = result.stdout.toString();
  expect(result.stderr.toString()).toBe("");
  expect(result.exitCode).toBe(0);
  expect(stdout).toMatch(/^(\d+) of \1 packages: Result: OK$/m);
  expect(stdout).toContain("usr/bin/hi\nHello from moss-ts");
  expect(stdout).toContain("local added\n");
  expect(stdout).toContain("The following packages will be updated: \n\nhello 1.0-1 -> 2.0-2\n");
  expect(stdout).toContain("$DEMO/root/usr/.stateID: 1\n");
  expect(stdout).toContain("No issues found");
  // Boot entries for the four states, then only state 1's after the rollback, and the same after the ESP was wiped.
  expect(stdout).toContain("$DEMO/esp/loader/entries/unbranded-os-6.18.13-130.desktop-4+3.conf\n$DEMO/esp/loader/loader.conf\n");
  // (root= depends on the machine the demo runs on; the rest does not.)
  expect(stdout).toMatch(/^options (\S+ )*rw moss\.fstx=4$/m);
  expect(stdout.match(/\$DEMO\/esp\/loader\/entries\/unbranded-os-6\.18\.13-130\.desktop-1\+3\.conf\n\$DEMO\/esp\/loader\/loader\.conf\n/g)?.length).toBe(2);
  // The exported model makes a second root with the same packages.
  expect(stdout).toContain("packages {\n    fadre\n    hello\n");
  expect(stdout).toContain("same packages on both roots: true\n");
  expect(stdout).not.toContain("\x1b[");
  const after = fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith("moss-demo-") && !before.has(f));
  expect(after).toEqual([]);
}, 60_000);
