/**
 * Ctrl-C during the switch to a new state (issue 4): SIGINT is held until the switch is complete,
 * a second one says why nothing happens yet, and the process then exits 130 with the new state
 * fully in place — not half-switched.
 */
import { afterAll, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { ensureBinary, moss, tempDir, NO_MACHINE } from "../helpers/moss.ts";
import { distro, readStateId } from "../helpers/roots.ts";

const work = tempDir("moss-signals-");
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

async function interrupted(args: string[], point: string): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(ensureBinary(), args, { env: { ...process.env, NO_COLOR: "1", MOSS_BOOT_HOST: NO_MACHINE, MOSS_FAULT_PAUSE: point, MOSS_FAULT_PAUSE_MS: "1500" } });
  let stderr = "";
  let sent = false;
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
    if (!sent && stderr.includes(`paused at ${point}`)) {
      sent = true;
      child.kill("SIGINT");
      setTimeout(() => child.kill("SIGINT"), 100);
    }
  });
  child.stdout.resume();
  const code: number | null = await new Promise((resolve) => child.on("close", (status) => resolve(status)));
  return { code, stderr };
}

test("two Ctrl-Cs during the swap: explained, held, and the new state is complete", async () => {
  const packages = await distro(path.join(work, "repo"));
  const root = path.join(work, "root");
  fs.mkdirSync(root);
  expect(moss(["-D", root, "-y", "install", ...packages.closure("mixnek")]).status).toBe(0);

  const install = await interrupted(["-D", root, "-y", "install", ...packages.closure("stasta")], "swapped");
  expect(install.code).toBe(130);
  expect(install.stderr).toContain("stopping now would leave the system half-switched");
  expect(readStateId(root)).toBe("2");
  expect(fs.readFileSync(path.join(root, ".moss", "root", "1", "usr", ".stateID"), "utf8")).toBe("1");
  expect(fs.existsSync(path.join(root, ".moss", "root", ".moss-transaction"))).toBe(false);

  const activation = await interrupted(["-D", root, "-y", "state", "activate", "1"], "activate-swapped");
  expect(activation.code).toBe(130);
  expect(readStateId(root)).toBe("1");
  expect(fs.readFileSync(path.join(root, ".moss", "root", "2", "usr", ".stateID"), "utf8")).toBe("2");
  expect(moss(["-D", root, "state", "verify"]).stdout.trim()).toBe("No issues found");
}, 60_000);
