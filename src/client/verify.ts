/**
 * `state verify` (spec §7.1): every asset of the content store against its name, then every
 * state's tree against its VFS; repair re-caches damaged packages from a `.stone` that is still
 * at hand and re-blits the affected states. Where no `.stone` is at hand it says which states are
 * damaged and which one is safe to activate, instead of failing halfway (Rust re-downloads from
 * repositories, which arrive in a later issue).
 */
import fs from "node:fs";
import path from "node:path";
import type { State } from "../db/index.ts";
import { EMPTY_FILE_DIGEST, READ_CHUNK_SIZE } from "../constants.ts";
import { MossError } from "../errors.ts";
import { createXxh3_128, type StreamingHasher } from "../hash/xxh3.ts";
import { readStateId, writeFileAtomic, writeOsRelease, writeStateId } from "../installation/index.ts";
import { RECORDED_MODEL_FILE } from "../model/system-model.ts";
import { renameExchange } from "../linux/index.ts";
import { assetPath, downloadPath, verifyAsset } from "../store/index.ts";
import { blitVfs, chooseStrategy } from "../transaction/blit.ts";
import { withSignalsHeld } from "../transaction/critical.ts";
import { fsyncDirectory } from "../transaction/journal.ts";
import { emptyDirectory, moveToTrash } from "../transaction/trash.ts";
import { buildVfs } from "../vfs/index.ts";
import type { Candidate } from "../registry/candidates.ts";
import { cachePackages } from "./cache-packages.ts";
import { sha256File } from "../hash/sha256.ts";
import type { Session } from "./session.ts";

export type Issue =
  | { kind: "missing-asset" | "corrupt-asset"; digest: string; targets: string[]; packageIds: string[] }
  | { kind: "missing-path" | "corrupt-path"; path: string; stateId: number };

export interface VerifyReport {
  assetsChecked: number;
  statesChecked: number;
  issues: Issue[];
}

export async function verifyInstallation(session: Session, onProgress?: (phase: string, done: number, total: number) => void): Promise<VerifyReport> {
  const { dbs, installation } = session;
  const issues: Issue[] = [];
  const uses = dbs.layout.regularUses();
  let done = 0;
  for (const [digest, users] of uses) {
    const state = await verifyAsset(installation.assetsDir, digest);
    if (state !== "ok") {
      issues.push({
        kind: state === "missing" ? "missing-asset" : "corrupt-asset",
        digest,
        targets: [...new Set(users.map((u) => u.target))].sort(),
        packageIds: [...new Set(users.map((u) => u.packageId))].sort(),
      });
    }
    onProgress?.("Verifying assets", ++done, uses.size);
  }
  const states = dbs.state.list();
  using hasher = await createXxh3_128();
  for (const [i, state] of states.entries()) {
    issues.push(...verifyStateTree(session, state, hasher));
    onProgress?.("Verifying states", i + 1, states.length);
  }
  return { assetsChecked: uses.size, statesChecked: states.length, issues };
}

function stateUsr(session: Session, state: State): string {
  return path.join(session.installation.stateTree(state.id), "usr");
}

function verifyStateTree(session: Session, state: State, hasher: StreamingHasher): Issue[] {
  const { dbs, installation } = session;
  const base = stateUsr(session, state);
  const vfs = buildVfs(dbs.layout.entries(state.selections.map((s) => s.packageId)), { conflicts: "report" });
  const issues: Issue[] = [];
  const assetInodes = new Map<string, number>();
  const assetsDevice = fs.statSync(installation.assetsDir).dev;
  vfs.forEach((entry) => {
    if (entry.kind === "special" || entry.path === "/usr") return; // never blitted (spec §3.11)
    const file = base + entry.path.slice("/usr".length);
    let stat: fs.Stats;
    try {
      stat = fs.statSync(file);
    } catch {
      // A dangling symlink is fine: absolute links in archives point into the live /usr.
      if (!isSymlink(file)) issues.push({ kind: "missing-path", path: file, stateId: state.id });
      return;
    }
    if (entry.kind !== "regular") return;
    // A hard link to the asset is the asset, which phase 1 has checked: hash only real copies.
    let assetInode = assetInodes.get(entry.digest!);
    if (assetInode === undefined) {
      try {
        assetInode = fs.statSync(assetPath(installation.assetsDir, entry.digest!)).ino;
      } catch {
        assetInode = -1;
      }
      assetInodes.set(entry.digest!, assetInode);
    }
    if (stat.ino === assetInode && stat.dev === assetsDevice) return;
    if (!fileMatches(file, entry.digest!, stat.size, hasher)) issues.push({ kind: "corrupt-path", path: file, stateId: state.id });
  });
  return issues;
}

function fileMatches(file: string, digest: string, size: number, hasher: StreamingHasher): boolean {
  if (digest === EMPTY_FILE_DIGEST) return size === 0;
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, "r");
    hasher.reset();
    const buffer = new Uint8Array(READ_CHUNK_SIZE);
    for (;;) {
      const count = fs.readSync(fd, buffer, 0, buffer.length, null);
      if (count === 0) break;
      hasher.update(buffer.subarray(0, count));
    }
    return hasher.digestHex() === digest;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

