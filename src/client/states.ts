/**
 * The `state` use-cases over the state, install and layout databases: listing, querying,
 * choosing what `prune`/`remove` delete (spec §7.2), and deleting it with the garbage collection
 * that follows.
 */
import fs from "node:fs";
import type { State } from "../db/index.ts";
import { MossError } from "../errors.ts";
import { assetPath, collectAssets, collectDownloads, downloadPath } from "../store/index.ts";
import { moveToTrash } from "../transaction/trash.ts";
import type { Session } from "./session.ts";

/** States newest first (spec §4.6 `state list`). */
export function statesNewestFirst(session: Session): State[] {
  return session.dbs.state.list().sort((a, b) => b.id - a.id);
}

export function requireState(session: Session, id: number): State {
  const state = session.dbs.state.get(id);
  if (!state) throw new MossError("STATE_MISSING", `state ${id} doesn't exist`);
  return state;
}

/** `state prune`: the states older than the active one beyond the `keep` most recent (spec §7.2). */
export function pruneCandidates(session: Session, keep: number, includeNewer: boolean): State[] {
  if (!Number.isInteger(keep) || keep < 1) throw new MossError("USAGE_KEEP", `--keep must be at least 1, got ${keep}`);
  const active = session.installation.activeStateId;
  if (active === undefined) throw new MossError("NO_ACTIVE_STATE", "no active state found");
  const pinned = session.dbs.state.pinned();
  const candidates = session.dbs.state
    .list()
    .filter((s) => s.id !== active && (includeNewer || s.id < active) && !pinned.has(s.id))
    .sort((a, b) => b.created - a.created || b.id - a.id);
  return candidates.slice(keep - 1).sort((a, b) => a.id - b.id);
}

/** `state remove A B-C`: the existing states among the ids and inclusive ranges given. */
export function statesToRemove(session: Session, specs: string[]): State[] {
  const ids = new Set<number>();
  for (const spec of specs) {
    const match = /^(\d+)(?:-(\d+))?$/.exec(spec.trim());
    if (!match) throw new MossError("STATE_RANGE", `invalid state id or range: ${spec}`);
    const start = Number(match[1]);
    const end = match[2] === undefined ? start : Number(match[2]);
    if (start > end) throw new MossError("STATE_RANGE", `invalid state id or range: range start must be <= end (${spec})`);
    for (let id = start; id <= end; id++) ids.add(id);
  }
  const active = session.installation.activeStateId;
  if (active !== undefined && ids.has(active)) throw new MossError("STATE_ACTIVE", "cannot prune the currently active state");
  const pinned = [...session.dbs.state.pinned()].filter((id) => ids.has(id));
  if (pinned.length > 0) throw new MossError("STATE_PINNED", `state ${pinned.join(", ")} is pinned: unpin it first (moss state unpin ${pinned[0]})`);
  return session.dbs.state.list().filter((s) => ids.has(s.id));
}

/** What removing `states` would free: the assets only they use, and their downloads. */
export function estimateRemoval(session: Session, states: State[]): { bytes: number; assets: number } {
  const { dbs, installation } = session;
  const doomed = new Set(states.map((s) => s.id));
  const remaining = dbs.state.list().filter((s) => !doomed.has(s.id));
  const stillSelected = new Set(remaining.flatMap((s) => s.selections.map((sel) => sel.packageId)));
  const purged = [...new Set(states.flatMap((s) => s.selections.map((sel) => sel.packageId)))].filter((id) => !stillSelected.has(id));
  if (purged.length === 0) return { bytes: 0, assets: 0 };
  const kept = new Set<string>();
  for (const { record } of dbs.layout.entries([...stillSelected])) if (record.digest) kept.add(record.digest);
  const freed = new Set<string>();
  for (const { record } of dbs.layout.entries(purged)) if (record.digest && !kept.has(record.digest)) freed.add(record.digest);
  let bytes = 0;
  for (const digest of freed) {
    try {
      bytes += fs.statSync(assetPath(installation.assetsDir, digest)).size;
    } catch {
      // already gone
    }
  }
  for (const meta of dbs.install.getMany(purged)) {
    if (!meta.hash) continue;
    try {
      bytes += fs.statSync(downloadPath(installation.cacheDir, meta.hash)).size;
    } catch {
      // never downloaded (a local install)
    }
  }
  return { bytes, assets: freed.size };
}

