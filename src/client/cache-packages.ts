/**
 * Caching packages for a transaction: fetching them into the download cache, unpacking them into
 * the content store and recording their layouts and metadata (spec §3.5–3.7), while the tree of
 * the new state is built and, for an update, blitted beside it.
 */
import path from "node:path";
import { LAYOUT_BATCH_ROWS } from "../constants.ts";
import type { PackageLayout } from "../db/index.ts";
import { MossError } from "../errors.ts";
import type { Candidate } from "../registry/candidates.ts";
import { PayloadKind, StoneReader } from "../stone/index.ts";
import { unpackAll, UnpackFeed } from "../store/index.ts";
import type { BlitSummary, StagedBlit } from "../transaction/blit.ts";
import { faultPoint } from "../transaction/faults.ts";
import type { StageContext } from "../transaction/new-state.ts";
import { profileMark } from "../transaction/profile.ts";
import { SelectionTree } from "../transaction/selection-tree.ts";
import type { Vfs, VfsRow } from "../vfs/index.ts";
import { downloadDestination, fetchPackages } from "./fetch.ts";
import type { InstallHooks } from "./install.ts";
import type { Session } from "./session.ts";

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
