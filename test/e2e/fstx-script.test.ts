/**
 * initramfs/moss-fstx.sh, the script the dracut module runs before switch-root, run here on the
 * host with the real binary against a real root (getarg, dracut's reader of the kernel command
 * line, is given the test's moss.fstx). The boot around it is proven under QEMU by test/e2e/vm/.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { ensureBinary, ROOT, tempDir } from "../helpers/moss.ts";
import { distro, readStateId, snapshot, threeStateRoot, type Distro } from "../helpers/roots.ts";

const SCRIPT = path.join(ROOT, "initramfs", "moss-fstx.sh");
const work = tempDir("moss-fstx-");
let packages: Distro;
const trees = new Map<string, Map<string, string>>();

/** Runs the script as the unit does, with `moss.fstx=<fstx>` (or none) on the "command line". */
function runScript(sysroot: string, fstx: string | undefined, extraEnv: Record<string, string> = {}) {
  const binDir = path.dirname(ensureBinary());
  const result = spawnSync("sh", ["-c", 'getarg() { [ -n "$FSTX" ] && printf "%s\\n" "$FSTX"; }; set -- "$1"; . "$0"', SCRIPT, sysroot], {
    encoding: "utf8",
    env: { PATH: `${binDir}:/usr/sbin:/usr/bin:/sbin:/bin`, NO_COLOR: "1", ...(fstx === undefined ? {} : { FSTX: fstx }), ...extraEnv },
    timeout: 60_000,
  });
  return { status: result.status ?? -1, stderr: result.stderr };
}

/** A root with states 1, 2 and 3 (state 3 active); their trees go into `trees`. */
function makeRoot(dir: string): string {
  for (const [id, tree] of threeStateRoot(dir, packages)) trees.set(id, tree);
  return dir;
}

beforeAll(async () => {
  packages = await distro(path.join(work, "repo"));
}, 120_000);
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe("moss-fstx.sh", () => {
  let root: string;
  beforeAll(() => {
    root = makeRoot(path.join(work, "root"));
  }, 120_000);

  test("without moss.fstx, or naming the active state, it does nothing", () => {
    for (const fstx of [undefined, "3"]) {
      const result = runScript(root, fstx);
      expect(result.status).toBe(0);
      expect(result.stderr).toBe("");
      expect(readStateId(root)).toBe("3");
    }
    expect(fs.existsSync(path.join(root, ".moss", "boot-sync-pending"))).toBe(false);
  });

  test("moss.fstx=1 rolls back to state 1's exact tree, archives state 3 and leaves the boot sync pending", () => {
    const result = runScript(root, "1");
    expect(result.status).toBe(0);
    expect(result.stderr).toContain("moss-fstx: state 1 is active");
    expect(snapshot(path.join(root, "usr"))).toEqual(trees.get("1")!);
    expect(fs.readFileSync(path.join(root, ".moss", "root", "3", "usr", ".stateID"), "utf8")).toBe("3");
    expect(fs.readFileSync(path.join(root, ".moss", "boot-sync-pending"), "utf8")).toBe("1\n");
  });

  test("moss.fstx=3 rolls forward again", () => {
    const result = runScript(root, "3");
    expect(result.status).toBe(0);
    expect(snapshot(path.join(root, "usr"))).toEqual(trees.get("3")!);
    expect(fs.readFileSync(path.join(root, ".moss", "boot-sync-pending"), "utf8")).toBe("3\n");
  });

  test("a state that does not exist, one whose tree is gone, or no id at all: a clear message and the current state boots", () => {
    fs.rmSync(path.join(root, ".moss", "root", "2"), { recursive: true });
    const before = snapshot(path.join(root, "usr"));
    for (const [fstx, said] of [["9", "state 9 doesn't exist"], ["2", "state 2 has no archived tree"], ["two", "moss.fstx=two is not a state id"]] as const) {
      const result = runScript(root, fstx);
      expect(result.status).toBe(0);
      expect(result.stderr).toContain(said);
      if (fstx !== "two") expect(result.stderr).toContain("booting state 3");
      expect(snapshot(path.join(root, "usr"))).toEqual(before);
    }
  });

  test("moss killed before the /usr exchange is the one hard failure; the next boot recovers and rolls back", () => {
    const journal = path.join(root, ".moss", "root", ".moss-transaction");
    const failed = runScript(root, "1", { MOSS_FAULT_KILL: "activate-moved" });
    expect(failed.status).toBe(1);
    expect(failed.stderr).toContain("failed during the /usr exchange");
    expect(failed.stderr).toContain("still on state 3");
    expect(readStateId(root)).toBe("3");
    expect(fs.existsSync(journal)).toBe(true);

    const again = runScript(root, "1");
    expect(again.status).toBe(0);
    expect(snapshot(path.join(root, "usr"))).toEqual(trees.get("1")!);
    expect(readStateId(path.join(root, ".moss", "root", "3"))).toBe("3");
    expect(fs.existsSync(journal)).toBe(false);
  });

  test("moss killed after the exchange still boots the state asked for, and the next run tidies up", () => {
    const killed = runScript(root, "3", { MOSS_FAULT_KILL: "activate-swapped" });
    expect(killed.status).toBe(0);
    expect(killed.stderr).toContain("state 3 is active, but moss exited 137");
    expect(snapshot(path.join(root, "usr"))).toEqual(trees.get("3")!);

    const back = runScript(root, "1");
    expect(back.status).toBe(0);
    expect(snapshot(path.join(root, "usr"))).toEqual(trees.get("1")!);
    expect(readStateId(path.join(root, ".moss", "root", "3"))).toBe("3");
    expect(fs.existsSync(path.join(root, ".moss", "root", ".moss-transaction"))).toBe(false);
  });

  test("a root that is not a moss state is left alone", () => {
    const plain = path.join(work, "plain");
    fs.mkdirSync(path.join(plain, "usr"), { recursive: true });
    const result = runScript(plain, "1");
    expect(result.status).toBe(0);
    expect(result.stderr).toContain("has no .stateID");
    expect(fs.readdirSync(plain)).toEqual(["usr"]);
  });
});

