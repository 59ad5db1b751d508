/**
 * `moss info` (spec §4.7): every package providing each argument — installed, then from the
 * enabled repositories by priority, unique by id; or a local `.stone` file — and, with `-f`, the
 * files an installed package puts in its state.
 */
import { MossError } from "../errors.ts";
import { providerText, type Candidate } from "../registry/candidates.ts";
import { buildVfs, type VfsEntry } from "../vfs/index.ts";
import { installedSource, isStonePath, readLocalStone } from "./packages.ts";
import { availableSources } from "./repositories.ts";
import type { Session } from "./session.ts";

export interface InfoResult {
  argument: string;
  packages: { candidate: Candidate; installed: boolean; files?: VfsEntry[] }[];
}

export async function packageInfo(session: Session, args: string[], withFiles: boolean): Promise<InfoResult[]> {
  const installed = installedSource(session.installation, session.dbs);
  const sources = [installed, ...(await availableSources(session))];
  const results: InfoResult[] = [];
  for (const argument of args) {
    const found: Candidate[] = isStonePath(argument) ? [await readLocalStone(argument)] : uniqueById(sources.flatMap((s) => s.providing(providerText(argument))));
    if (found.length === 0) throw new MossError("NO_SUCH_PACKAGE", `No such package ${argument}`);
    results.push({
      argument,
      packages: found.map((candidate) => {
        const isInstalled = installed.get(candidate.id) !== undefined;
        const files = withFiles && isInstalled ? filesOf(session, candidate.id) : undefined;
        return { candidate, installed: isInstalled, files };
      }),
    });
  }
  return results;
}

function uniqueById(candidates: Candidate[]): Candidate[] {
  const seen = new Set<string>();
  return candidates.filter((c) => !seen.has(c.id) && seen.add(c.id));
}

/** The package's own entries in the active state's VFS: where its files really land. */
function filesOf(session: Session, packageId: string): VfsEntry[] {
  const active = session.installation.activeStateId;
  const selections = active === undefined ? [] : session.dbs.state.get(active)?.selections ?? [];
  const vfs = buildVfs(session.dbs.layout.entries(selections.map((s) => s.packageId)), { conflicts: "report" });
  const files: VfsEntry[] = [];
  vfs.forEach((entry) => {
    if (entry.packageId === packageId && entry.kind !== "directory") files.push(entry);
  });
  return files;
}
