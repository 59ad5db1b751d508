/**
 * Trees that must go (a half-built staging, a superseded tree) are first renamed into
 * `/.moss/root/.trash/` — instant and atomic — and deleted only when the command's real work is
 * done: deleting a big tree on a `discard`-mounted disk costs more than installing one, and a
 * crash mid-delete must never leave a half-deleted tree where a state is expected.
 */
import fs from "node:fs";
import path from "node:path";

export const TRASH_NAME = ".trash";

export function moveToTrash(rootsDir: string, victim: string): void {
  const trash = path.join(rootsDir, TRASH_NAME);
  fs.mkdirSync(trash, { recursive: true });
  fs.renameSync(victim, path.join(trash, `${path.basename(victim)}-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`));
}

/** Delete everything in the trash (errors other than "already gone" are reported, not thrown). */
export function emptyTrash(rootsDir: string, warn: (message: string) => void = () => {}, onProgress?: (done: number, total: number) => void): void {
  const trash = path.join(rootsDir, TRASH_NAME);
  let names: string[];
  try {
    names = fs.readdirSync(trash);
  } catch {
    return;
  }
  for (const [i, name] of names.entries()) {
    onProgress?.(i, names.length);
    try {
      fs.rmSync(path.join(trash, name), { recursive: true, force: true });
    } catch (error) {
      warn(`could not delete ${path.join(trash, name)}: ${(error as Error).message}`);
    }
  }
  onProgress?.(names.length, names.length);
  // Not part of the layout of spec §1.1: leave nothing behind once it is empty.
  try {
    fs.rmdirSync(trash);
  } catch {
    // something could not be deleted (warned above), or another run is using it
  }
}

/** Make `dir` an existing, empty directory, moving anything in it to the trash. */
export function emptyDirectory(rootsDir: string, dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  for (const name of fs.readdirSync(dir)) moveToTrash(rootsDir, path.join(dir, name));
}