// Mounting needs root (CI runs as root, as the VM tests do).
describe.skipIf(process.getuid?.() !== 0)("moss-fstx.sh on a read-only root", () => {
  // Its own tmpfs, so that remounting it never touches the filesystem the tests run on.
  const mountPoint = path.join(work, "ro-root");
  let mounted = false;
  beforeAll(() => {
    fs.mkdirSync(mountPoint);
    const mount = spawnSync("mount", ["-t", "tmpfs", "-o", "size=512m", "moss-fstx-test", mountPoint]);
    if (mount.status !== 0) throw new Error(`mount tmpfs: ${mount.stderr}`);
    mounted = true;
    makeRoot(mountPoint);
    expect(spawnSync("mount", ["-o", "remount,ro", mountPoint]).status).toBe(0);
  }, 120_000);
  afterAll(() => {
    if (mounted) spawnSync("umount", [mountPoint]);
  });

  test("it is made writable for the rollback and read-only again after", () => {
    const result = runScript(mountPoint, "1");
    expect(result.status).toBe(0);
    expect(snapshot(path.join(mountPoint, "usr"))).toEqual(trees.get("1")!);
    const options = fs.readFileSync("/proc/mounts", "utf8").split("\n").find((line) => line.split(" ")[1] === mountPoint)!.split(" ")[3]!;
    expect(options.split(",")).toContain("ro");
  });
});

test("scripts/install-dracut-module.sh puts the binary, script, unit and module where spec §6.1 says", () => {
  const dest = path.join(work, "dest");
  const result = spawnSync("sh", [path.join(ROOT, "scripts", "install-dracut-module.sh")], { encoding: "utf8", env: { ...process.env, DESTDIR: dest } });
  expect(result.status).toBe(0);
  const modes = Object.fromEntries(
    ["usr/bin/moss", "usr/lib/moss/moss-fstx.sh", "usr/lib/systemd/system/moss-fstx.service", "usr/lib/dracut/modules.d/90moss/module-setup.sh"]
      .map((file) => [file, (fs.statSync(path.join(dest, file)).mode & 0o777).toString(8)]),
  );
  expect(modes).toEqual({
    "usr/bin/moss": "755",
    "usr/lib/moss/moss-fstx.sh": "755",
    "usr/lib/systemd/system/moss-fstx.service": "644",
    "usr/lib/dracut/modules.d/90moss/module-setup.sh": "755",
  });
  expect(fs.readFileSync(path.join(dest, "usr/bin/moss")).equals(fs.readFileSync(ensureBinary()))).toBe(true);
});
