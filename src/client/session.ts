/**
 * One command's view of a root: the installation opened (spec §1.2), the lock taken for commands
 * that change it (spec §3.22), the databases open, and — before anything else is changed — the
 * root recovered from whatever a crashed or killed run left behind.
 */
import fs from "node:fs";
import path from "node:path";
import { openDatabases, type Databases } from "../db/index.ts";
import { openInstallation, readActiveStateId, type Installation } from "../installation/index.ts";
import { cleanLeftovers } from "../store/index.ts";
import { journalPath } from "../transaction/journal.ts";
import { recover } from "../transaction/recovery.ts";
import { emptyTrash } from "../transaction/trash.ts";
import { err, out } from "../ui/output.ts";

export interface SessionOptions {
  root: string;
  cacheDir?: string;
  /** The command changes the root: take the lock and recover first. */
  write: boolean;
  verbose?: boolean;
}

export interface Session {
  installation: Installation;
  dbs: Databases;
  /** Finish: empty the trash (outside any timed or critical work), close the databases, unlock. */
  close(): void;
}

export async function openSession(opts: SessionOptions): Promise<Session> {
  const installation = openInstallation(opts.root, { cacheDir: opts.cacheDir });
  // A reader that finds a crashed run's leftovers repairs them first when it may: otherwise it
  // would report a state that recovery is about to take back.
  const write = opts.write || (installation.mutable && interrupted(installation));
  if (write) {
    installation.lock((message) => out(message));
    // Another writer may have switched states while this one waited for the lock.
    installation.activeStateId = readActiveStateId(installation.root);
  }
  const dbs = openDatabases(installation.dbDir, { readonly: !installation.mutable });
  if (write) {
    const report = recover(installation, dbs);
    if (opts.verbose) for (const action of report.actions) err(`recovery: ${action}`);
    cleanLeftovers({ assetsDir: installation.assetsDir, tempDir: path.join(installation.cacheDir, "content") });
  }
  return {
    installation,
    dbs,
    close() {
      if (write) emptyTrash(installation.rootsDir, (message) => err(`Warning: ${message}`));
      dbs.close();
      if (write) installation.unlock();
    },
  };
}

/** Cheap signs of an interrupted transaction: a journal, or anything left in staging. */
function interrupted(installation: Installation): boolean {
  if (fs.existsSync(journalPath(installation.rootsDir))) return true;
  try {
    return fs.readdirSync(installation.stagingDir).length > 0;
  } catch {
    return false;
  }
}
