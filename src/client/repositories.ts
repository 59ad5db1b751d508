/** The root's repositories for one command: the manager, and the enabled ones as candidate sources. */
import { repositorySources } from "../registry/repositories.ts";
import type { CandidateSource } from "../registry/candidates.ts";
import { RepositoryManager } from "../repository/manager.ts";
import { err } from "../ui/output.ts";
import type { Session } from "./session.ts";

export async function openRepositories(session: Session): Promise<RepositoryManager> {
  const { installation } = session;
  return RepositoryManager.open({
    root: installation.root, repoDir: installation.repoDir, warn: (m) => err(`Warning: ${m}`), create: installation.mutable,
    ...(session.model ? { modelRepositories: session.model.repositories } : {}),
  });
}

export async function availableSources(session: Session): Promise<CandidateSource[]> {
  return repositorySources(await openRepositories(session));
}
