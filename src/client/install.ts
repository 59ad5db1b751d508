/**
 * `moss install` (spec §4.2), with what Rust cannot do: local `.stone` files install directly
 * (spec §9 #34). Names and providers resolve among the installed set (preferred), the given
 * files, then the enabled repositories by priority; repository packages are fetched into the
 * download cache before they are unpacked.
 */
import fs from "node:fs";
import path from "node:path";
import { LAYOUT_BATCH_ROWS } from "../constants.ts";
import type { PackageLayout } from "../db/index.ts";
import { MossError } from "../errors.ts";
import { CandidateSource, firstProviding, providerText, type Candidate } from "../registry/candidates.ts";
import { findConflicts, Transaction } from "../registry/transaction.ts";
import { ensureRootLinks, writeOsRelease } from "../installation/index.ts";
import { unpackAll, UnpackFeed } from "../store/index.ts";
import { blitVfs, chooseStrategy, type BlitSummary, type StagedBlit } from "../transaction/blit.ts";
import type { Vfs, VfsRow } from "../vfs/index.ts";
import { PayloadKind, StoneReader } from "../stone/index.ts";
import { SelectionTree } from "../transaction/selection-tree.ts";
import { runTriggers, vfsPaths } from "../triggers/run.ts";
import { faultPoint } from "../transaction/faults.ts";
import { profileMark } from "../transaction/profile.ts";
import { applyNewState, type NewStateResult, type StageContext } from "../transaction/new-state.ts";
import { downloadDestination, fetchPackages, type FetchHooks } from "./fetch.ts";
import { installedSource, isStonePath, readLocalStone } from "./packages.ts";
import { availableSources } from "./repositories.ts";
import { modelForState } from "./state-model.ts";
import type { Session } from "./session.ts";

export interface InstallPlan {
  /** Every package the transaction selected, sorted by name (what an ephemeral root gets). */
  resolved: Candidate[];
  /** Resolved packages that are not installed yet, sorted by name. */
  missing: Candidate[];
  /** Requested packages that are installed already. */
  alreadyInstalled: Candidate[];
  requestedIds: Set<string>;
  installed: CandidateSource;
}

export async function planInstall(session: Session, args: string[]): Promise<InstallPlan> {
  const installed = installedSource(session.installation, session.dbs);
  const local: Candidate[] = [];
  for (const arg of args) {
    if (!isStonePath(arg)) continue;
    const candidate = await readLocalStone(arg);
    const same = local.find((c) => c.id === candidate.id);
    if (same && same.path !== candidate.path) {
      throw new MossError("DUPLICATE_PACKAGE", `${same.path} and ${candidate.path} are both ${candidate.id}: give one of them`);
    }
    if (!same) local.push(candidate);
  }
  // Local files first: naming a file is asking for exactly that package.
  const sources = [new CandidateSource("local", local), ...(await availableSources(session))];

  const requestedIds = new Set<string>();
  const alreadyInstalled: Candidate[] = [];
  for (const arg of args) {
    if (isStonePath(arg)) {
      const file = path.resolve(arg);
      requestedIds.add(local.find((c) => c.path === file)!.id);
      continue;
    }
    const provider = providerText(arg);
    const pick = firstProviding(sources, provider);
    if (pick) requestedIds.add(pick.id);
    else {
      const present = installed.providing(provider)[0];
      if (!present) throw new MossError("NO_PACKAGE", `no package found: ${arg}`);
      alreadyInstalled.push(present);
    }
  }

  const transaction = new Transaction([installed, ...sources]);
  transaction.add(requestedIds);
  const resolved = transaction.finalize();
  // Against everything the new state will hold, not only what this transaction brought in.
  const resolvedIds = new Set(resolved.map((c) => c.id));
  const conflicts = findConflicts([...resolved, ...installed.all().filter((c) => !resolvedIds.has(c.id))]);
  if (conflicts.length > 0) throw new MossError("PACKAGE_CONFLICT", `conflicting packages: ${conflicts.join("; ")}`);
  const installedNames = new Set(installed.all().map((c) => c.meta.name));
  const missing = sortByName(resolved.filter((c) => !installedNames.has(c.meta.name)));
  for (const candidate of resolved) {
    if (requestedIds.has(candidate.id) && installedNames.has(candidate.meta.name) && !alreadyInstalled.includes(candidate)) {
      alreadyInstalled.push(installed.providing(`name(${candidate.meta.name})`)[0] ?? candidate);
    }
  }
  return { resolved: sortByName(resolved), missing, alreadyInstalled: dedupeByName(alreadyInstalled), requestedIds, installed };
}

