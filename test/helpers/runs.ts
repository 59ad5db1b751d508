/**
 * For tests that race or kill the real binary: runs that go on in the background, a seeded PRNG
 * so "random" instants repeat run after run, who holds a root's lock, and scratch space on a
 * memory filesystem when there is room (a disk with discard takes a minute to delete one root).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Subprocess } from "bun";
import { scratchParent } from "../../scripts/lib/distro.ts";
import { ensureBinary, NO_MACHINE } from "./moss.ts";

export interface BackgroundRun {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  /** Everything it printed, stdout then stderr, once it has exited. */
  output: Promise<string>;
  /** Resolves on the first stdout chunk that contains `text` (never, if it never prints it). */
  printed(text: string): Promise<void>;
}

/** Start the binary without waiting for it; stdout and stderr are drained as they come. */
export function startMoss(args: string[], env: Record<string, string> = {}): BackgroundRun {
  const proc = Bun.spawn([ensureBinary(), ...args], {
    env: { ...process.env, NO_COLOR: "1", MOSS_BOOT_HOST: NO_MACHINE, ...env }, stdin: "ignore", stdout: "pipe", stderr: "pipe",
  });
  let stdout = "";
  const waiters: { text: string; resolve: () => void }[] = [];
  const drainStdout = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stdout) {
      stdout += decoder.decode(chunk, { stream: true });
      for (const waiter of waiters.filter((w) => stdout.includes(w.text))) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  })();
  const stderr = new Response(proc.stderr).text();
  return {
    proc,
    output: Promise.all([drainStdout, stderr, proc.exited]).then(([, err]) => stdout + err),
    printed: (text) => new Promise<void>((resolve) => (stdout.includes(text) ? resolve() : waiters.push({ text, resolve }))),
  };
}

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Pids holding an flock on `file`, from /proc/locks (Linux). Lets a test wait until a run really
 * owns the root rather than guessing with a sleep.
 */
export function flockHolders(file: string): number[] {
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  if (!stat) return [];
  const pids: number[] = [];
  for (const line of fs.readFileSync("/proc/locks", "utf8").split("\n")) {
    // "1: FLOCK  ADVISORY  WRITE 1234 fd:00:5678 0 EOF" (blocked waiters have "->" after the number)
    const fields = line.trim().split(/\s+/);
    if (fields[1] !== "FLOCK") continue;
    const [, , , , pid, device] = fields;
    const inode = device?.split(":")[2];
    if (pid && inode !== undefined && BigInt(inode) === BigInt(stat.ino)) pids.push(Number(pid));
  }
  return pids;
}

/**
 * A fresh directory on the scratch filesystem make-distro uses (/dev/shm when writable) if it has
 * `bytes` free, else in the usual temp dir.
 */
export function scratchTempDir(prefix: string, bytes: number): string {
  const parent = scratchParent();
  try {
    const free = fs.statfsSync(parent);
    if (free.bavail * free.bsize >= bytes) return fs.mkdtempSync(path.join(fs.realpathSync(parent), prefix));
  } catch {
    // No statfs for it: fall through to the ordinary temp dir.
  }
  return fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), prefix));
}

/** A tree snapshot with another `/usr/.stateID` (a re-run after a discarded attempt gets a new id). */
export function withStateId(tree: Map<string, string>, id: string): Map<string, string> {
  const copy = new Map(tree);
  copy.set(".stateID", `f 644 ${Bun.hash.xxHash3(id).toString(16)}`);
  return copy;
}
