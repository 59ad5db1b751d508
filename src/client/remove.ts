/**
 * `moss remove` (spec §4.3): drop the requested packages and everything that depends on them,
 * then keep only what the surviving explicit packages still need.
 */
import { MossError } from "../errors.ts";
import { providerText, type Candidate } from "../registry/candidates.ts";
import { Transaction } from "../registry/transaction.ts";
import { applyNewState, type NewStateResult } from "../transaction/new-state.ts";
import { sortByName } from "./install.ts";
import { installedSource } from "./packages.ts";
import type { Session } from "./session.ts";
import { modelForState } from "./state-model.ts";

export interface RemovePlan {
  removed: Candidate[];
  kept: Candidate[];
}

export function planRemove(session: Session, args: string[]): RemovePlan {
  const installed = installedSource(session.installation, session.dbs);
  const requested: string[] = [];
  const unknown: string[] = [];
  for (const arg of args) {
    const pick = installed.providing(providerText(arg))[0];
    if (pick) requested.push(pick.id);
    else unknown.push(arg);
  }
  if (unknown.length > 0) {
    throw new MossError("NO_SUCH_PACKAGE", `no such package: ${unknown.join(", ")} ${unknown.length === 1 ? "is" : "are"} not installed`);
  }
  const everything = new Transaction([installed]);
  everything.add(installed.all().map((c) => c.id));
  everything.remove(requested);
  const explicitSurvivors = everything.finalize().filter((c) => c.explicit);
  const closure = new Transaction([installed]);
  closure.add(explicitSurvivors.map((c) => c.id));
  const kept = closure.finalize();
  const keptIds = new Set(kept.map((c) => c.id));
  return { removed: sortByName(installed.all().filter((c) => !keptIds.has(c.id))), kept };
}

export async function applyRemove(session: Session, plan: RemovePlan, hooks: { onBlitProgress?: (done: number, total: number) => void } = {}): Promise<NewStateResult> {
  const selections = plan.kept.map((c) => ({ packageId: c.id, explicit: c.explicit ?? false, reason: null }));
  const systemModel = await modelForState(session, plan.kept.filter((c) => c.explicit));
  return applyNewState(session.installation, session.dbs, selections, { summary: "Remove", systemModel, onBlitProgress: hooks.onBlitProgress });
}
