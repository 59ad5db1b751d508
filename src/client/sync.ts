/**
 * `moss sync` (spec §4.4). Without a system model every explicit package moves to the best
 * package of its name in the enabled repositories (the highest-priority repository wins, so it
 * may be a downgrade), dependencies are resolved preferring what the repositories offer, and
 * packages nothing needs any more fall out. With one, the root becomes exactly the model's
 * packages and their dependencies, from the repositories.
 */
import { MossError } from "../errors.ts";
import { firstKeyProviding, keyOf, type Candidate, type CandidateSource } from "../registry/candidates.ts";
import { Transaction, findConflicts } from "../registry/transaction.ts";
import { metaId } from "../stone/index.ts";
import { applyNewState, type NewStateResult } from "../transaction/new-state.ts";
import { cacheAndStage } from "./cache-packages.ts";
import { sortByName, type InstallHooks } from "./install.ts";
import { installedSource } from "./packages.ts";
import type { Session } from "./session.ts";
import { modelForState } from "./state-model.ts";

export interface SyncPlan {
  /** Every package of the new state, explicit flags as they will be recorded. */
  final: Candidate[];
  added: Candidate[];
  updated: { from: Candidate; to: Candidate }[];
  removed: Candidate[];
  installed: CandidateSource;
}

export function planSync(session: Session, availableSources: CandidateSource[]): SyncPlan {
  const model = session.model;
  const installed = installedSource(session.installation, session.dbs);
  const installedIds = new Set(installed.all().map((c) => c.id));
  const available = withInstalledTwins(availableSources, installed);
  let final: Candidate[];
  if (model) {
    // The model is the whole truth (spec §4.4, §6.5): each provider it lists goes to the best
    // available package, the closure comes from the repositories alone, and a package is explicit
    // exactly when it provides one of the model's entries.
    const wanted = model.providers.map((provider) => {
      const best = firstKeyProviding(available, provider)?.key;
      if (!best) throw new MossError("MODEL_PACKAGE_MISSING", `Package defined in system-model does not exist in any repository: ${provider} (${model.file})`);
      return best.id;
    });
    const transaction = new Transaction(available);
    transaction.add(wanted);
    const listed = new Set(model.providers);
    final = transaction.finalize().map((c) => ({ ...c, explicit: keyOf(c.id, c.meta).providers.some((p) => listed.has(p)) }));
  } else {
    const wanted = installed.all().filter((c) => c.explicit).map((c) => {
      const best = firstKeyProviding(available, `name(${c.meta.name})`)?.key;
      return best && !installedIds.has(best.id) ? best.id : c.id;
    });
    // prefer-available: a capability goes to a repository package before an installed one.
    const transaction = new Transaction([...available, installed]);
    transaction.add(wanted);
    const explicitByName = new Map(installed.all().map((c) => [c.meta.name, c.explicit ?? false]));
    final = transaction.finalize().map((c) => ({ ...c, explicit: explicitByName.get(c.meta.name) ?? false }));
  }
  const conflicts = findConflicts(final);
  if (conflicts.length > 0) throw new MossError("PACKAGE_CONFLICT", `conflicting packages: ${conflicts.join("; ")}`);

  const installedByName = new Map(installed.all().map((c) => [c.meta.name, c]));
  const finalNames = new Set(final.map((c) => c.meta.name));
  const synced = sortByName(final.filter((c) => !installedIds.has(c.id)));
  return {
    final,
    added: synced.filter((c) => !installedByName.has(c.meta.name)),
    updated: synced.filter((c) => installedByName.has(c.meta.name)).map((to) => ({ from: installedByName.get(to.meta.name)!, to })),
    removed: sortByName(installed.all().filter((c) => !finalNames.has(c.meta.name))),
    installed,
  };
}

/**
 * A package installed from a local file is known by its meta id, the same package in a
 * repository by its hash. The same name, version, release, build release and architecture is the
 * same build: the repositories offer the installed package in its place, so that syncing does
 * not copy a package onto itself.
 */
function withInstalledTwins(available: CandidateSource[], installed: CandidateSource): CandidateSource[] {
  const local = new Map(installed.all().filter((c) => c.id === metaId(c.meta)).map((c) => [c.id, c]));
  if (local.size === 0) return available;
  return available.map((source) => {
    const replacements = new Map<string, Candidate>();
    for (const key of source.keys()) {
      const twin = local.get(metaId(key));
      if (twin && twin.meta.buildRelease === key.buildRelease) replacements.set(key.id, twin);
    }
    return replacements.size > 0 ? source.replacing(replacements) : source;
  });
}

export function hasChanges(plan: SyncPlan): boolean {
  return plan.added.length + plan.updated.length + plan.removed.length > 0;
}

export async function applySync(session: Session, plan: SyncPlan, hooks: InstallHooks = {}): Promise<NewStateResult> {
  const installedIds = new Set(plan.installed.all().map((c) => c.id));
  const synced = plan.final.filter((c) => !installedIds.has(c.id));
  const names = new Map([...plan.final, ...plan.installed.all()].map((c) => [c.id, `${c.meta.name} (${c.meta.version}-${c.meta.release})`]));
  const selections = plan.final.map((c) => ({ packageId: c.id, explicit: c.explicit ?? false, reason: null }));
  const systemModel = await modelForState(session, plan.final.filter((c) => c.explicit));
  const describe = (id: string) => names.get(id) ?? id;
  const selectedIds = selections.map((s) => s.packageId);
  return applyNewState(session.installation, session.dbs, selections, {
    summary: "Sync",
    systemModel,
    onBlitProgress: hooks.onBlitProgress,
    stage: (context) => cacheAndStage(session, synced, selectedIds, describe, hooks, context),
  });
}
