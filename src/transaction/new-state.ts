/**
 * A new state, from selections to a live `/usr` (spec §3.8–§3.17), ordered so that a crash at
 * any instant leaves the old state or the new one active and every archived state intact:
 *
 *   journal → blit staging (caching the new packages meanwhile) → .stateID, os-release →
 *   syncfs → state row → EXCHANGE with /usr → fsync → archive the old tree → root links →
 *   clear journal
 *
 * Before the exchange nothing live has changed, and recovery discards the half-made state (its
 * journal names it). After the exchange the new state is live and complete on disk (it was
 * synced first), and recovery archives whatever tree is left in staging. Rust records the state
 * before triggers and never removes it on failure, and deletes an unarchived old tree on the
 * next blit (spec §9 items 4 and 5); neither can happen here.
 */
import fs from "node:fs";
import path from "node:path";
import type { Databases, Selection } from "../db/index.ts";
import { MossError } from "../errors.ts";
import { checkRootLinks, ensureRootLinks, readStateId, writeFileAtomic, writeOsRelease, writeStateId, type Installation } from "../installation/index.ts";
import { probeRenameExchange, renameExchange, syncfs } from "../linux/index.ts";
import { buildVfs, type Vfs, type VfsEntry } from "../vfs/index.ts";
import { chooseStrategy, startBlit, type BlitSummary, type StagedBlit } from "./blit.ts";
import { withSignalsHeld } from "./critical.ts";
import { faultPoint, pausePoint } from "./faults.ts";
import { profileMark } from "./profile.ts";
import { runTriggers, vfsPaths } from "../triggers/run.ts";
import { RECORDED_MODEL_FILE } from "../model/system-model.ts";
import { clearJournal, fsyncDirectory, writeJournal } from "./journal.ts";
import { emptyDirectory, moveToTrash } from "./trash.ts";

export class TransactionError extends MossError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = "TransactionError";
  }
}

export interface NewStateOptions {
  summary: string;
  /** A human name for a package id in error messages (conflicts). */
  describe?: (packageId: string) => string;
  /**
   * Makes the tree in staging itself, once the journal names it: an install or sync caches its
   * packages here, blitting what is already in the store meanwhile. Default: blit the
   * selection's tree, read from the layout database.
   */
  stage?: StageTree;
  /** The system model this state records in `usr/lib/system-model.kdl` (spec §6.3). */
  systemModel?: string;
  onBlitProgress?: (done: number, total: number) => void;
}

/** What a StageTree gets: the blit of a tree into staging. */
export interface StageContext {
  /** Start blitting `vfs` into staging; the regular files `defer` picks wait for `finish`. */
  startBlit(vfs: Vfs, defer?: (entry: VfsEntry) => boolean): StagedBlit;
}

export type StageTree = (context: StageContext) => Promise<{ vfs: Vfs; blit: BlitSummary }>;

export interface NewStateResult {
  stateId: number;
  previous: number | undefined;
  blit: BlitSummary;
  /** What the triggers said that a user must see: failed handlers (with their output) and skipped trigger files. */
  triggerWarnings: string[];
}

export async function applyNewState(
  installation: Installation,
  dbs: Databases,
  selections: Selection[],
  opts: NewStateOptions,
): Promise<NewStateResult> {
  const { root, stagingDir, rootsDir, assetsDir } = installation;
  const usr = path.join(root, "usr");
  const previous = installation.activeStateId;

  // Everything that can be refused is refused before anything is written (spec §9 items 6–8).
  preflight(installation, usr, previous);
  profileMark("preflight");
  let stage = opts.stage;
  if (!stage) {
    const vfs = selectionVfs(dbs, selections, opts.describe);
    stage = async (context) => ({ vfs, blit: context.startBlit(vfs).finish() });
  }

  const stateId = dbs.state.nextId();
  emptyDirectory(rootsDir, stagingDir);
  writeJournal(rootsDir, { kind: "new-state", stateId, previous: previous ?? null, pid: process.pid });
  faultPoint("journal-written");

  const strategy = chooseStrategy(assetsDir, stagingDir);
  profileMark("journal, strategy probe");
  const context: StageContext = {
    startBlit: (tree, defer) => startBlit(tree, stagingDir, assetsDir, { strategy, defer, onProgress: opts.onBlitProgress }),
  };
  let staged: { vfs: Vfs; blit: BlitSummary };
  try {
    staged = await stage(context);
  } catch (error) {
    discardStaging(rootsDir, stagingDir);
    throw error;
  }
  const { vfs, blit } = staged;
  profileMark("blit");
  faultPoint("blitted");
  const newUsr = path.join(stagingDir, "usr");
  fs.mkdirSync(newUsr, { recursive: true, mode: 0o755 }); // a state with no packages still has a /usr
  writeStateId(newUsr, stateId);
  writeOsRelease(newUsr);
  if (opts.systemModel !== undefined) {
    const modelFile = path.join(stagingDir, RECORDED_MODEL_FILE);
    fs.mkdirSync(path.dirname(modelFile), { recursive: true, mode: 0o755 });
    writeFileAtomic(modelFile, opts.systemModel);
  }
  fs.mkdirSync(path.join(root, "etc"), { recursive: true, mode: 0o755 });
  faultPoint("metadata-written");
  profileMark("tree metadata");

  // Transaction triggers complete the new tree (caches inside /usr) in a container, before it is
  // made durable and goes live: one that cannot be started fails here, leaving the old state.
  const triggerWarnings: string[] = [];
  const warn = (message: string) => triggerWarnings.push(message);
  await runTriggers({ scope: "tx", treeRoot: stagingDir, root, isolationDir: installation.isolationDir, onHost: false }, () => vfsPaths(vfs), warn);
  profileMark("transaction triggers");
  faultPoint("triggers-done");

  syncTree(stagingDir);
  profileMark("syncfs");
  faultPoint("staging-synced");

  const recorded = dbs.state.add(opts.summary, selections);
  if (recorded !== stateId) {
    // Only another writer ignoring the lock could cause this; keep the tree truthful anyway.
    writeStateId(newUsr, recorded);
    syncTree(stagingDir);
  }
  profileMark("state row");
  faultPoint("state-recorded");

  await withSignalsHeld("switching to the new state", async () => {
    fs.mkdirSync(usr, { recursive: true, mode: 0o755 });
    renameExchange(newUsr, usr);
    faultPoint("swapped");
    await pausePoint("swapped");
    fsyncDirectory(root);
    fsyncDirectory(stagingDir);
    faultPoint("swap-synced");

    const oldUsr = path.join(stagingDir, "usr");
    if (previous !== undefined) {
      const archive = installation.archivePath(previous);
      fs.mkdirSync(archive, { recursive: true, mode: 0o755 });
      fs.renameSync(oldUsr, path.join(archive, "usr"));
      fsyncDirectory(archive);
      fsyncDirectory(stagingDir);
    } else {
      // First state: the old /usr was empty (preflight refused anything else).
      moveToTrash(rootsDir, oldUsr);
    }
    faultPoint("archived");
    ensureRootLinks(root);
    faultPoint("links-done");
    clearJournal(rootsDir);
  });
  profileMark("swap + archive");
  installation.activeStateId = recorded;
  await runSystemTriggers(installation, () => vfsPaths(vfs), warn);
  return { stateId: recorded, previous, blit, triggerWarnings };
}

