import { afterAll, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { flock, SyscallError } from "../../src/linux/index.ts";

const temp = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), "moss-linux-flock-"));
const HOLD_LOCK = path.join(import.meta.dir, "hold-lock.ts");
const openFds: number[] = [];

afterAll(() => {
  for (const fd of openFds) fs.closeSync(fd);
  fs.rmSync(temp, { recursive: true, force: true });
});

function open(file: string): number {
  const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
  openFds.push(fd);
  return fd;
}

/** A child process holding `mode` on `file`; resolves once it has the lock. */
async function holder(file: string, mode: "exclusive" | "shared") {
  const child = Bun.spawn([process.execPath, HOLD_LOCK, file, mode], { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
  const reader = child.stdout.getReader();
  const gotLock = (async () => {
    let text = "";
    while (!text.includes("held\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`holder exited without the lock (exit ${await child.exited})`);
      text += new TextDecoder().decode(value);
    }
  })();
  return {
    gotLock,
    async release() {
      await child.stdin.end();
      await child.exited;
    },
  };
}

test("nonBlocking returns false while another process holds the lock, true once it is gone", async () => {
  const file = path.join(temp, "held-elsewhere");
  const child = await holder(file, "exclusive");
  await child.gotLock;
  const fd = open(file);
  expect(flock(fd, "exclusive", { nonBlocking: true })).toBe(false);
  expect(flock(fd, "shared", { nonBlocking: true })).toBe(false);
  await child.release();
  expect(flock(fd, "exclusive", { nonBlocking: true })).toBe(true);
  expect(flock(fd, "unlock")).toBe(true);
}, 20_000);

test("shared locks coexist; an exclusive one waits for them", async () => {
  const file = path.join(temp, "shared");
  const child = await holder(file, "shared");
  await child.gotLock;
  const fd = open(file);
  expect(flock(fd, "shared", { nonBlocking: true })).toBe(true);
  expect(flock(fd, "unlock")).toBe(true);
  expect(flock(fd, "exclusive", { nonBlocking: true })).toBe(false);
  await child.release();
}, 20_000);

test("a blocking flock waits until the holder lets go", async () => {
  const file = path.join(temp, "blocking");
  const fd = open(file);
  expect(flock(fd, "exclusive")).toBe(true);
  const child = await holder(file, "exclusive");
  let childGotIt = false;
  void child.gotLock.then(() => (childGotIt = true));
  await Bun.sleep(300);
  expect(childGotIt).toBe(false);
  flock(fd, "unlock");
  await child.gotLock;
  expect(flock(fd, "exclusive", { nonBlocking: true })).toBe(false);
  await child.release();
}, 20_000);

test("a closed descriptor fails with EBADF as a SyscallError", () => {
  const fd = fs.openSync(path.join(temp, "closed"), "w");
  fs.closeSync(fd);
  let error: unknown;
  try {
    flock(fd, "exclusive", { nonBlocking: true });
  } catch (caught) {
    error = caught;
  }
  expect(error).toBeInstanceOf(SyscallError);
  expect((error as SyscallError).errnoName).toBe("EBADF");
  expect((error as SyscallError).message).toBe(`flock fd ${fd} (exclusive): Bad file descriptor (EBADF)`);
});
