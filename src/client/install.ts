/**
 * `moss install` (spec §4.2), with what Rust cannot do: local `.stone` files install directly
 * (spec §9 #34). Names and providers resolve among the given files and the installed set;
 * repositories join the same transaction in a later issue.
 */
import fs from "node:fs";
import path from "node:path";
import { MossError } from "../errors.ts";
import { CandidateSource, providerText, type Candidate } from "../registry/candidates.ts";
import { findConflicts, Transaction } from "../registry/transaction.ts";
import { ensureRootLinks, writeOsRelease } from "../installation/index.ts";
import { unpackToStore } from "../store/index.ts";
import { blitVfs, chooseStrategy, type BlitSummary } from "../transaction/blit.ts";
import { buildVfs } from "../vfs/index.ts";
import { faultPoint } from "../transaction/faults.ts";
import { profileMark } from "../transaction/profile.ts";
import { applyNewState, type NewStateResult } from "../transaction/new-state.ts";
import { installedSource, isStonePath, readLocalStone } from "./packages.ts";
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
  for (const arg of args) if (isStonePath(arg)) local.push(await readLocalStone(arg));
  const available = new CandidateSource("local", local);

  const requestedIds = new Set<string>();
  const alreadyInstalled: Candidate[] = [];
  for (const arg of args) {
    if (isStonePath(arg)) {
      const file = path.resolve(arg);
      requestedIds.add(local.find((c) => c.path === file)!.id);
      continue;
    }
    const provider = providerText(arg);
    const pick = available.providing(provider)[0];
    if (pick) requestedIds.add(pick.id);
    else {
      const present = installed.providing(provider)[0];
      if (!present) throw new MossError("NO_PACKAGE", `no package found: ${arg}`);
      alreadyInstalled.push(present);
    }
  }

  const transaction = new Transaction([installed, available]);
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

export interface InstallHooks {
  onCached?: (candidate: Candidate, result: { written: number; reused: number }) => void;
  onBlitProgress?: (done: number, total: number) => void;
}

/** Cache every missing package into the store and databases, then build and activate the new state. */
export async function applyInstall(session: Session, plan: InstallPlan, hooks: InstallHooks = {}): Promise<NewStateResult> {
  await cachePackages(session, plan.missing, hooks);
  faultPoint("cached");
  const previous = plan.installed.all().map((c) => ({ packageId: c.id, explicit: c.explicit ?? false, reason: null }));
  const added = plan.missing.map((c) => ({ packageId: c.id, explicit: plan.requestedIds.has(c.id), reason: null }));
  const names = new Map([...plan.missing, ...plan.installed.all()].map((c) => [c.id, `${c.meta.name} (${c.meta.version}-${c.meta.release})`]));
  return applyNewState(session.installation, session.dbs, [...added, ...previous], {
    summary: "Install",
    describe: (id) => names.get(id) ?? id,
    onBlitProgress: hooks.onBlitProgress,
  });
}

/**
 * `install --to DIR` (spec §3.20): the resolved packages blitted into DIR as a root of its own,
 * with the host's content store and databases as the cache. No state, no swap, no archive. Rust
 * deletes DIR first; we refuse a DIR that is not empty rather than delete what is in it.
 */
export async function applyEphemeral(session: Session, plan: InstallPlan, dir: string, hooks: InstallHooks = {}): Promise<BlitSummary> {
  const target = path.resolve(dir);
  const { installation } = session;
  if (fs.existsSync(target)) {
    if (fs.realpathSync(target) === installation.root) throw new MossError("EPHEMERAL_ROOT", `--to ${dir} is the installation root itself`);
    if (fs.readdirSync(target).length > 0) throw new MossError("EPHEMERAL_NOT_EMPTY", `--to ${dir} is not empty: give an empty or missing directory`);
  }
  const installedIds = new Set(plan.installed.all().map((c) => c.id));
  await cachePackages(session, plan.resolved.filter((c) => !installedIds.has(c.id)), hooks);
  const vfs = buildVfs(session.dbs.layout.forPackages(plan.resolved.map((c) => c.id)), {
    describe: (id) => plan.resolved.find((c) => c.id === id)?.meta.name ?? id,
  });
  fs.mkdirSync(target, { recursive: true, mode: 0o755 });
  const summary = blitVfs(vfs, target, installation.assetsDir, { strategy: chooseStrategy(installation.assetsDir, target), onProgress: hooks.onBlitProgress });
  const usr = path.join(target, "usr");
  fs.mkdirSync(usr, { recursive: true, mode: 0o755 });
  writeOsRelease(usr);
  ensureRootLinks(target);
  fs.mkdirSync(path.join(target, "etc"), { recursive: true, mode: 0o755 });
  return summary;
}

/**
 * Unpack local packages into the content store, then record layouts and metadata (spec §3.6–3.7).
 * Two unpacks overlap: each one's zstd decoding runs on Bun's pool thread while the other's
 * assets are written from the main thread.
 */
export async function cachePackages(session: Session, packages: Candidate[], hooks: InstallHooks = {}): Promise<void> {
  profileMark("plan");
  const { installation, dbs } = session;
  const store = { assetsDir: installation.assetsDir, tempDir: path.join(installation.cacheDir, "content") };
  const layouts: { id: string; records: import("../stone/index.ts").LayoutRecord[] }[] = [];
  let next = 0;
  const worker = async () => {
    while (next < packages.length) {
      const candidate = packages[next++]!;
      if (!candidate.path) throw new MossError("NOT_LOCAL", `${candidate.meta.name} has no local file to install from`);
      const result = await unpackToStore(candidate.path, store);
      layouts.push({ id: candidate.id, records: result.layout });
      hooks.onCached?.(candidate, result);
    }
  };
  await Promise.all([worker(), worker()]);
  profileMark("unpack");
  dbs.layout.add(layouts);
  profileMark("db layout add");
  dbs.install.add(packages.map((c) => ({ id: c.id, meta: c.meta })));
  profileMark("db install add");
}

export function sortByName(candidates: Candidate[]): Candidate[] {
  return [...candidates].sort((a, b) => (a.meta.name < b.meta.name ? -1 : a.meta.name > b.meta.name ? 1 : 0));
}

function dedupeByName(candidates: Candidate[]): Candidate[] {
  const seen = new Map<string, Candidate>();
  for (const c of candidates) if (!seen.has(c.meta.name)) seen.set(c.meta.name, c);
  return sortByName([...seen.values()]);
}
