/**
 * Recovery after a crash, a kill or a power cut (spec §3.21, "recommended" column), run under
 * the lock before any command changes the root. It reads what the disk says — the journal, the
 * live `/usr/.stateID`, what is left in staging, the archives and the state rows — and returns
 * the root to a clean shape with the same state active:
 *
 * - a tree in staging that belongs to the state a journal was creating, and never went live:
 *   discarded with its state row;
 * - any other tree in staging with a state id, not the active one and not archived: archived
 *   (the previous tree after a swap, or a state caught mid-activation);
 * - anything else in staging (a half blit, a duplicate): trashed;
 * - a state row a journal created that never went live: deleted.
 */
import fs from "node:fs";
import path from "node:path";
import type { Databases } from "../db/index.ts";
import { checkRootLinks, ensureRootLinks, readStateId, type Installation } from "../installation/index.ts";
import { clearJournal, fsyncDirectory, readJournal } from "./journal.ts";
import { moveToTrash } from "./trash.ts";

export interface RecoveryReport {
  /** What was done, one line each, for `-v` and for the tests. */
  actions: string[];
}

export function recover(installation: Installation, dbs: Databases): RecoveryReport {
  const { rootsDir, stagingDir } = installation;
  const actions: string[] = [];
  const journal = readJournal(rootsDir);
  const active = installation.activeStateId;
  const stagedUsr = path.join(stagingDir, "usr");

  if (fs.existsSync(stagedUsr) || isSymlink(stagedUsr)) {
    const staged = readStateId(stagedUsr);
    const freshFromJournal = journal?.kind === "new-state" && staged === journal.stateId && staged !== active;
    if (staged !== undefined && staged !== active && !freshFromJournal && dbs.state.exists(staged) && !archived(installation, staged)) {
      const archive = installation.archivePath(staged);
      fs.mkdirSync(archive, { recursive: true, mode: 0o755 });
      fs.renameSync(stagedUsr, path.join(archive, "usr"));
      fsyncDirectory(archive);
      actions.push(`archived the tree of state ${staged} found in staging`);
    } else {
      moveToTrash(rootsDir, stagedUsr);
      actions.push(staged === undefined ? "discarded an unfinished tree from staging" : `discarded the tree of state ${staged} from staging`);
    }
  }
  // Root links and other leftovers of an unfinished blit or of a Rust `state verify` (spec §9 #11).
  for (const name of safeReaddir(stagingDir)) {
    moveToTrash(rootsDir, path.join(stagingDir, name));
    actions.push(`removed ${name} left in staging`);
  }

  if (journal?.kind === "new-state" && journal.stateId !== active && !archived(installation, journal.stateId) && dbs.state.exists(journal.stateId)) {
    dbs.state.remove([journal.stateId]);
    actions.push(`deleted state ${journal.stateId}, which never became active`);
  }
  // A run killed between the swap and the root links left a live state without /bin, /lib64…
  if (active !== undefined && checkRootLinks(installation.root).length === 0) {
    const made = ensureRootLinks(installation.root);
    if (made.length > 0) actions.push(`restored the root links ${made.join(", ")}`);
  }
  if (journal) {
    clearJournal(rootsDir);
    fsyncDirectory(rootsDir);
  }
  return { actions };
}

function archived(installation: Installation, stateId: number): boolean {
  return readStateId(path.join(installation.archivePath(stateId), "usr")) === stateId;
}

function isSymlink(file: string): boolean {
  try {
    return fs.lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}
