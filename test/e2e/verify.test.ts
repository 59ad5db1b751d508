/**
 * `state verify` when the damage cannot be repaired (no `.stone` left to re-cache from), and
 * `state activate` run the way the initramfs runs it: an empty environment, nothing but the
 * binary and the root.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { assetPath } from "../../src/store/index.ts";
import { ensureBinary, moss, tempDir } from "../helpers/moss.ts";
import { distro, readStateId, snapshot, type Distro } from "../helpers/roots.ts";

const work = tempDir("moss-verify-");
const root = path.join(work, "root");
let packages: Distro;

beforeAll(async () => {
  packages = await distro(path.join(work, "repo"));
  fs.mkdirSync(root);
}, 60_000);
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

test("a corrupt asset with no .stone at hand: the damaged states and a safe one are named, nothing changes", () => {
  expect(moss(["-D", root, "-y", "install", ...packages.closure("mixnek")]).status).toBe(0);
  // stasta's files come from copies that are deleted after the install.
  const copies = path.join(work, "copies");
  fs.mkdirSync(copies);
  const stasta = packages.file("stasta");
  const copy = path.join(copies, path.basename(stasta));
  fs.copyFileSync(stasta, copy);
  const files = packages.closure("stasta").map((f) => (f === stasta ? copy : f));
  expect(moss(["-D", root, "-y", "install", ...files]).status).toBe(0);
  fs.rmSync(copies, { recursive: true });

  const info = JSON.parse(moss(["-D", root, "info", "-f", "stasta", "--json"]).stdout)[0];
  const file = info.files.find((f: { kind: string; digest?: string }) => f.kind === "regular" && f.digest !== "99aa06d3014798d86001c324468d497f");
  const asset = assetPath(path.join(root, ".moss", "assets"), file.digest);
  fs.chmodSync(asset, 0o644);
  fs.appendFileSync(asset, "bitrot");
  const before = snapshot(path.join(root, "usr"));

  const result = moss(["-D", root, "-y", "state", "verify"]);
  expect(result.status).toBe(1);
  expect(result.stdout).toMatch(/^ × Corrupt asset /m);
  expect(result.stdout).toMatch(/^Error: no \.stone at hand to repair stasta: states 2 are damaged; state 1 is undamaged and can be activated$/m);
  expect(snapshot(path.join(root, "usr"))).toEqual(before);
  expect(readStateId(root)).toBe("2");
}, 60_000);

test("state activate works from an empty environment, as the initramfs runs it", () => {
  const env = {};
  const result = spawnSync(ensureBinary(), ["-D", root, "state", "activate", "-y", "--skip-triggers", "1"], { env, encoding: "utf8" });
  expect(result.stderr).toBe("");
  expect(result.status).toBe(0);
  expect(result.stdout.trim()).toBe("State 1 activated (2 archived)");
  expect(readStateId(root)).toBe("1");
});