export interface InstallHooks extends FetchHooks {
  onCached?: (candidate: Candidate, result: { written: number; reused: number }) => void;
  onBlitProgress?: (done: number, total: number) => void;
}

/** Cache every missing package into the store and databases, then build and activate the new state. */
export async function applyInstall(session: Session, plan: InstallPlan, hooks: InstallHooks = {}): Promise<NewStateResult> {
  const previous = plan.installed.all().map((c) => ({ packageId: c.id, explicit: c.explicit ?? false, reason: null }));
  const added = plan.missing.map((c) => ({ packageId: c.id, explicit: plan.requestedIds.has(c.id), reason: null }));
  const selections = [...added, ...previous];
  const names = new Map([...plan.missing, ...plan.installed.all()].map((c) => [c.id, `${c.meta.name} (${c.meta.version}-${c.meta.release})`]));
  const describe = (id: string) => names.get(id) ?? id;
  const explicit = [...plan.missing.filter((c) => plan.requestedIds.has(c.id)), ...plan.installed.all().filter((c) => c.explicit)];
  const systemModel = await modelForState(session, explicit);
  const selectedIds = selections.map((s) => s.packageId);
  return applyNewState(session.installation, session.dbs, selections, {
    summary: "Install",
    systemModel,
    onBlitProgress: hooks.onBlitProgress,
    stage: (context) => cacheAndStage(session, plan.missing, selectedIds, describe, hooks, context),
  });
}

/**
 * The StageTree of an install or sync: cache `packages` and blit the selection `selectedIds`
 * into staging. When the selection keeps installed packages, their part of the tree does not
 * wait for the new ones: once every package file is here (fetched and checked), the new
 * packages' layouts are read from the files, the whole tree is built, and its directories,
 * symlinks and kept files are blitted by worker threads while the new packages unpack; only
 * the new packages' files wait for their assets. (The 10% update of the 65,000-file bench made
 * 5,200 assets and then linked 71,000 entries, one after the other.) A fresh install has
 * nothing to blit early and takes its tree from the database after caching, as cacheWithTree
 * says why.
 */
export async function cacheAndStage(
  session: Session,
  packages: Candidate[],
  selectedIds: readonly string[],
  describe: (packageId: string) => string,
  hooks: InstallHooks,
  context: StageContext,
): Promise<{ vfs: Vfs; blit: BlitSummary }> {
  const caching = new Set(packages.map((c) => c.id));
  if (packages.length === 0 || selectedIds.every((id) => caching.has(id))) {
    const vfs = await cacheWithTree(session, packages, selectedIds, describe, hooks);
    faultPoint("cached");
    return { vfs, blit: context.startBlit(vfs).finish() };
  }
  const tree = new SelectionTree(session.dbs.layout, selectedIds, caching, { describe });
  const run = startCaching(session, packages, hooks, { workersOnly: true });
  let blit: StagedBlit | undefined;
  try {
    await run.fetched;
    profileMark("fetched");
    const vfs = await tree.finishWith(layoutRows(packages, run.paths));
    profileMark("vfs finish");
    blit = context.startBlit(vfs, (entry) => entry.kind === "regular" && caching.has(entry.packageId!));
    profileMark("blit started");
    await run.done;
    profileMark("rest of the unpack");
    faultPoint("cached");
    return { vfs, blit: blit.finish() };
  } catch (error) {
    blit?.abandon();
    await tree.abandon();
    await run.settled;
    throw error;
  }
}

/** The layout rows of `packages`, read from their files in the order caching records them. */
function* layoutRows(packages: readonly Candidate[], paths: readonly string[]): Generator<VfsRow> {
  for (const [index, candidate] of packages.entries()) {
    using reader = StoneReader.open(paths[index]!);
    for (const record of reader.records(PayloadKind.Layout).layout) yield { packageId: candidate.id, record };
  }
}

/**
 * Cache `packages` (cachePackages) while the tree of the selection `selectedIds` is built from
 * the layouts already recorded; the cached packages' layouts join it once they are recorded
 * (transaction/selection-tree.ts).
 */
export async function cacheWithTree(
  session: Session,
  packages: Candidate[],
  selectedIds: readonly string[],
  describe: (packageId: string) => string,
  hooks: InstallHooks = {},
): Promise<Vfs> {
  const tree = new SelectionTree(session.dbs.layout, selectedIds, new Set(packages.map((c) => c.id)), { describe });
  try {
    await cachePackages(session, packages, hooks);
  } catch (error) {
    await tree.abandon();
    throw error;
  }
  const vfs = await tree.finish();
  profileMark("vfs finish");
  return vfs;
}

