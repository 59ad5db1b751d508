/**
 * Triggers through the real binary (spec §5): packages ship trigger files; transaction triggers
 * run in the container on the new tree before it goes live, system triggers after the swap (in a
 * container too, for a root that is not `/`). The handlers are busybox-static's shell, packaged.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { moss, tempDir } from "../helpers/moss.ts";
import { tinyStone } from "../helpers/packages.ts";

const work = tempDir("moss-triggers-");
const files: Record<string, string> = {};
let server: ReturnType<typeof Bun.serve>;
let serverHits = 0;

/** busybox-static from Debian (root installs it when missing): a shell that needs no library in the container. */
function busybox(): string {
  const found = Bun.which("busybox");
  if (found && spawnSync("sh", ["-c", `file -L ${found} 2>/dev/null | grep -q static || ldd ${found} 2>&1 | grep -q 'not a dynamic'`]).status === 0) return found;
  spawnSync("apt-get", ["install", "-y", "--no-install-recommends", "busybox-static"], { env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" }, stdio: "ignore" });
  const installed = Bun.which("busybox");
  if (!installed) throw new Error("busybox-static is needed for the trigger tests and could not be installed");
  return installed;
}

const yaml = (value: unknown) => JSON.stringify(value, null, 2);

beforeAll(async () => {
  server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => {
    serverHits++;
    return new Response("reached");
  } });
  const dir = path.join(work, "packages");
  fs.mkdirSync(dir);
  files.busybox = await tinyStone(dir, { name: "busybox", files: { "bin/busybox": fs.readFileSync(busybox()) }, modes: { "bin/busybox": 0o755 } });
  files.fonts = await tinyStone(dir, { name: "fonts", files: { "share/fonts/dejavu.ttf": "a", "share/fonts/noto.ttf": "b" } });
  const probe = [
    "echo $(name) >> /usr/share/fonts/fonts.cache",
    "ls /home > /usr/share/probe-home 2>&1; echo $? >> /usr/share/probe-home",
    "ls /var > /usr/share/probe-var 2>&1; echo $? >> /usr/share/probe-var",
    `wget -q -T 3 -O - http://127.0.0.1:${server.port}/ > /usr/share/probe-net 2>&1; echo $? >> /usr/share/probe-net`,
    "touch /etc/written-by-tx > /usr/share/probe-etc 2>&1; echo $? >> /usr/share/probe-etc",
  ].join("; ");
  files.fontTrigger = await tinyStone(dir, { name: "font-trigger", files: { "share/moss/triggers/tx.d/fonts.yaml": yaml({
    name: "font-cache", description: "Rebuild the font cache",
    paths: { "/usr/share/fonts/(name:*).ttf": { handlers: ["cache"] } },
    handlers: { cache: { run: "/usr/bin/busybox", args: ["sh", "-c", probe] } },
  }) } });
  files.sysTrigger = await tinyStone(dir, { name: "sys-trigger", files: { "share/moss/triggers/sys.d/mark.yaml": yaml({
    name: "mark", description: "Note which state the system runs",
    paths: { "/usr/bin/busybox": { handlers: ["mark"] } },
    handlers: { mark: { run: "/usr/bin/busybox", args: ["sh", "-c", "cat /usr/.stateID > /etc/sys-trigger-saw-state"] } },
  }) } });
  files.broken = await tinyStone(dir, { name: "broken-trigger", files: { "share/moss/triggers/tx.d/broken.yaml": yaml({
    name: "broken", description: "Fails, loudly",
    paths: { "/usr/bin/busybox": { handlers: ["fail"] } },
    handlers: { fail: { run: "/usr/bin/busybox", args: ["sh", "-c", "echo 'cache rebuild failed: disk on fire' >&2; exit 3"] } },
  }) } });
  files.missing = await tinyStone(dir, { name: "missing-handler", files: { "share/moss/triggers/tx.d/missing.yaml": yaml({
    name: "missing", description: "Its program is not there",
    paths: { "/usr/bin/busybox": { handlers: ["run"] } },
    handlers: { run: { run: "/usr/bin/not-installed", args: [] } },
  }) } });
});
afterAll(() => {
  server?.stop(true);
  fs.rmSync(work, { recursive: true, force: true });
});