export interface StateDiff {
  added: { name: string; version: string; release: number }[];
  removed: { name: string; version: string; release: number }[];
  changed: { name: string; from: { version: string; release: number }; to: { version: string; release: number } }[];
}

/** Packages added, removed and changed from state `a` to state `b`, by name, from the databases alone. */
export function diffStates(session: Session, a: number, b: number): StateDiff {
  const packagesOf = (id: number) => {
    const state = requireState(session, id);
    const metas = session.dbs.install.getMany(state.selections.map((s) => s.packageId));
    if (metas.length !== state.selections.length) {
      const known = new Set(metas.map((m) => m.id));
      const missing = state.selections.find((s) => !known.has(s.packageId))!;
      throw new MossError("NO_METADATA", `No metadata found for package "${missing.packageId}" of state ${id}`);
    }
    return new Map(metas.map((m) => [m.name, m]));
  };
  const from = packagesOf(a);
  const to = packagesOf(b);
  const pick = (m: { name: string; version: string; release: number }) => ({ name: m.name, version: m.version, release: m.release });
  const byName = <T extends { name: string }>(list: T[]) => list.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  return {
    added: byName([...to.values()].filter((m) => !from.has(m.name)).map(pick)),
    removed: byName([...from.values()].filter((m) => !to.has(m.name)).map(pick)),
    changed: byName(
      [...to.values()]
        .filter((m) => from.has(m.name) && from.get(m.name)!.id !== m.id)
        .map((m) => ({ name: m.name, from: { version: from.get(m.name)!.version, release: from.get(m.name)!.release }, to: { version: m.version, release: m.release } })),
    ),
  };
}

export interface RemovalReport {
  states: number[];
  archives: string[];
  packagesPurged: number;
  assetsRemoved: number;
  bytesFreed: number;
}

/**
 * Delete `states` (spec §7.2): rows first, then packages no remaining state selects, then every
 * asset and download nothing references, then the archived trees. A crash part-way leaves only
 * unreferenced files, which the next prune collects.
 */
export function removeStates(session: Session, states: State[], onRemoved?: (archive: string) => void): RemovalReport {
  const { dbs, installation } = session;
  const doomed = new Set(states.map((s) => s.id));
  const remaining = dbs.state.list().filter((s) => !doomed.has(s.id));
  const stillSelected = new Set(remaining.flatMap((s) => s.selections.map((sel) => sel.packageId)));
  const purged = [...new Set(states.flatMap((s) => s.selections.map((sel) => sel.packageId)))].filter((id) => !stillSelected.has(id));

  dbs.state.remove([...doomed]);
  dbs.install.remove(purged);
  dbs.layout.remove(purged);

  const downloads = collectDownloads(installation.cacheDir, dbs.install.hashes());
  const assets = collectAssets(installation.assetsDir, dbs.layout.regularDigests());
  const archives: string[] = [];
  for (const id of [...doomed].sort((a, b) => a - b)) {
    const archive = installation.archivePath(id);
    if (!fs.existsSync(archive)) continue;
    moveToTrash(installation.rootsDir, archive);
    archives.push(archive);
    onRemoved?.(archive);
  }
  return {
    states: [...doomed].sort((a, b) => a - b),
    archives,
    packagesPurged: purged.length,
    assetsRemoved: assets.removed + downloads.removed,
    bytesFreed: assets.bytes + downloads.bytes,
  };
}
