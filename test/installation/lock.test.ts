import { afterAll, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { InstallationError, openInstallation, type Installation } from "../../src/installation/index.ts";

const temp = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), "moss-lock-"));
const LOCK_CHILD = path.join(import.meta.dir, "lock-child.ts");
const opened: Installation[] = [];

afterAll(() => {
  for (const installation of opened) installation.unlock();
  fs.rmSync(temp, { recursive: true, force: true });
});

function freshRoot(name: string): string {
  const root = path.join(temp, name);
  fs.mkdirSync(root);
  return root;
}

function open(root: string, cacheDir?: string): Installation {
  const installation = openInstallation(root, { cacheDir });
  opened.push(installation);
  return installation;
}

/** A child process locking `root`; collects its stdout lines as they come. */
function lockingChild(root: string, mode: "exclusive" | "shared", cacheDir?: string) {
  const args = [process.execPath, LOCK_CHILD, root, mode, ...(cacheDir === undefined ? [] : [cacheDir])];
  const child = Bun.spawn(args, { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
  const lines: string[] = [];
  const waiters: { line: string; resolve: () => void }[] = [];
  void (async () => {
    let buffered = "";
    for await (const chunk of child.stdout) {
      buffered += new TextDecoder().decode(chunk);
      let newline: number;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        lines.push(buffered.slice(0, newline));
        buffered = buffered.slice(newline + 1);
      }
      for (const waiter of waiters) if (lines.includes(waiter.line)) waiter.resolve();
    }
  })();
  return {
    lines,
    /** Resolves when the child has printed `line` (or rejects if it exits first). */
    printed(line: string): Promise<void> {
      if (lines.includes(line)) return Promise.resolve();
      return Promise.race([
        new Promise<void>((resolve) => waiters.push({ line, resolve })),
        child.exited.then(async (code) => {
          await Bun.sleep(50);
          if (!lines.includes(line)) throw new Error(`child exited ${code} before printing ${line}: ${await new Response(child.stderr).text()}`);
        }),
      ]);
    },
    async finish(): Promise<number> {
      await child.stdin.end();
      return child.exited;
    },
  };
}

test("a second process blocks on the lock, says so once, and proceeds when it is released", async () => {
  const root = freshRoot("contended");
  const holder = open(root);
  const waits: string[] = [];
  holder.lock((message) => waits.push(message));
  expect(waits).toEqual([]);
  expect(fs.existsSync(path.join(root, ".moss", ".moss-lockfile"))).toBe(true);

  const child = lockingChild(root, "exclusive");
  await child.printed("wait: Blocking another process is using the moss root");
  await Bun.sleep(300);
  expect(child.lines).toEqual(["wait: Blocking another process is using the moss root"]);
  holder.unlock();
  await child.printed("locked");
  expect(child.lines).toEqual(["wait: Blocking another process is using the moss root", "locked"]);
  expect(await child.finish()).toBe(0);
}, 20_000);

test("an uncontended lock never reports waiting and keeps the lockfile's content", async () => {
  const root = freshRoot("free");
  fs.mkdirSync(path.join(root, ".moss"));
  fs.writeFileSync(path.join(root, ".moss", ".moss-lockfile"), "left by someone");
  const child = lockingChild(root, "exclusive");
  await child.printed("locked");
  expect(child.lines).toEqual(["locked"]);
  expect(await child.finish()).toBe(0);
  expect(fs.readFileSync(path.join(root, ".moss", ".moss-lockfile"), "utf8")).toBe("left by someone");
}, 20_000);

test("with --cache the cache dir is locked too, with its own message", async () => {
  const cache = freshRoot("shared-cache");
  const rootA = freshRoot("cache-user-a");
  const rootB = freshRoot("cache-user-b");
  const holder = open(rootA, cache);
  holder.lock();
  expect(fs.existsSync(path.join(cache, ".moss-lockfile"))).toBe(true);

  // Root B itself is free, so the only thing B can wait for is the cache dir A holds.
  const child = lockingChild(rootB, "exclusive", cache);
  await child.printed("wait: Blocking another process is using the cache dir");
  holder.unlock();
  await child.printed("locked");
  expect(child.lines).toEqual(["wait: Blocking another process is using the cache dir", "locked"]);
  expect(await child.finish()).toBe(0);
}, 20_000);

test("readers share the lock; a writer waits for them", async () => {
  const root = freshRoot("readers");
  const reader = open(root);
  reader.lock(undefined, "shared");
  const otherReader = lockingChild(root, "shared");
  await otherReader.printed("locked");
  expect(otherReader.lines).toEqual(["locked"]);
  const writer = lockingChild(root, "exclusive");
  await writer.printed("wait: Blocking another process is using the moss root");
  reader.unlock();
  await Bun.sleep(200);
  expect(writer.lines).not.toContain("locked");
  expect(await otherReader.finish()).toBe(0);
  await writer.printed("locked");
  expect(await writer.finish()).toBe(0);
}, 20_000);

test("locking the same root twice in one process is refused instead of deadlocking", () => {
  const root = freshRoot("twice");
  const first = open(root);
  first.lock();
  first.lock(); // the same installation again: nothing to do
  expect(first.locked).toBe(true);

  const second = open(root);
  let error: unknown;
  try {
    second.lock();
  } catch (caught) {
    error = caught;
  }
  expect(error).toBeInstanceOf(InstallationError);
  expect((error as InstallationError).code).toBe("INSTALLATION_LOCK");
  expect((error as InstallationError).message).toContain("already locked by this process");
  expect(second.locked).toBe(false);

  first.unlock();
  second.lock();
  expect(second.locked).toBe(true);
  second.unlock();
});

test("a forced read-only installation cannot take the write lock", () => {
  const root = freshRoot("read-only-lock");
  const installation = openInstallation(root, { readOnly: true });
  expect(() => installation.lock()).toThrow(expect.objectContaining({ code: "INSTALLATION_READ_ONLY" }));
  // No lockfile exists, so a shared lock has nothing to wait for and creates nothing.
  installation.lock(undefined, "shared");
  expect(installation.locked).toBe(false);
  expect(fs.existsSync(path.join(root, ".moss"))).toBe(false);
});

test("switching between shared and exclusive needs an unlock first", () => {
  const root = freshRoot("switch-mode");
  const installation = open(root);
  installation.lock(undefined, "shared");
  installation.lock(undefined, "shared");
  expect(() => installation.lock()).toThrow("is already locked shared, not exclusive");
  installation.unlock();
  installation.lock();
  expect(installation.locked).toBe(true);
  installation.unlock();
});
