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
import { err, out, warn } from "../ui/output.ts";
import { readSystemModel, SYSTEM_MODEL_FILE, type SystemModel } from "../model/system-model.ts";

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
  /** `/etc/moss/system-model.kdl` when the root has one (spec §1.2 step 6), or `sync --import`'s file. */
  model: SystemModel | undefined;
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
  // A model that does not parse stops every command (spec §1.2): nothing may act on half a truth.
  const model = await readSystemModel(path.join(installation.root, SYSTEM_MODEL_FILE));
  if (model) noticeModel(model, opts.verbose ?? false);
  const dbs = openDatabases(installation.dbDir, { readonly: !installation.mutable });
  if (write) {
    const report = recover(installation, dbs);
    if (opts.verbose) for (const action of report.actions) err(`recovery: ${action}`);
    cleanLeftovers({ assetsDir: installation.assetsDir, tempDir: path.join(installation.cacheDir, "content") });
  }
  return {
    installation,
    dbs,
    model,
    close() {
      if (write) emptyTrash(installation.rootsDir, warn);
      dbs.close();
      if (write) installation.unlock();
    },
  };
}

/** The notice Rust prints whenever a model is active (spec §1.2 step 7), on stderr. */
function noticeModel(model: SystemModel, verbose: boolean): void {
  const first = `INFO: ${JSON.stringify(model.file)} is present & therefore active.`;
  if (model.disableWarning) {
    if (verbose) err(first);
    return;
  }
  err([
    first,
    "Hence:",
    "- The system-model is the source of truth and defines all",
    "  repositories & installed packages.",
    "- Any changes made via `moss` commands will be temporary",
    "  until the system-model is updated.",
    "- The system state can be reverted to match the system-model state",
    "  by doing a `moss sync`.",
    `- To disable the system-model, remove or rename ${JSON.stringify(model.file)}.`,
  ].join("\n"));
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
