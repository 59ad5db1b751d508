/** The boot-assessment unit moss-ts ships: installed and enabled by its script, and valid for systemd. */
import { afterAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { ensureBinary, ROOT, tempDir } from "../helpers/moss.ts";

const work = tempDir("moss-bless-unit-");
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));
const UNIT = path.join(ROOT, "scripts", "systemd", "moss-bless-boot.service");

test("install-boot-assessment.sh installs the unit below DESTDIR and enables it for multi-user.target", () => {
  const result = spawnSync("sh", [path.join(ROOT, "scripts", "install-boot-assessment.sh")], { env: { ...process.env, DESTDIR: work }, encoding: "utf8" });
  expect(result.status).toBe(0);
  expect(fs.readFileSync(path.join(work, "usr", "lib", "systemd", "system", "moss-bless-boot.service"), "utf8")).toBe(fs.readFileSync(UNIT, "utf8"));
  expect(fs.readlinkSync(path.join(work, "etc", "systemd", "system", "multi-user.target.wants", "moss-bless-boot.service"))).toBe("/usr/lib/systemd/system/moss-bless-boot.service");
});

test("systemd-analyze verify accepts the unit, run against this machine's units with the built binary as its command", () => {
  const text = fs.readFileSync(UNIT, "utf8");
  expect(text).toContain("ExecStart=/usr/bin/moss boot bless\n");
  expect(text).toContain("Requires=boot-complete.target\n");
  const copy = path.join(work, "moss-bless-boot.service");
  fs.writeFileSync(copy, text.replace("/usr/bin/moss", ensureBinary()));
  const verify = spawnSync("systemd-analyze", ["verify", copy], { encoding: "utf8" });
  expect({ status: verify.status, stderr: verify.stderr }).toEqual({ status: 0, stderr: "" });
  // The command it runs exists: `moss boot bless --help` is that sub-command's usage.
  const help = spawnSync(ensureBinary(), ["boot", "bless", "--help"], { encoding: "utf8" });
  expect(help.status).toBe(0);
  expect(help.stdout + help.stderr).toContain("Mark the boot entry of the running state as good");
});
