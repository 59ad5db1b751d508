/**
 * What the ESP and XBOOTLDR should hold for a set of states (boot-management §4, §5), as a plan:
 * the files to write (only those whose content differs), what of ours is no longer referenced
 * (to delete first, so a nearly full ESP still syncs), and whether it fits. Nothing is written
 * here; sync.ts carries a plan out and `boot sync --dry-run` prints one.
 */
import fs from "node:fs";
import path from "node:path";
import type { AdminSnippets } from "./cmdline.ts";
import { entryOptions, readVendorSnippets } from "./cmdline.ts";
import type { BootConfig } from "./config.ts";
import { entryFileName, entryId, parseEntryFileName, renderEntry, type Counter } from "./entries.ts";
import { holdsFile, holdsText, resolveCase } from "./esp-files.ts";
import { readIdentity, type OsIdentity } from "./identity.ts";
import { findKernels, type Kernel, type KernelFile } from "./kernels.ts";
import { withDefault } from "./loader-conf.ts";
import { findSystemdBoot, SYSTEMD_BOOT_FILE, systemdBootVersion } from "./systemd-boot.ts";
import { compareVersions } from "./version-compare.ts";
import { BootError } from "./errors.ts";
import { listNames, readTextIfAny } from "./tolerant-fs.ts";
import { spaceNeeds, type SpaceNeed } from "./space.ts";
import { staleFiles, type PlannedRemoval } from "./stale.ts";
import { VerifiedCopies } from "./verified-copies.ts";

export type { PlannedRemoval } from "./stale.ts";

export interface BootState {
  id: number;
  /** Creation time (seconds): older states are chosen newest first. */
  created: number;
  /** The directory holding the state's `usr`: the root for the active state, `/.moss/root/<id>` for the others. */
  treeRoot: string;
}

export interface PlanInput {
  /** The state being synced: the active one. */
  current: BootState;
  /** Every other state whose tree is on disk. */
  others: BootState[];
  /** After an offline rollback: keep the entries of states newer than the current one. */
  keepNewer: boolean;
  config: BootConfig;
  /** The root descriptor's words, `rw` included (empty when the root device is unknown). */
  rootWords: string[];
  admin: AdminSnippets;
  /** The mounted ESP, and `$BOOT` (the XBOOTLDR when there is one, else the ESP). */
  esp: string;
  boot: string;
  /** `uname -r` of the running kernel (native mode): its variant is preferred as the default. */
  runningKernel?: string;
  /** States that booted and were blessed: their new entries count no tries. */
  blessed?: ReadonlySet<number>;
  /** States that may not get entries (they did not fit). */
  excluded?: ReadonlySet<number>;
  /** Copies already known to hold their sources' bytes (verified-copies.ts); none by default. */
  verified?: VerifiedCopies;
}

export type WriteKind = "bootloader" | "kernel" | "entry" | "loader.conf";

export interface PlannedWrite {
  kind: WriteKind;
  dest: string;
  content: { file: string } | { text: string };
  /** Bytes of the new content. */
  size: number;
  /** Bytes the file it replaces takes (0 for a new file). */
  replaces: number;
}

export interface PlannedEntry {
  stateId: number;
  kernel: string;
  file: string;
  counter?: Counter;
}

export interface BootPlan {
  applicable: true;
  osId: string;
  ownedIds: string[];
  /** States with entries, the current one first. */
  states: number[];
  /** States that would have entries but do not fit on the ESP. */
  droppedForSpace: number[];
  entries: PlannedEntry[];
  loaderDefault: string;
  writes: PlannedWrite[];
  removals: PlannedRemoval[];
  /** Bytes the writes need beyond what the removals free, and what is free, per filesystem. */
  space: SpaceNeed[];
}

export interface NotApplicable {
  applicable: false;
  reason: string;
}

