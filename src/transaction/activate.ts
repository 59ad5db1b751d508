/**
 * Activating an archived state (spec §4.6 `state activate`): three renames and nothing else, so
 * that it runs from the initramfs with only the binary, libc and the root, in milliseconds.
 *
 *   journal → rename /.moss/root/<N> onto the empty staging → EXCHANGE staging/usr with /usr →
 *   archive the old tree as /.moss/root/<old>/usr → fsync the directories → clear journal
 *
 * At every instant each state's tree is in exactly one place: the archive, staging or /usr;
 * recovery puts a tree found in staging back into its archive.
 */
import fs from "node:fs";
import path from "node:path";
import type { Databases } from "../db/index.ts";
import { readStateId, type Installation } from "../installation/index.ts";
import { renameExchange } from "../linux/index.ts";
import { withSignalsHeld } from "./critical.ts";
import { faultPoint, pausePoint } from "./faults.ts";
import { clearJournal, fsyncDirectory, writeJournal } from "./journal.ts";
import { TransactionError } from "./new-state.ts";
import { emptyDirectory } from "./trash.ts";

export interface ActivationResult {
  activated: number;
  archived: number;
}

export async function activateState(installation: Installation, dbs: Databases, stateId: number): Promise<ActivationResult> {
  const { root, rootsDir, stagingDir } = installation;
  if (!dbs.state.exists(stateId)) throw new TransactionError("STATE_MISSING", `state ${stateId} doesn't exist`);
  const previous = installation.activeStateId;
  if (previous === undefined) throw new TransactionError("NO_ACTIVE_STATE", "root must have an active state");
  if (previous === stateId) throw new TransactionError("STATE_ACTIVE", `state ${stateId} already active`);
  const archive = installation.archivePath(stateId);
  const archivedUsr = path.join(archive, "usr");
  const archivedId = readStateId(archivedUsr);
  if (archivedId !== stateId) {
    throw new TransactionError(
      "ARCHIVE_MISSING",
      archivedId === undefined
        ? `state ${stateId} has no archived tree at ${archivedUsr}`
        : `the tree archived at ${archivedUsr} belongs to state ${archivedId}, not ${stateId}`,
    );
  }
  const usr = path.join(root, "usr");

  emptyDirectory(rootsDir, stagingDir);
  writeJournal(rootsDir, { kind: "activate", stateId, previous, pid: process.pid });
  faultPoint("activate-journal-written");
  await withSignalsHeld(`activating state ${stateId}`, async () => {
    // rename(2) replaces an empty directory: the archive directory becomes staging.
    fs.renameSync(archive, stagingDir);
    faultPoint("activate-moved");
    renameExchange(path.join(stagingDir, "usr"), usr);
    faultPoint("activate-swapped");
    await pausePoint("activate-swapped");
    const oldArchive = installation.archivePath(previous);
    fs.mkdirSync(oldArchive, { recursive: true, mode: 0o755 });
    fs.renameSync(path.join(stagingDir, "usr"), path.join(oldArchive, "usr"));
    faultPoint("activate-archived");
    for (const dir of [root, rootsDir, stagingDir, oldArchive]) fsyncDirectory(dir);
    clearJournal(rootsDir);
  });
  installation.activeStateId = stateId;
  return { activated: stateId, archived: previous };
}