/**
 * `install --to DIR` and `sync --to DIR` (spec §3.20): the resolved packages blitted into DIR as a root of its own,
 * with the host's content store and databases as the cache. No state, no swap, no archive. Rust
 * deletes DIR first; we refuse a DIR that is not empty rather than delete what is in it.
 */
export async function applyEphemeral(
  session: Session,
  plan: Pick<InstallPlan, "resolved" | "installed">,
  dir: string,
  hooks: InstallHooks = {},
): Promise<{ blit: BlitSummary; triggerWarnings: string[] }> {
  const target = path.resolve(dir);
  const { installation } = session;
  if (fs.existsSync(target)) {
    if (fs.realpathSync(target) === installation.root) throw new MossError("EPHEMERAL_ROOT", `--to ${dir} is the installation root itself`);
    if (fs.readdirSync(target).length > 0) throw new MossError("EPHEMERAL_NOT_EMPTY", `--to ${dir} is not empty: give an empty or missing directory`);
  }
  const installedIds = new Set(plan.installed.all().map((c) => c.id));
  const toCache = plan.resolved.filter((c) => !installedIds.has(c.id));
  const names = new Map(plan.resolved.map((c) => [c.id, c.meta.name]));
  const vfs = await cacheWithTree(session, toCache, plan.resolved.map((c) => c.id), (id) => names.get(id) ?? id, hooks);
  fs.mkdirSync(target, { recursive: true, mode: 0o755 });
  const summary = blitVfs(vfs, target, installation.assetsDir, { strategy: chooseStrategy(installation.assetsDir, target), onProgress: hooks.onBlitProgress });
  const usr = path.join(target, "usr");
  fs.mkdirSync(usr, { recursive: true, mode: 0o755 });
  writeOsRelease(usr);
  ensureRootLinks(target);
  fs.mkdirSync(path.join(target, "etc"), { recursive: true, mode: 0o755 });
  // Both scopes run on the new root (spec §5.1), each in the container: it is never the host's `/`.
  const triggerWarnings: string[] = [];
  const warn = (message: string) => triggerWarnings.push(message);
  for (const scope of ["tx", "sys"] as const) {
    await runTriggers({ scope, treeRoot: target, root: target, isolationDir: installation.isolationDir, onHost: false }, () => vfsPaths(vfs), warn);
  }
  return { blit: summary, triggerWarnings };
}

/**
 * Fetch repository packages into the download cache and unpack every package into the content
 * store, then record layouts and metadata (spec §3.5–3.7). A package is unpacked as soon as its
 * file is whole and checked, while later downloads continue. The unpacks run in worker threads,
 * one per core (store/unpack-pool.ts): nearly all their time is the kernel creating files, which
 * runs on every core at once.
 */
export async function cachePackages(session: Session, packages: Candidate[], hooks: InstallHooks = {}): Promise<void> {
  profileMark("plan");
  // Planning read every package's meta payload and resolved: its buffers, collected now, are
  // reused by the unpacks (the same kind of memory) instead of adding to them.
  Bun.gc(true);
  // No full collection afterwards: the unpacks collect every UNPACK_GC_EVERY_BYTES, so at most that
  // much is left, and by now this heap holds the tree being built, which a full collection must
  // mark whole (the 10% update of the 65,000-file bench: ~35 ms of the main thread).
  await startCaching(session, packages, hooks).done;
}

/** A caching under way (startCaching). */
interface CachingRun {
  /** Where each package's file is (or will be, once fetched), in the order of the packages. */
  paths: string[];
  /** Every package file is whole and checked; rejects with the failure of a download. */
  fetched: Promise<void>;
  /** Every package is unpacked and recorded; rejects with the first failure. */
  done: Promise<void>;
  /** `done`, settled either way. */
  settled: Promise<void>;
}

/**
 * Fetch and unpack `packages`, recording their layouts and metadata (cachePackages); the
 * returned promises never go unhandled, whichever of them the caller awaits.
 */
function startCaching(session: Session, packages: Candidate[], hooks: InstallHooks, unpack: { workersOnly?: boolean } = {}): CachingRun {
  const paths: string[] = [];
  let settleFetch: (failure?: { error: unknown }) => void = () => {};
  const fetched = new Promise<void>((resolve, reject) => {
    settleFetch = (failure) => (failure ? reject(failure.error) : resolve());
  });
  const done = unpackAndRecord(session, packages, hooks, paths, settleFetch, unpack.workersOnly ?? false);
  // A run that fails before its downloads settle (a package with no file to install from) ends the wait for them too.
  done.catch((error: unknown) => settleFetch({ error }));
  fetched.catch(() => {});
  const settled = done.then(
    () => {},
    () => {},
  );
  return { paths, fetched, done, settled };
}

