/** The root's repositories for one command: the manager, and the enabled ones as candidate sources. */
import fs from "node:fs";
import path from "node:path";
import { repositorySources } from "../registry/repositories.ts";
import { INDEX_FILE } from "../repository/refresh.ts";
import type { CandidateSource } from "../registry/candidates.ts";
import { RepositoryManager } from "../repository/manager.ts";
import { warn } from "../ui/output.ts";
import type { Session } from "./session.ts";

export async function openRepositories(session: Session): Promise<RepositoryManager> {
  const { installation } = session;
  return RepositoryManager.open({
    root: installation.root, repoDir: installation.repoDir, warn, create: installation.mutable,
    ...(session.model ? { modelRepositories: session.model.repositories } : {}),
  });
}

export async function availableSources(session: Session): Promise<CandidateSource[]> {
  return repositorySources(await openRepositories(session));
}

/** Enabled repositories that no refresh has filled yet (no index was ever downloaded): their ids. */
export async function neverRefreshed(session: Session): Promise<string[]> {
  const manager = await openRepositories(session);
  return manager.enabled().filter((r) => !fs.existsSync(path.join(manager.dirOf(r), INDEX_FILE))).map((r) => r.id);
}
