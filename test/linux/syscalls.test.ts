import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { errnoName, errnoNumber, errnoOf, ficlone, fsyncPath, setNofileToHard, syncfs, SyscallError } from "../../src/linux/index.ts";
import { thrownBy } from "../helpers/errors.ts";

const temp = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), "moss-linux-sys-"));
const LINUX_INDEX = path.resolve(import.meta.dir, "../../src/linux/index.ts");

afterAll(() => fs.rmSync(temp, { recursive: true, force: true }));

const caught = (fn: () => unknown): SyscallError => thrownBy(SyscallError, fn);

function filesystemType(dir: string): string {
  return spawnSync("stat", ["-f", "-c", "%T", dir], { encoding: "utf8" }).stdout.trim();
}

describe("ficlone", () => {
  test("clones where the filesystem has reflinks, else throws a SyscallError with a named errno", () => {
    // This VM's /tmp is ext4 ("ext2/ext3" to stat), which has no reflinks; btrfs and xfs clone.
    const reflinks = ["btrfs", "xfs", "bcachefs"].includes(filesystemType(temp));
    fs.writeFileSync(path.join(temp, "clone-src"), "payload");
    const src = fs.openSync(path.join(temp, "clone-src"), "r");
    const dest = fs.openSync(path.join(temp, "clone-dest"), "w");
    try {
      if (reflinks) {
        ficlone(dest, src);
        expect(fs.readFileSync(path.join(temp, "clone-dest"), "utf8")).toBe("payload");
        return;
      }
      const error = caught(() => ficlone(dest, src));
      expect(["EOPNOTSUPP", "EXDEV", "EINVAL"]).toContain(error.errnoName);
      expect(error.syscall).toBe("ioctl(FICLONE)");
      expect(error.message).toMatch(/^ioctl\(FICLONE\) fd \d+ from fd \d+: .+ \(E[A-Z]+\)$/);
      expect(fs.readFileSync(path.join(temp, "clone-dest"), "utf8")).toBe("");
    } finally {
      fs.closeSync(src);
      fs.closeSync(dest);
    }
  });

  test("a source not open for reading is EBADF", () => {
    const src = fs.openSync(path.join(temp, "wo-src"), "w");
    const dest = fs.openSync(path.join(temp, "wo-dest"), "w");
    try {
      expect(caught(() => ficlone(dest, src)).errnoName).toBe("EBADF");
    } finally {
      fs.closeSync(src);
      fs.closeSync(dest);
    }
  });
});

describe("syncfs and fsyncPath", () => {
  test("syncfs accepts a directory descriptor", () => {
    const fd = fs.openSync(temp, fs.constants.O_RDONLY);
    try {
      expect(() => syncfs(fd)).not.toThrow();
    } finally {
      fs.closeSync(fd);
    }
  });

  test("syncfs on a closed descriptor is EBADF", () => {
    const fd = fs.openSync(temp, fs.constants.O_RDONLY);
    fs.closeSync(fd);
    expect(caught(() => syncfs(fd)).errnoName).toBe("EBADF");
  });

  test("fsyncPath syncs files and directories", () => {
    const file = path.join(temp, "synced");
    fs.writeFileSync(file, "x");
    expect(() => fsyncPath(file)).not.toThrow();
    expect(() => fsyncPath(temp)).not.toThrow();
  });

  test("fsyncPath of a missing path is a SyscallError for open, ENOENT", () => {
    const missing = path.join(temp, "missing");
    const error = caught(() => fsyncPath(missing));
    expect(error.syscall).toBe("open");
    expect(error.errnoName).toBe("ENOENT");
    expect(error.paths).toEqual([missing]);
    expect(error.message).toBe(`open "${missing}": No such file or directory (ENOENT)`);
  });
});

describe("setNofileToHard", () => {
  test("leaves soft equal to hard, as /proc/self/limits shows", () => {
    const limits = setNofileToHard();
    expect(limits.soft).toBe(limits.hard);
    const line = fs.readFileSync("/proc/self/limits", "utf8").split("\n").find((l) => l.startsWith("Max open files"))!;
    const [soft, hard] = line.split(/\s+/).slice(3, 5).map((v) => (v === "unlimited" ? Infinity : Number(v)));
    expect({ soft, hard }).toEqual(limits);
  });

  test("raises a lowered soft limit in a child process", () => {
    // Bun raises the soft limit itself at start-up, so the child lowers it (via prlimit) before calling us.
    const script = `import { setNofileToHard } from ${JSON.stringify(LINUX_INDEX)};
      import { spawnSync } from "node:child_process";
      const hard = setNofileToHard().hard;
      spawnSync("prlimit", ["--pid", String(process.pid), "--nofile=256:" + hard]);
      const lowered = require("node:fs").readFileSync("/proc/self/limits", "utf8").match(/Max open files\\s+(\\d+)/)[1];
      console.log(lowered, JSON.stringify(setNofileToHard()), hard);`;
    const result = spawnSync(process.execPath, ["-e", script], { encoding: "utf8" });
    expect(result.stderr).toBe("");
    const [lowered, after, hard] = result.stdout.trim().split(" ");
    expect(lowered).toBe("256");
    expect(JSON.parse(after!)).toEqual({ soft: Number(hard), hard: Number(hard) });
  });
});

describe("errno names", () => {
  test("agree with every errno node knows", () => {
    for (const [name, number] of Object.entries(os.constants.errno)) {
      expect(`${name}=${errnoNumber(name)}`).toBe(`${name}=${number}`);
      const canonical = errnoName(number);
      expect(errnoNumber(canonical)).toBe(number);
    }
    expect(errnoName(18)).toBe("EXDEV");
    expect(errnoName(95)).toBe("EOPNOTSUPP");
    expect(errnoName(117)).toBe("EUCLEAN");
    expect(errnoName(41)).toBe("errno 41");
    expect(errnoNumber("EWOULDBLOCK")).toBe(11);
    expect(errnoNumber("NOT_AN_ERRNO")).toBeUndefined();
  });

  test("errnoOf reads both our errors and node's", () => {
    let nodeError: unknown;
    try {
      fs.readFileSync(path.join(temp, "nothing-here"));
    } catch (error) {
      nodeError = error;
    }
    expect(errnoOf(nodeError)).toBe("ENOENT");
    expect(errnoOf(new SyscallError({ syscall: "x", errno: 18, subject: "y" }))).toBe("EXDEV");
    expect(errnoOf(new Error("plain"))).toBeUndefined();
    expect(errnoOf("ENOENT")).toBeUndefined();
  });
});

test("src/linux imports bun:ffi only at first call (type imports and require aside)", () => {
  const transpiler = new Bun.Transpiler({ loader: "ts" });
  const dir = path.dirname(LINUX_INDEX);
  for (const file of fs.readdirSync(dir)) {
    const imports = transpiler.scanImports(fs.readFileSync(path.join(dir, file), "utf8"));
    expect(imports.filter((i) => i.kind === "import-statement" && i.path.startsWith("bun:"))).toEqual([]);
  }
  const libc = transpiler.scanImports(fs.readFileSync(path.join(dir, "libc.ts"), "utf8"));
  expect(libc).toContainEqual({ kind: "require-call", path: "bun:ffi" });
});
