/**
 * `moss cache prune` (spec §7.3): forget every package no state selects and no enabled repository
 * offers, then delete the downloads and assets nothing references any more. Also what Rust leaves
 * behind: the directories of repositories no longer configured.
 */
import fs from "node:fs";
import path from "node:path";
import { MetaDb } from "../db/index.ts";
import { collectAssets, collectDownloads } from "../store/index.ts";
import { openRepositories } from "./repositories.ts";
import type { Session } from "./session.ts";

export interface CachePruneReport {
  packagesForgotten: number;
  filesRemoved: number;
  bytesFreed: number;
  repositoryDirsRemoved: string[];
}

export async function pruneCache(session: Session): Promise<CachePruneReport> {
  const { dbs, installation } = session;
  const manager = await openRepositories(session);
  const keep = new Set(dbs.state.list().flatMap((s) => s.selections.map((sel) => sel.packageId)));
  for (const repository of manager.enabled()) {
    const db = MetaDb.open(manager.dbFileOf(repository), { readonly: true });
    try {
      for (const id of db.ids()) keep.add(id);
    } finally {
      db.close();
    }
  }
  const forgotten = [...new Set([...dbs.install.ids(), ...dbs.layout.packageIds()])].filter((id) => !keep.has(id));
  dbs.install.remove(forgotten);
  dbs.layout.remove(forgotten);
  const downloads = collectDownloads(installation.cacheDir, dbs.install.hashes());
  const assets = collectAssets(installation.assetsDir, dbs.layout.regularDigests());

  const configured = new Set(manager.list().map((r) => path.basename(manager.dirOf(r))));
  const repositoryDirsRemoved: string[] = [];
  for (const name of fs.existsSync(installation.repoDir) ? fs.readdirSync(installation.repoDir) : []) {
    if (configured.has(name)) continue;
    fs.rmSync(path.join(installation.repoDir, name), { recursive: true, force: true });
    repositoryDirsRemoved.push(name);
  }
  return { packagesForgotten: forgotten.length, filesRemoved: downloads.removed + assets.removed, bytesFreed: downloads.bytes + assets.bytes, repositoryDirsRemoved };
}
