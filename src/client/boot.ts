/**
 * Boot synchronisation for a root (boot-management §4.4, §5): the active state and the ones
 * before it get entries on the ESP/XBOOTLDR, their kernels are copied there, what no entry needs
 * any more is removed. Run after every transaction, live activation, prune and state removal,
 * and by `moss boot sync`. After an offline rollback (the initramfs leaves
 * `/.moss/boot-sync-pending`) the entries of the newer states are kept until a transaction, so
 * that rolling forward stays possible.
 */
import fs from "node:fs";
import path from "node:path";
import { readAdminSnippets } from "../boot/cmdline.ts";
import { loadBootConfig } from "../boot/config.ts";
import { discoverBoot, type BootEnvironment } from "../boot/discovery.ts";
import { BootError } from "../boot/errors.ts";
import { readEfiString } from "../boot/efivars.ts";
import { entryFileName, parseEntryFileName } from "../boot/entries.ts";
import { resolveCase } from "../boot/esp-files.ts";
import { defaultOf } from "../boot/loader-conf.ts";
import { listNames, readTextIfAny } from "../boot/tolerant-fs.ts";
import { fsyncPath } from "../linux/index.ts";
import { hostPaths } from "../boot/host-paths.ts";
import { findKernels } from "../boot/kernels.ts";
import { planBootSync, type BootPlan, type BootState } from "../boot/plan.ts";
import { applyBootPlan } from "../boot/sync.ts";
import { VerifiedCopies } from "../boot/verified-copies.ts";
import { findSystemdBoot } from "../boot/systemd-boot.ts";
import type { Databases } from "../db/index.ts";
import { writeFileAtomic, type Installation } from "../installation/index.ts";
import { BOOT_SYNC_PENDING_FILE } from "./boot-sync-pending.ts";

export interface BootSyncRequest {
  dryRun?: boolean;
  esp?: string;
  xbootldr?: string;
  /**
   * A transaction or a live activation: the entries describe the states from now on, so newer
   * states' entries go and a pending offline rollback is settled.
   */
  settlesRollback?: boolean;
  /** Also say what the ESP holds afterwards (`after`), from the same discovery and mount. */
  describeAfter?: boolean;
  warn?: (message: string) => void;
}

export type BootSyncOutcome =
  | { status: "synced"; plan: BootPlan; environment: EnvironmentSummary; dryRun: boolean; after?: BootStatus }
  | { status: "not-applicable"; reason: string };

export interface EnvironmentSummary {
  mode: BootEnvironment["mode"];
  firmware: BootEnvironment["firmware"];
  esp: string;
  xbootldr?: string;
  rootWords: string[];
}

/** The states of the root with their trees, for planning. */
export function bootStates(installation: Installation, dbs: Databases): { current: BootState; others: BootState[] } | undefined {
  const active = installation.activeStateId;
  if (active === undefined) return undefined;
  const all = dbs.state.ids();
  const createdOf = (id: number) => all.find((s) => s.id === id)?.created ?? 0;
  const current = { id: active, created: createdOf(active), treeRoot: installation.stateTree(active) };
  const others = all.filter((s) => s.id !== active).map((s) => ({ id: s.id, created: s.created, treeRoot: installation.stateTree(s.id) }));
  return { current, others };
}

export function pendingRollback(installation: Installation): boolean {
  return fs.existsSync(path.join(installation.mossDir, BOOT_SYNC_PENDING_FILE));
}

export async function syncBoot(installation: Installation, dbs: Databases, req: BootSyncRequest = {}): Promise<BootSyncOutcome> {
  const states = statesToBoot(installation, dbs);
  if ("reason" in states) return states;
  const environment = discoverBoot({ root: installation.root, esp: req.esp, xbootldr: req.xbootldr, warn: req.warn });
  try {
    const outcome = await syncWithin(installation, states, environment, req);
    if (req.describeAfter && outcome.status === "synced") outcome.after = statusWithin(installation, environment);
    return outcome;
  } finally {
    environment.release();
  }
}