let serial = 0;
function newRoot(): { root: string; run: (...args: string[]) => ReturnType<typeof moss> } {
  const root = path.join(work, `root-${serial++}`);
  fs.mkdirSync(root);
  return { root, run: (...args) => moss(["-D", root, "-y", ...args]) };
}

const read = (file: string) => fs.readFileSync(file, "utf8");

describe("triggers", () => {
  test("a transaction trigger writes a cache into the new /usr from inside a container that cannot see /home, /var, the network or write /etc", async () => {
    const { root, run } = newRoot();
    const installed = run("install", files.busybox!, files.fonts!, files.fontTrigger!);
    expect(installed.stderr).toBe("");
    expect(installed.status).toBe(0);
    const usr = path.join(root, "usr");
    // One handler per captured name, in order, deduplicated.
    expect(read(path.join(usr, "share", "fonts", "fonts.cache"))).toBe("dejavu\nnoto\n");
    expect(read(path.join(usr, "share", "probe-home"))).toMatch(/No such file or directory\n1\n$/);
    expect(read(path.join(usr, "share", "probe-var"))).toMatch(/No such file or directory\n1\n$/);
    expect(read(path.join(usr, "share", "probe-net")).trim().split("\n").at(-1)).not.toBe("0");
    expect(serverHits).toBe(0);
    expect(read(path.join(usr, "share", "probe-etc"))).toMatch(/Read-only file system\n1\n$/);
    expect(fs.existsSync(path.join(root, "etc", "written-by-tx"))).toBe(false);

    // The cache is part of the state: the next state archives it with the tree.
    expect(run("install", files.sysTrigger!).status).toBe(0);
    expect(read(path.join(root, ".moss", "root", "1", "usr", "share", "fonts", "fonts.cache"))).toBe("dejavu\nnoto\n");
  });

  test("install --to runs the triggers on the root it makes", () => {
    const { root, run } = newRoot();
    const to = path.join(work, `ephemeral-${serial++}`);
    const made = run("install", "--to", to, files.busybox!, files.fonts!, files.fontTrigger!);
    expect(made.stderr).toBe("");
    expect(made.status).toBe(0);
    expect(read(path.join(to, "usr", "share", "fonts", "fonts.cache"))).toBe("dejavu\nnoto\n");
    expect(fs.existsSync(path.join(root, "usr"))).toBe(false);
  });

  test("a system trigger runs after the swap, on the state that just went live", () => {
    const { root, run } = newRoot();
    expect(run("install", files.busybox!, files.sysTrigger!).status).toBe(0);
    expect(read(path.join(root, "etc", "sys-trigger-saw-state"))).toBe("1");
    expect(run("install", files.fonts!).status).toBe(0);
    expect(read(path.join(root, "etc", "sys-trigger-saw-state"))).toBe("2");
    // Activation runs system triggers only, and on the state activated.
    expect(run("state", "activate", "1").status).toBe(0);
    expect(read(path.join(root, "etc", "sys-trigger-saw-state"))).toBe("1");
  });

  test("a handler that fails shows its output and the transaction goes on", () => {
    const { root, run } = newRoot();
    const installed = run("install", files.busybox!, files.broken!);
    expect(installed.status).toBe(0);
    expect(installed.stderr).toContain("Warning: trigger broken: /usr/bin/busybox sh -c echo 'cache rebuild failed: disk on fire' >&2; exit 3 exited with status 3:\n  cache rebuild failed: disk on fire\n");
    expect(read(path.join(root, "usr", ".stateID"))).toBe("1");
  });

  test("a handler whose program is missing fails the transaction before the swap: the old state stays active", () => {
    const { root, run } = newRoot();
    expect(run("install", files.busybox!).status).toBe(0);
    const failed = run("install", files.missing!);
    expect(failed.status).toBe(1);
    expect(failed.stdout).toContain("Error: trigger missing: cannot run /usr/bin/not-installed");
    expect(read(path.join(root, "usr", ".stateID"))).toBe("1");
    expect(fs.existsSync(path.join(root, "usr", "share", "moss", "triggers", "tx.d", "missing.yaml"))).toBe(false);
    // The next command finds no half-made state: state 1 is the only one.
    const states = JSON.parse(moss(["-D", root, "state", "list", "--json"]).stdout) as { id: number }[];
    expect(states.map((s) => s.id)).toEqual([1]);
  });
});
