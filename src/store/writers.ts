/**
 * Who may have `.part` files under `assets/v2`, so that cleaning up after a crash does not have to
 * walk the whole store on every command (2.3 s for 57,000 assets, most of a `state activate`).
 *
 * A writer (one thread of one process) creates `v2/.moss-unpack-<pid>-<thread>` before its first
 * `.part` and deletes it once every part it made is renamed or removed. After a full sweep that
 * left no part behind, `v2/.moss-parts-swept` says: every `.part` under v2 belongs to a writer
 * whose marker exists. So cleanLeftovers sweeps again only when that stamp is missing or some
 * marker's writer is gone (it crashed). Both live inside v2, the one place of `/.moss` that is
 * ours to fill: an asset GC (ours or Rust's) that deletes them only costs one more full sweep.
 * Rust moss knows nothing of this; it holds the root lock while it unpacks and leaves its own
 * `.part` files to its GC (spec §9 item 15).
 */
import fs from "node:fs";
import { threadId } from "node:worker_threads";
import { errnoOf, storeIoError } from "./errors.ts";

const MARKER_PREFIX = ".moss-unpack-";
const MARKER = /^\.moss-unpack-(\d+)-(\d+)$/;
export const SWEPT_STAMP = ".moss-parts-swept";

/** Unpacks of this thread writing now, per assets directory. */
const writing = new Map<string, number>();

/** Before the first `.part` of an unpack; pair with `endWriting` in a finally. */
export function beginWriting(v2Dir: string): void {
  const count = writing.get(v2Dir) ?? 0;
  writing.set(v2Dir, count + 1);
  if (count > 0) return;
  const marker = `${v2Dir}/${MARKER_PREFIX}${process.pid}-${threadId}`;
  try {
    fs.mkdirSync(v2Dir, { recursive: true });
    fs.closeSync(fs.openSync(marker, "w", 0o644));
  } catch (error) {
    writing.set(v2Dir, count);
    throw storeIoError("cannot create", marker, error);
  }
}

/** After this unpack's parts are all published or removed. */
export function endWriting(v2Dir: string): void {
  const count = (writing.get(v2Dir) ?? 1) - 1;
  if (count > 0) {
    writing.set(v2Dir, count);
    return;
  }
  writing.delete(v2Dir);
  fs.rmSync(`${v2Dir}/${MARKER_PREFIX}${process.pid}-${threadId}`, { force: true });
}

export interface WriterScan {
  /** The stamp of a clean sweep is there. */
  swept: boolean;
  /** Markers whose writer cannot be running any more: their parts may be left over. */
  stale: string[];
}

/** What the markers beside v2 say; `processStart` tells our own old pid's markers from ours. */
export function scanWriters(v2Dir: string, processStart: number): WriterScan {
  let names: string[];
  try {
    names = fs.readdirSync(v2Dir);
  } catch (error) {
    if (errnoOf(error) === "ENOENT") return { swept: false, stale: [] };
    throw storeIoError("cannot list", v2Dir, error);
  }
  const stale: string[] = [];
  for (const name of names) {
    const match = MARKER.exec(name);
    if (match && !writerRunning(v2Dir, name, Number(match[1]), Number(match[2]), processStart)) stale.push(`${v2Dir}/${name}`);
  }
  return { swept: names.includes(SWEPT_STAMP), stale };
}

/** After a full sweep: forget the writers it cleaned up after and, if nothing was left, stamp it. */
export function recordSweep(v2Dir: string, stale: readonly string[], clean: boolean): void {
  for (const marker of stale) fs.rmSync(marker, { force: true });
  const stamp = `${v2Dir}/${SWEPT_STAMP}`;
  try {
    if (clean) {
      // An empty store is stamped too (v2 made for it): else the command after a first install
      // would walk the whole new store (measured: 1.3 s of a 0.1 s `repo update`).
      fs.mkdirSync(v2Dir, { recursive: true });
      fs.closeSync(fs.openSync(stamp, "w", 0o644));
    } else fs.rmSync(stamp, { force: true });
  } catch (error) {
    throw storeIoError("cannot write", stamp, error);
  }
}

function writerRunning(v2Dir: string, name: string, pid: number, thread: number, processStart: number): boolean {
  if (pid === process.pid) {
    if (thread === threadId) return writing.has(v2Dir);
    // Another thread of ours, or a process before us that had our pid.
    try {
      return fs.statSync(`${v2Dir}/${name}`).mtimeMs >= processStart;
    } catch {
      return false;
    }
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return errnoOf(error) === "EPERM";
  }
}