/** The states to plan for, or why there is nothing to boot: known from the tree alone, no disk is probed for a root without a kernel. */
function statesToBoot(installation: Installation, dbs: Databases): NonNullable<ReturnType<typeof bootStates>> | { status: "not-applicable"; reason: string } {
  const states = bootStates(installation, dbs);
  if (!states) return { status: "not-applicable", reason: "no state is active" };
  if (!findSystemdBoot(states.current.treeRoot)) return { status: "not-applicable", reason: "the active state ships no systemd-boot" };
  if (findKernels(states.current.treeRoot).length === 0) return { status: "not-applicable", reason: "the active state has no kernel" };
  return states;
}

/** Plan and (unless a dry run) apply, on partitions already discovered and mounted. */
async function syncWithin(installation: Installation, states: NonNullable<ReturnType<typeof bootStates>>, environment: BootEnvironment, req: BootSyncRequest): Promise<BootSyncOutcome> {
  if (!environment.esp) {
    if (environment.firmware === "bios") return { status: "not-applicable", reason: "legacy BIOS is not supported: boot entries are only written for UEFI systemd-boot (give --esp DIR to write them anyway)" };
    throw new BootError("BOOT_NO_ESP", `no EFI system partition found for ${installation.root}: give --esp DIR (the mounted ESP) to say where it is`);
  }
  const keepNewer = !req.settlesRollback && pendingRollback(installation);
  const verified = VerifiedCopies.load(installation.mossDir);
  const plan = planBootSync({
    verified,
    ...states,
    blessed: blessedStates(installation),
    keepNewer,
    config: await loadBootConfig(installation.root),
    rootWords: environment.rootWords,
    admin: readAdminSnippets(installation.root),
    esp: environment.esp.dir,
    boot: environment.xbootldr?.dir ?? environment.esp.dir,
    ...(environment.mode === "native" ? { runningKernel: runningKernel(hostPaths().proc) } : {}),
  });
  if (!plan.applicable) return { status: "not-applicable", reason: plan.reason };
  if (!req.dryRun) {
    applyBootPlan(plan);
    for (const write of plan.writes) if ("file" in write.content) verified.wrote(write.dest, write.content.file);
    verified.save();
    if (req.settlesRollback) fs.rmSync(path.join(installation.mossDir, BOOT_SYNC_PENDING_FILE), { force: true });
  }
  const summary: EnvironmentSummary = { mode: environment.mode, firmware: environment.firmware, esp: environment.esp.dir, rootWords: environment.rootWords };
  if (environment.xbootldr) summary.xbootldr = environment.xbootldr.dir;
  return { status: "synced", plan, environment: summary, dryRun: Boolean(req.dryRun) };
}

function runningKernel(procDir: string): string | undefined {
  return readTextIfAny(path.join(procDir, "sys", "kernel", "osrelease"))?.trim();
}

export interface BootStatus {
  mode: BootEnvironment["mode"];
  firmware: BootEnvironment["firmware"];
  esp: BootEnvironment["esp"];
  xbootldr: BootEnvironment["xbootldr"];
  loaderInfo: string | undefined;
  root: { device: string; kind: string; uuid?: string; partUuid?: string } | undefined;
  /** The words every entry's command line starts with: the root descriptor and the admin's snippets. */
  cmdline: string[];
  entries: { file: string; stateId?: number; counter?: { left: number; done: number } }[];
  loaderDefault: string | undefined;
}

/** What discovery finds for this root and what its ESP holds now (mounting and unmounting in native mode). */
export function bootStatus(installation: Installation, req: Pick<BootSyncRequest, "esp" | "xbootldr" | "warn"> = {}): BootStatus {
  const environment = discoverBoot({ root: installation.root, esp: req.esp, xbootldr: req.xbootldr, warn: req.warn });
  try {
    return statusWithin(installation, environment);
  } finally {
    environment.release();
  }
}

