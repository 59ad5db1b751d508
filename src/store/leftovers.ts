/**
 * What interrupted unpacks leave behind (spec §3.21, §9 item 15), removed by recovery before a
 * new transaction: `.part` files under `assets/v2` whose writer is gone, and everything in the
 * content temp directory. A `.part` of a writer still running is left alone.
 */
import fs from "node:fs";
import { errnoOf, storeIoError } from "./errors.ts";
import { assetsV2Dir } from "./paths.ts";
import { sweep, type SweepResult } from "./sweep.ts";
import type { StoreDirs } from "./unpack.ts";

/** `<asset>.<pid>-<thread>-<n>.part`, as asset-writer.ts names them. */
const OUR_PART = /\.(\d+)-\d+-\d+\.part$/;

export function cleanLeftovers(store: StoreDirs): SweepResult {
  const processStart = performance.timeOrigin;
  const parts = sweep(assetsV2Dir(store.assetsDir), (file, name) => !name.endsWith(".part") || !isStalePart(file, name, processStart));
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
