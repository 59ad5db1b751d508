import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { probeRenameExchange, renameExchange, renameNoReplace, SyscallError } from "../../src/linux/index.ts";
import { thrownBy } from "../helpers/errors.ts";

const temp = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), "moss-linux-rename-"));
const isRoot = process.geteuid?.() === 0;
let tmpfs: string | undefined;

beforeAll(() => {
  if (!isRoot) return;
  const mountPoint = path.join(temp, "tmpfs");
  fs.mkdirSync(mountPoint);
  const result = spawnSync("mount", ["-t", "tmpfs", "-o", "size=1m", "moss-test", mountPoint], { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`mount tmpfs: ${result.stderr}`);
  tmpfs = mountPoint;
});

afterAll(() => {
  if (tmpfs !== undefined) spawnSync("umount", [tmpfs]);
  fs.rmSync(temp, { recursive: true, force: true });
});

function makeTree(dir: string, file: string, content: string): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, file), content);
}

const caught = (fn: () => unknown): SyscallError => thrownBy(SyscallError, fn);

describe("renameExchange", () => {
  test("swaps the contents of two directories", () => {
    const a = path.join(temp, "swap-a");
    const b = path.join(temp, "swap-b");
    makeTree(a, "from-a", "A");
    makeTree(path.join(b, "nested"), "from-b", "B");
    const inodeA = fs.statSync(a).ino;
    renameExchange(a, b);
    expect(fs.readdirSync(a)).toEqual(["nested"]);
    expect(fs.readFileSync(path.join(a, "nested", "from-b"), "utf8")).toBe("B");
    expect(fs.readdirSync(b)).toEqual(["from-a"]);
    expect(fs.statSync(b).ino).toBe(inodeA);
  });

  test("swaps a directory with a file", () => {
    const dir = path.join(temp, "mixed-dir");
    const file = path.join(temp, "mixed-file");
    makeTree(dir, "inside", "x");
    fs.writeFileSync(file, "plain");
    renameExchange(dir, file);
    expect(fs.readFileSync(dir, "utf8")).toBe("plain");
    expect(fs.readdirSync(file)).toEqual(["inside"]);
  });

  test("a missing side fails with ENOENT and names both paths", () => {
    const a = path.join(temp, "lonely");
    const b = path.join(temp, "absent");
    makeTree(a, "f", "");
    const error = caught(() => renameExchange(a, b));
    expect(error.code).toBe("SYSCALL");
    expect(error.syscall).toBe("renameat2");
    expect(error.errnoName).toBe("ENOENT");
    expect(error.errno).toBe(2);
    expect(error.paths).toEqual([a, b]);
    expect(error.message).toBe(`renameat2 "${a}" <-> "${b}": No such file or directory (ENOENT)`);
    expect(fs.readdirSync(a)).toEqual(["f"]);
  });

  test.skipIf(!isRoot)("across filesystems fails with EXDEV and changes nothing", () => {
    const onDisk = path.join(temp, "disk-usr");
    const onTmpfs = path.join(tmpfs!, "tmpfs-usr");
    makeTree(onDisk, "disk", "1");
    makeTree(onTmpfs, "mem", "2");
    const error = caught(() => renameExchange(onDisk, onTmpfs));
    expect(error.errnoName).toBe("EXDEV");
    expect(error.errno).toBe(18);
    expect(error.message).toBe(`renameat2 "${onDisk}" <-> "${onTmpfs}": Invalid cross-device link (EXDEV)`);
    expect(fs.readdirSync(onDisk)).toEqual(["disk"]);
    expect(fs.readdirSync(onTmpfs)).toEqual(["mem"]);
  });

  test.skipIf(!isRoot)("works within a tmpfs", () => {
    const a = path.join(tmpfs!, "a");
    const b = path.join(tmpfs!, "b");
    makeTree(a, "1", "");
    makeTree(b, "2", "");
    renameExchange(a, b);
    expect(fs.readdirSync(a)).toEqual(["2"]);
  });

  test("a path with a NUL byte is refused with EINVAL before reaching the kernel", () => {
    const error = caught(() => renameExchange(path.join(temp, "a\0b"), temp));
    expect(error.errnoName).toBe("EINVAL");
  });

  test("the raw syscall path (used where libc lacks renameat2) exchanges too", () => {
    const a = path.join(temp, "raw-a");
    const b = path.join(temp, "raw-b");
    makeTree(a, "from-a", "");
    makeTree(b, "from-b", "");
    const script = `import { renameExchange, renameNoReplace } from ${JSON.stringify(path.resolve(import.meta.dir, "../../src/linux/index.ts"))};
      import { libc } from ${JSON.stringify(path.resolve(import.meta.dir, "../../src/linux/libc.ts"))};
      renameExchange(process.env.A, process.env.B);
      try { renameNoReplace(process.env.A, process.env.B); } catch (e) { console.log(e.errnoName); }
      console.log(libc().renameat2 === undefined ? "raw" : "wrapper");`;
    const result = spawnSync(process.execPath, ["-e", script], {
      encoding: "utf8", env: { ...process.env, MOSS_LINUX_RAW_RENAMEAT2: "1", A: a, B: b },
    });
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe("EEXIST\nraw\n");
    expect(fs.readdirSync(a)).toEqual(["from-b"]);
  });
});

describe("renameNoReplace", () => {
  test("moves when the destination is free", () => {
    const from = path.join(temp, "nr-from");
    const to = path.join(temp, "nr-to");
    makeTree(from, "f", "moved");
    renameNoReplace(from, to);
    expect(fs.existsSync(from)).toBe(false);
    expect(fs.readFileSync(path.join(to, "f"), "utf8")).toBe("moved");
  });

  test("fails with EEXIST as a SyscallError and leaves both sides alone", () => {
    const from = path.join(temp, "nr-src");
    const to = path.join(temp, "nr-dst");
    fs.writeFileSync(from, "new");
    fs.writeFileSync(to, "old");
    const error = caught(() => renameNoReplace(from, to));
    expect(error.errnoName).toBe("EEXIST");
    expect(error.message).toBe(`renameat2 "${from}" -> "${to}": File exists (EEXIST)`);
    expect(fs.readFileSync(from, "utf8")).toBe("new");
    expect(fs.readFileSync(to, "utf8")).toBe("old");
  });
});

describe("probeRenameExchange", () => {
  test("passes where exchange works and leaves nothing behind", () => {
    const dir = path.join(temp, "probe");
    fs.mkdirSync(dir);
    probeRenameExchange(dir);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  test("a directory it cannot use is reported with node's errno, and nothing is left", () => {
    // No filesystem on this VM lacks RENAME_EXCHANGE (ext2 is served by ext4), so only setup fails here.
    const notADir = path.join(temp, "probe-file");
    fs.writeFileSync(notADir, "");
    let error: unknown;
    try {
      probeRenameExchange(notADir);
    } catch (caught) {
      error = caught;
    }
    expect((error as NodeJS.ErrnoException).code).toBe("ENOTDIR");
    const busy = path.join(temp, "probe-busy");
    fs.mkdirSync(busy);
    fs.writeFileSync(path.join(busy, `.moss-exchange-probe-${process.pid}-b`), "someone else's");
    expect(() => probeRenameExchange(busy)).toThrow(expect.objectContaining({ code: "EEXIST" }));
    expect(fs.readdirSync(busy)).toEqual([`.moss-exchange-probe-${process.pid}-b`]);
  });
});