export interface RepairReport {
  reinstalled: string[];
  reblitted: number[];
  /** Packages whose `.stone` is nowhere at hand, and what that means. */
  unrepairable: { packageIds: string[]; damagedStates: number[]; safeStates: number[] } | undefined;
}

export async function repairInstallation(session: Session, report: VerifyReport, onStep?: (line: string) => void): Promise<RepairReport> {
  const { dbs, installation } = session;
  const assetIssues = report.issues.filter((i): i is Extract<Issue, { digest: string }> => "digest" in i);
  const issuePackages = [...new Set(assetIssues.flatMap((i) => i.packageIds))].sort();
  const stones = new Map<string, string>();
  const missingStones: string[] = [];
  for (const id of issuePackages) {
    const meta = dbs.install.get(id);
    if (!meta) throw new MossError("NO_METADATA", `No metadata found for package "${id}"`);
    const stone = await findStone(installation.cacheDir, meta.hash, meta.uri);
    if (stone) stones.set(id, stone);
    else missingStones.push(id);
  }
  const states = dbs.state.list();
  if (missingStones.length > 0) {
    const damaged = states.filter((s) => s.selections.some((sel) => missingStones.includes(sel.packageId))).map((s) => s.id);
    const safe = states.filter((s) => !damaged.includes(s.id)).map((s) => s.id);
    return { reinstalled: [], reblitted: [], unrepairable: { packageIds: missingStones, damagedStates: damaged, safeStates: safe } };
  }

  for (const issue of assetIssues) if (issue.kind === "corrupt-asset") fs.rmSync(assetPath(installation.assetsDir, issue.digest), { force: true });
  const reinstalled: string[] = [];
  if (stones.size > 0) {
    onStep?.("Reinstalling packages");
    const candidates: Candidate[] = [...stones].map(([id, file]) => ({ id, path: file, source: "local", meta: dbs.install.get(id)! }));
    await cachePackages(session, candidates, { onCached: (c) => onStep?.(`Installed ${c.meta.name}`) });
    reinstalled.push(...candidates.map((c) => c.meta.name));
  }

  const pathStates = new Set(report.issues.flatMap((i) => ("stateId" in i ? [i.stateId] : [])));
  const affected = states.filter((s) => pathStates.has(s.id) || s.selections.some((sel) => stones.has(sel.packageId)));
  if (affected.length > 0) onStep?.("Reblitting affected states");
  for (const state of affected) {
    await reblitState(session, state);
    onStep?.(` » state #${state.id}`);
  }
  return { reinstalled, reblitted: affected.map((s) => s.id), unrepairable: undefined };
}

/** The cached download, or the local file it was installed from, when its SHA-256 still matches. */
async function findStone(cacheDir: string, hash: string | undefined, uri: string | undefined): Promise<string | undefined> {
  const candidates: string[] = [];
  if (hash && hash.length >= 5) candidates.push(downloadPath(cacheDir, hash));
  if (uri?.startsWith("file://")) candidates.push(uri.slice("file://".length));
  for (const file of candidates) {
    try {
      if (fs.existsSync(file) && (!hash || sha256File(file) === hash)) return file;
    } catch {
      // not there: try the next
    }
  }
  return undefined;
}

/**
 * Re-blit one state in staging and put it in place of its damaged tree: the live one by
 * exchange, an archived one by rename. The damaged tree goes to the trash either way.
 */
async function reblitState(session: Session, state: State): Promise<void> {
  const { dbs, installation } = session;
  const { stagingDir, rootsDir, assetsDir, root } = installation;
  const vfs = buildVfs(dbs.layout.entries(state.selections.map((s) => s.packageId)));
  emptyDirectory(rootsDir, stagingDir);
  blitVfs(vfs, stagingDir, assetsDir, { strategy: chooseStrategy(assetsDir, stagingDir) });
  const newUsr = path.join(stagingDir, "usr");
  fs.mkdirSync(newUsr, { recursive: true, mode: 0o755 });
  writeStateId(newUsr, state.id);
  writeOsRelease(newUsr);
  const usr = stateUsr(session, state);
  // The model the state recorded is no package's file: the rebuilt tree keeps the one it had.
  carryRecordedModel(usr, newUsr);
  await withSignalsHeld(`repairing state ${state.id}`, () => {
    if (state.id === installation.activeStateId) {
      renameExchange(newUsr, usr);
      fsyncDirectory(root);
      moveToTrash(rootsDir, newUsr);
    } else {
      if (readStateId(usr) !== undefined || fs.existsSync(usr)) moveToTrash(rootsDir, usr);
      fs.mkdirSync(path.dirname(usr), { recursive: true, mode: 0o755 });
      fs.renameSync(newUsr, usr);
      fsyncDirectory(path.dirname(usr));
    }
  });
}

function carryRecordedModel(fromUsr: string, toUsr: string): void {
  const relative = path.relative("usr", RECORDED_MODEL_FILE);
  let text: string;
  try {
    text = fs.readFileSync(path.join(fromUsr, relative), "utf8");
  } catch {
    return; // a state made before models were recorded, or one whose tree is gone
  }
  fs.mkdirSync(path.dirname(path.join(toUsr, relative)), { recursive: true, mode: 0o755 });
  writeFileAtomic(path.join(toUsr, relative), text);
}

function isSymlink(file: string): boolean {
  try {
    return fs.lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}
