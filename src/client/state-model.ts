/**
 * The system model a new state records in its `usr/lib/system-model.kdl` (spec §6.3): the loaded
 * model trimmed to and extended by the state's explicit packages, or one generated from the
 * enabled repositories and the explicit packages' names.
 */
import fs from "node:fs";
import path from "node:path";
import { MossError } from "../errors.ts";
import { RECORDED_MODEL_FILE, recordedModel, renderGeneratedModel } from "../model/system-model.ts";
import { keyOf, type Candidate } from "../registry/candidates.ts";
import { openRepositories } from "./repositories.ts";
import type { Session } from "./session.ts";

export async function modelForState(session: Session, explicit: readonly Candidate[]): Promise<string> {
  const packages = explicit.map((c) => ({ name: c.meta.name, providers: keyOf(c.id, c.meta).providers }));
  const enabled = session.model ? [] : (await openRepositories(session)).enabled();
  return recordedModel(session.model, packages, enabled);
}

/**
 * `state export [ID]` (spec §6.4): the model a state recorded, verbatim; for a state made without
 * one (by Rust moss before it recorded models, or an older moss-ts), one generated from the
 * repositories enabled now and the names of the state's explicit packages.
 */
export async function exportStateModel(session: Session, stateId: number): Promise<string> {
  const { installation, dbs } = session;
  const state = dbs.state.get(stateId);
  if (!state) throw new MossError("STATE_MISSING", `state ${stateId} doesn't exist`);
  try {
    return fs.readFileSync(path.join(installation.stateTree(stateId), RECORDED_MODEL_FILE), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const names = state.selections.filter((s) => s.explicit).flatMap((s) => {
    const meta = dbs.install.get(s.packageId);
    return meta ? [`name(${meta.name})`] : [];
  });
  const enabled = (await openRepositories(session)).enabled();
  return renderGeneratedModel(enabled, names);
}