/** The status on partitions already discovered (and mounted). */
function statusWithin(installation: Installation, environment: BootEnvironment): BootStatus {
  const admin = readAdminSnippets(installation.root);
  const root = environment.root;
  const status: BootStatus = {
    mode: environment.mode,
    firmware: environment.firmware,
    esp: environment.esp,
    xbootldr: environment.xbootldr,
    loaderInfo: environment.loaderInfo,
    root: root && { device: `/dev/${root.device.name}`, kind: root.superblock.kind, ...(root.superblock.uuid ? { uuid: root.superblock.uuid } : {}), ...(root.partUuid ? { partUuid: root.partUuid } : {}) },
    cmdline: [...environment.rootWords, ...admin.snippets],
    entries: [],
    loaderDefault: undefined,
  };
  const boot = environment.xbootldr?.dir ?? environment.esp?.dir;
  if (boot) {
    const dir = resolveCase(boot, "loader/entries");
    for (const name of listNames(dir)) {
      const parsed = parseEntryFileName(name);
      if (!parsed) continue;
      const state = /-(\d+)$/.exec(parsed.id);
      status.entries.push({ file: path.join(dir, name), ...(state ? { stateId: Number(state[1]) } : {}), ...(parsed.counter ? { counter: parsed.counter } : {}) });
    }
  }
  // No loader.conf yet: no default.
  const loaderConf = environment.esp ? readTextIfAny(resolveCase(environment.esp.dir, "loader/loader.conf")) : undefined;
  if (loaderConf !== undefined) status.loaderDefault = defaultOf(loaderConf);
  return status;
}

export interface BlessResult {
  blessed: string[];
  sync: BootSyncOutcome;
}

/**
 * The running state booted: its entries' boot counters are removed (systemd-boot stops counting
 * tries, and will not fall back from it), and the entries are synced, which also settles an
 * offline rollback's pending sync. The entry systemd-boot says it booted (`LoaderBootCountPath`)
 * is blessed; without that variable, the active state's counted entries are.
 */
export async function blessBoot(installation: Installation, dbs: Databases, req: BootSyncRequest = {}): Promise<BlessResult> {
  const active = installation.activeStateId;
  const blessed: string[] = [];
  // One discovery (and, in native mode, one mount) for the renames and the sync after them.
  const environment = discoverBoot({ root: installation.root, esp: req.esp, xbootldr: req.xbootldr, warn: req.warn });
  try {
    const boot = environment.xbootldr?.dir ?? environment.esp?.dir;
    if (boot && active !== undefined) {
      const dir = resolveCase(boot, "loader/entries");
      const counted = environment.mode === "native" ? readEfiString(hostPaths().efivars, "LoaderBootCountPath") : undefined;
      const bootedName = counted?.split(/[\\/]/).at(-1);
      for (const name of listNames(dir)) {
        const parsed = parseEntryFileName(name);
        if (!parsed?.counter) continue;
        const isBooted = bootedName !== undefined ? name.toLowerCase() === bootedName.toLowerCase() : parsed.id.endsWith(`-${active}`);
        if (!isBooted) continue;
        const good = path.join(dir, entryFileName(parsed.id));
        if (fs.existsSync(good)) fs.rmSync(path.join(dir, name));
        else fs.renameSync(path.join(dir, name), good);
        fsyncPath(dir);
        blessed.push(good);
      }
    }
    if (active !== undefined) recordBlessed(installation, active);
    const states = statesToBoot(installation, dbs);
    return { blessed, sync: "reason" in states ? states : await syncWithin(installation, states, environment, req) };
  } finally {
    environment.release();
  }
}

/** States `moss boot bless` recorded as booted good: a rebuilt ESP gives their entries no counter. */
export const BLESSED_FILE = "boot-blessed";

export function blessedStates(installation: Installation): Set<number> {
  return new Set((readTextIfAny(path.join(installation.mossDir, BLESSED_FILE)) ?? "").split(/\s+/).filter(Boolean).map(Number));
}

function recordBlessed(installation: Installation, stateId: number): void {
  const blessed = blessedStates(installation);
  if (blessed.has(stateId)) return;
  blessed.add(stateId);
  writeFileAtomic(path.join(installation.mossDir, BLESSED_FILE), `${[...blessed].sort((a, b) => a - b).join("\n")}\n`);
}
