/**
 * What interrupted unpacks leave behind (spec §3.21, §9 item 15), removed by recovery before a
 * new transaction: `.part` files under `assets/v2` whose writer is gone, and everything in the
 * content temp directory. A `.part` of a writer still running is left alone. The store is only
 * walked when its writer markers say a writer may have died with parts on disk (writers.ts).
 */
import fs from "node:fs";
import { errnoOf, storeIoError } from "./errors.ts";
import { assetsV2Dir } from "./paths.ts";
import { recordSweep, scanWriters } from "./writers.ts";
import { sweep, type SweepResult } from "./sweep.ts";
import type { StoreDirs } from "./unpack.ts";

/** `<asset>.<pid>-<thread>-<n>.part`, as asset-writer.ts names them. */
const OUR_PART = /\.(\d+)-\d+-\d+\.part$/;

export function cleanLeftovers(store: StoreDirs): SweepResult {
  const processStart = performance.timeOrigin;
  const v2Dir = assetsV2Dir(store.assetsDir);
  const writers = scanWriters(v2Dir, processStart);
  let parts: SweepResult = { removed: 0, bytes: 0 };
  if (!writers.swept || writers.stale.length > 0) {
    let kept = 0;
    parts = sweep(v2Dir, (file, name) => {
      if (!name.endsWith(".part")) return true;
      const keep = !isStalePart(file, name, processStart);
      if (keep) kept++;
      return keep;
    });
    recordSweep(v2Dir, writers.stale, kept === 0);
  }
  const temp = sweep(store.tempDir, () => false);
  return { removed: parts.removed + temp.removed, bytes: parts.bytes + temp.bytes };
}

/**
 * A part is stale when its writer cannot be running: the pid in its name is dead, or is ours but
 * the file predates this process (a reused pid). A part without our naming (Rust writes
 * `<asset>.part`) is stale once it is older than this process; the root lock keeps another moss
 * from writing beside us.
 */
function isStalePart(file: string, name: string, processStart: number): boolean {
  const pid = Number(OUR_PART.exec(name)?.[1] ?? 0);
  // kill(0) would probe our own process group: a pid of 0 falls back to the age test.
  if (pid > 0 && pid !== process.pid) return !processAlive(pid);
  try {
    return fs.lstatSync(file).mtimeMs < processStart;
  } catch (error) {
    if (errnoOf(error) === "ENOENT") return false;
    throw storeIoError("cannot inspect", file, error);
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return errnoOf(error) === "EPERM";
  }
}
