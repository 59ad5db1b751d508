/**
 * `moss install` (spec §4.2), with what Rust cannot do: local `.stone` files install directly
 * (spec §9 #34). Names and providers resolve among the installed set (preferred), the given
 * files, then the enabled repositories by priority; repository packages are fetched into the
 * download cache before they are unpacked.
 */
import fs from "node:fs";
import path from "node:path";
import { MossError } from "../errors.ts";
import { CandidateSource, firstProviding, providerText, type Candidate } from "../registry/candidates.ts";
import { findConflicts, Transaction } from "../registry/transaction.ts";
import { ensureRootLinks, writeOsRelease } from "../installation/index.ts";
import { blitVfs, chooseStrategy, type BlitSummary } from "../transaction/blit.ts";
import { runTriggers, vfsPaths } from "../triggers/run.ts";
import { applyNewState, type NewStateResult } from "../transaction/new-state.ts";
import { cacheAndStage, cacheWithTree } from "./cache-packages.ts";
import type { FetchHooks } from "./fetch.ts";
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

export function sortByName(candidates: Candidate[]): Candidate[] {
  return [...candidates].sort((a, b) => (a.meta.name < b.meta.name ? -1 : a.meta.name > b.meta.name ? 1 : 0));
}

function dedupeByName(candidates: Candidate[]): Candidate[] {
  const seen = new Map<string, Candidate>();
  for (const c of candidates) if (!seen.has(c.meta.name)) seen.set(c.meta.name, c);
  return sortByName([...seen.values()]);
}