/**
 * System triggers act on the system the new tree now runs (sysusers, tmpfiles, reloads): on the
 * host for `/`, in a container for any other root. The state is live already, so every problem,
 * a handler that cannot even start included, is a warning.
 */
export async function runSystemTriggers(installation: Installation, paths: () => Iterable<string>, warn: (message: string) => void): Promise<void> {
  try {
    const onHost = fs.realpathSync(installation.root) === "/";
    await runTriggers({ scope: "sys", treeRoot: installation.root, root: installation.root, isolationDir: installation.isolationDir, onHost }, paths, warn);
  } catch (error) {
    warn(`system triggers: ${(error as Error).message}`);
  }
  profileMark("system triggers");
}

function preflight(installation: Installation, usr: string, previous: number | undefined) {
  const problems = checkRootLinks(installation.root);
  if (problems.length > 0) {
    throw new TransactionError("ROOT_LINKS", `cannot make the root links: ${problems.join("; ")}`);
  }
  if (previous === undefined && fs.existsSync(usr)) {
    const stateId = readStateId(usr);
    const entries = fs.readdirSync(usr);
    if (stateId === undefined && entries.length > 0) {
      throw new TransactionError(
        "FOREIGN_USR",
        `${usr} holds ${entries.length} entries but no .stateID: it was not made by moss, and installing would move it aside. ` +
          `Move it away yourself, or install into an empty root.`,
      );
    }
  }
  // The exchange cannot cross filesystems: say so now rather than after the blit.
  if (fs.existsSync(usr)) {
    const usrDevice = fs.statSync(usr).dev;
    const stagingDevice = fs.statSync(installation.stagingDir).dev;
    if (usrDevice !== stagingDevice) {
      throw new TransactionError(
        "SWAP_CROSS_DEVICE",
        `${usr} and ${installation.stagingDir} are on different filesystems, so /usr cannot be swapped atomically`,
      );
    }
  }
  // A kernel or filesystem without RENAME_EXCHANGE fails here, before the blit (spec §9 #7).
  probeRenameExchange(installation.rootsDir);
}

/**
 * A new state that failed before anything live changed: its half-made tree goes to the trash and
 * the journal is cleared now, as recovery would do on the next run (which still does it if this
 * cannot).
 */
function discardStaging(rootsDir: string, stagingDir: string): void {
  try {
    emptyDirectory(rootsDir, stagingDir);
    clearJournal(rootsDir);
  } catch {
    // left to recovery: the journal names the state
  }
}

/**
 * The tree of the selected packages' layouts, built as the rows are read: no list of 65,000 rows
 * is held beside the tree, which keeps only what it needs.
 */
function selectionVfs(dbs: Databases, selections: Selection[], describe: ((packageId: string) => string) | undefined): Vfs {
  const vfs = buildVfs(dbs.layout.entries(selections.map((s) => s.packageId)), describe ? { describe } : undefined);
  profileMark("layout read + vfs build");
  return vfs;
}

/** Flush the whole filesystem holding `dir`: the new tree's links and the assets they point to. */
function syncTree(dir: string) {
  const fd = fs.openSync(dir, "r");
  try {
    syncfs(fd);
  } finally {
    fs.closeSync(fd);
  }
}