/** The plan for these states, dropping the oldest kept states' entries while it does not fit. */
export function planBootSync(input: PlanInput): BootPlan | NotApplicable {
  const dropped: number[] = [];
  for (;;) {
    const plan = planOnce({ ...input, excluded: new Set([...(input.excluded ?? []), ...dropped]) });
    if (!plan.applicable) return plan;
    plan.droppedForSpace = dropped;
    const short = plan.space.find((s) => s.needed > s.available);
    if (!short) return plan;
    const droppable = plan.states.filter((id) => id !== input.current.id);
    if (droppable.length === 0) {
      throw new BootError(
        "BOOT_NO_SPACE",
        `${short.dir} has ${mib(short.available)} free (after removing what no entry needs), but the current state's boot files need ${mib(short.needed)}: free ${mib(short.needed - short.available)} there, then run \`moss boot sync\``,
      );
    }
    // The oldest kept state goes first; the current state always keeps its entries.
    const byAge = [...droppable].sort((a, b) => stateCreated(input, a) - stateCreated(input, b) || a - b);
    dropped.push(byAge[0]!);
  }
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

function stateCreated(input: PlanInput, id: number): number {
  return id === input.current.id ? input.current.created : input.others.find((s) => s.id === id)?.created ?? 0;
}

/** The states that get entries: the current one, then up to `states - 1` older ones newest first, then (after an offline rollback) the newer ones. */
export function statesWithEntries(input: PlanInput): BootState[] {
  const excluded = input.excluded ?? new Set<number>();
  const hasTree = (s: BootState) => fs.existsSync(path.join(s.treeRoot, "usr"));
  const older = input.others
    .filter((s) => s.id < input.current.id && !excluded.has(s.id) && hasTree(s))
    .sort((a, b) => b.created - a.created || b.id - a.id)
    .slice(0, Math.max(0, input.config.states - 1));
  const newer = input.keepNewer ? input.others.filter((s) => s.id > input.current.id && !excluded.has(s.id) && hasTree(s)).sort((a, b) => b.id - a.id) : [];
  return [input.current, ...newer, ...older];
}

interface KernelDirectory {
  /** Relative to `$BOOT`, as spelled on disk: `EFI/aerynos/6.1.0-1`. */
  relative: string;
  files: KernelFile[];
}

function planOnce(input: PlanInput): BootPlan | NotApplicable {
  const currentIdentity = readIdentity(path.join(input.current.treeRoot, "usr"));
  const bootloader = findSystemdBoot(input.current.treeRoot);
  const currentKernels = findKernels(input.current.treeRoot);
  if (!bootloader) return { applicable: false, reason: "the active state ships no systemd-boot (usr/lib/systemd/boot/efi/systemd-bootx64.efi)" };
  if (currentKernels.length === 0) return { applicable: false, reason: "the active state has no kernel (usr/lib/kernel/<version>/vmlinuz)" };
  if (!currentIdentity) throw new BootError("BOOT_NO_OS_IDENTITY", `${input.current.treeRoot}/usr/lib has neither os-info.json nor an os-release with NAME and ID`);

  const states = statesWithEntries(input);
  const identities = new Map<number, OsIdentity>();
  for (const state of states) identities.set(state.id, state === input.current ? currentIdentity : readIdentity(path.join(state.treeRoot, "usr")) ?? currentIdentity);
  const ownedIds = [...new Set([currentIdentity.id, ...currentIdentity.formerIds, ...[...identities.values()].map((i) => i.id)])];

  const writes: PlannedWrite[] = [];
  const entries: PlannedEntry[] = [];
  const wantedKernelDirs = new Map<string, KernelDirectory>();
  const wantedEntryFiles = new Set<string>();

  // Entries already on $BOOT, by id: their names (and counters) are kept.
  const entriesDir = resolveCase(input.boot, "loader/entries");
  const existingById = new Map<string, string[]>();
  for (const name of listNames(entriesDir)) {
    const parsed = parseEntryFileName(name);
    if (parsed) existingById.set(parsed.id, [...(existingById.get(parsed.id) ?? []), name]);
  }

  const preferredKernel = choosePreferred(currentKernels, input.runningKernel);
  const verified = input.verified ?? VerifiedCopies.none();

  for (const state of states) {
    const identity = identities.get(state.id)!;
    const kernels = state === input.current ? currentKernels : findKernels(state.treeRoot);
    const vendor = readVendorSnippets(state.treeRoot, input.admin.masks);
    for (const kernel of kernels) {
      const files = [kernel.vmlinuz, ...kernel.initrds];
      // States share EFI/<id>/<kver>/; one whose files differ gets a directory of its own (Rust lets the last writer win).
      let dirName = kernel.version;
      const shared = wantedKernelDirs.get(`${identity.id}/${dirName}`);
      if (shared && !sameFiles(shared.files, files)) dirName = `${kernel.version}-${state.id}`;
      const key = `${identity.id}/${dirName}`;
      let dir = wantedKernelDirs.get(key);
      if (!dir) {
        const absolute = resolveCase(input.boot, `EFI/${identity.id}/${dirName}`);
        dir = { relative: path.relative(input.boot, absolute), files };
        wantedKernelDirs.set(key, dir);
        for (const file of files) {
          const dest = path.join(absolute, file.name);
          if (!verified.holds(dest, file.source)) writes.push({ kind: "kernel", dest, content: { file: file.source }, size: fileSize(file.source), replaces: fileSize(dest) });
        }
      }
      const id = entryId(identity.id, kernel.version, state.id);
      // An entry keeps the name it has (systemd-boot and bless rename it); a new one counts tries unless its state was blessed.
      const existing = existingById.get(id) ?? [];
      const counter = existing.length > 0 ? parseEntryFileName(existing[0]!)!.counter
        : input.config.tries > 0 && !input.blessed?.has(state.id) ? { left: input.config.tries, done: 0 } : undefined;
      const fileName = existing[0] ?? entryFileName(id, counter);
      const dest = path.join(entriesDir, fileName);
      wantedEntryFiles.add(fileName);
      const urlDir = `/${dir.relative.split(path.sep).join("/")}`;
      const text = renderEntry({
        id,
        title: `${identity.display} (${kernel.version}, state ${state.id})`,
        sortKey: identity.id,
        version: sortVersion(state, input.current, kernel === preferredKernel, kernel.version),
        linux: `${urlDir}/${kernel.vmlinuz.name}`,
        initrds: kernel.initrds.map((f) => `${urlDir}/${f.name}`),
        options: entryOptions({ rootWords: input.rootWords, vendor, kernelFiles: kernel.cmdlines, admin: input.admin.snippets, stateId: state.id }),
      });
      if (!holdsText(dest, text)) writes.push({ kind: "entry", dest, content: { text }, size: Buffer.byteLength(text), replaces: fileSize(dest) });
      entries.push({ stateId: state.id, kernel: kernel.version, file: dest, ...(counter ? { counter } : {}) });
    }
  }

  // The bootloader: kept current, never downgraded, and a foreign fallback loader is left alone.
  const sourceVersion = systemdBootVersion(bootloader);
  for (const [relative, foreignAllowed] of [[`EFI/systemd/${SYSTEMD_BOOT_FILE}`, true], ["EFI/Boot/BOOTX64.EFI", false]] as const) {
    const dest = resolveCase(input.esp, relative);
    if (verified.holds(dest, bootloader)) continue;
    const present = fs.existsSync(dest);
    const destVersion = present ? systemdBootVersion(dest) : undefined;
    const replace = !present
      || (destVersion === undefined ? foreignAllowed : sourceVersion !== undefined && compareVersions(sourceVersion, destVersion) > 0);
    if (replace) writes.push({ kind: "bootloader", dest, content: { file: bootloader }, size: fileSize(bootloader), replaces: fileSize(dest) });
  }

  // loader.conf on the ESP, where systemd-boot reads it: only its default line is ours. The entries'
  // versions put the current state's preferred kernel first; a pattern (not its file name, which
  // boot counting renames) lets systemd-boot pass over it to the state before once it is bad.
  const loaderDefault = `${currentIdentity.id}-*`;
  const loaderConf = resolveCase(input.esp, "loader/loader.conf");
  const oldLoaderConf = readTextIfAny(loaderConf);
  const newLoaderConf = withDefault(oldLoaderConf, loaderDefault);
  if (oldLoaderConf !== newLoaderConf) writes.push({ kind: "loader.conf", dest: loaderConf, content: { text: newLoaderConf }, size: Buffer.byteLength(newLoaderConf), replaces: fileSize(loaderConf) });

  // What of ours nothing references any more, on $BOOT and (when it is another partition) the ESP.
  const keptDirs = new Map([...wantedKernelDirs.values()].map((d) => [path.join(input.boot, d.relative), new Set(d.files.map((f) => f.name))]));
  const removals = staleFiles({ boot: input.boot, esp: input.esp, ownedIds, keptEntries: wantedEntryFiles, keptDirs });

  return {
    applicable: true,
    osId: currentIdentity.id,
    ownedIds,
    states: states.map((s) => s.id),
    droppedForSpace: [],
    entries,
    loaderDefault,
    writes,
    removals,
    space: spaceNeeds(input.boot, input.esp, writes, removals),
  };
}

/**
 * An entry's `version`, which systemd-boot sorts newest first: the current state and the ones
 * before it by state, then any newer states kept after an offline rollback (below them, so that
 * the default stays on the state rolled back to), and within a state its preferred kernel first.
 */
function sortVersion(state: BootState, current: BootState, preferred: boolean, kernelVersion: string): string {
  return `${state.id > current.id ? 0 : 1}.${state.id}.${preferred && state === current ? 1 : 0}.${kernelVersion}`;
}

/** The current state's default kernel: the running kernel's variant if it has one, else the newest. */
function choosePreferred(kernels: Kernel[], running: string | undefined): Kernel {
  const variant = running === undefined ? undefined : kernels.find((k) => k.version === running)?.variant;
  const candidates = variant === undefined ? kernels : kernels.filter((k) => k.variant === variant);
  return candidates.at(-1) ?? kernels.at(-1)!;
}

function sameFiles(a: KernelFile[], b: KernelFile[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((file, i) => file.name === b[i]!.name && holdsFile(file.source, b[i]!.source));
}

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}