async function unpackAndRecord(
  session: Session,
  packages: Candidate[],
  hooks: InstallHooks,
  pathsOut: string[],
  onFetchSettled: (failure: { error: unknown } | undefined) => void,
  workersOnly: boolean,
): Promise<void> {
  const { installation, dbs } = session;
  const store = { assetsDir: installation.assetsDir, tempDir: path.join(installation.cacheDir, "content") };
  const feed = new UnpackFeed();
  const toFetch: Candidate[] = [];
  const paths = packages.map((candidate, index) => {
    if (candidate.path) {
      feed.ready(index);
      return candidate.path;
    }
    if (candidate.source !== "repository") throw new MossError("NOT_LOCAL", `${candidate.meta.name} has no local file to install from`);
    toFetch.push(candidate);
    return downloadDestination(installation.cacheDir, candidate);
  });
  pathsOut.push(...paths);
  const indexOf = new Map(packages.map((candidate, index) => [candidate, index]));
  let unpackFailed = false;
  // Settles without rejecting (a rejection nobody awaits yet would end the process): a failed
  // download fails the feed, and so the unpack, with its error.
  const fetching = fetchPackages(installation.cacheDir, toFetch, {
    ...hooks,
    onFetched: (candidate, outcome) => {
      hooks.onFetched?.(candidate, outcome);
      feed.ready(indexOf.get(candidate)!);
    },
  }, () => unpackFailed).then(
    () => onFetchSettled(undefined),
    (error: unknown) => {
      feed.fail(error);
      onFetchSettled({ error });
    },
  );
  // Layouts go into the database while later packages unpack, in the order of `packages` (the
  // rows' order decides conflicts), a batch at a time: no list of every record is ever held.
  const batch: PackageLayout[] = [];
  let batchRows = 0;
  const recorded: string[] = [];
  const flush = () => {
    dbs.layout.add(batch);
    recorded.push(...batch.map((layout) => layout.id));
    batch.length = 0;
    batchRows = 0;
  };
  try {
    await unpackAll(paths, store, {
      feed,
      workersOnly,
      onUnpacked: (index, result) => {
        const candidate = packages[index]!;
        batch.push({ id: candidate.id, records: result.layout });
        batchRows += result.layout.length;
        if (batchRows >= LAYOUT_BATCH_ROWS) flush();
        hooks.onCached?.(candidate, result);
      },
    });
    flush();
  } catch (error) {
    // Downloads under way finish (into the cache, where they are kept); none starts.
    unpackFailed = true;
    await fetching;
    // A package not installed yet keeps no layout from a failed run; one being re-cached (a
    // repair) keeps the rows it had, which these equal.
    const installedIds = new Set(dbs.install.ids());
    const clutter = recorded.filter((id) => !installedIds.has(id));
    if (clutter.length > 0) dbs.layout.remove(clutter);
    throw error;
  }
  await fetching;
  profileMark("fetch + unpack + db layout add");
  startWriteback(installation.assetsDir);
  dbs.install.add(packages.map((c) => ({ id: c.id, meta: c.meta })));
  profileMark("db install add");
}

/**
 * Start writing the new assets to disk now (`sync -f`: syncfs in a process of its own), while the
 * layouts are recorded and the tree is built and blitted: the syncfs before the new state goes
 * live then finds most of it done (measured: 1.3 s → 0.2 s for 600 MiB). Only a head start:
 * nothing waits for it, and where `sync` cannot run the final syncfs does it all.
 */
function startWriteback(dir: string): void {
  try {
    const child = Bun.spawn(["sync", "-f", dir], { stdio: ["ignore", "ignore", "ignore"] });
    child.unref();
  } catch {
    // no sync(1) here: the syncfs before the swap writes everything anyway
  }
}

export function sortByName(candidates: Candidate[]): Candidate[] {
  return [...candidates].sort((a, b) => (a.meta.name < b.meta.name ? -1 : a.meta.name > b.meta.name ? 1 : 0));
}

function dedupeByName(candidates: Candidate[]): Candidate[] {
  const seen = new Map<string, Candidate>();
  for (const c of candidates) if (!seen.has(c.meta.name)) seen.set(c.meta.name, c);
  return sortByName([...seen.values()]);
}
