/** `moss boot status|sync|bless` (spec §4.16, boot-management §4.8 "Ours"). */
import { blessBoot, bootStatus, syncBoot, type BootStatus, type BootSyncOutcome } from "../client/boot.ts";
import { MossError } from "../errors.ts";
import { json, out, warn } from "../ui/output.ts";
import type { GlobalOptions } from "./argv.ts";
import { mossCommand } from "./command.ts";
import { withSession } from "./session.ts";
import { warnDroppedForSpace } from "./boot-after.ts";

const jsonArg = { json: { type: "boolean", description: "Print JSON" } } as const;

function statusLines(status: BootStatus): string {
  const lines: string[] = [];
  if (status.firmware === "bios" && !status.esp) lines.push(`BOOT           : ${status.xbootldr?.dir ?? "none"}`);
  else {
    lines.push(`ESP            : ${status.esp?.dir ?? "none"}`);
    lines.push(`XBOOTLDR       : ${status.xbootldr?.dir ?? "none"}`);
    if (status.loaderInfo) lines.push(`Bootloader     : ${status.loaderInfo}`);
  }
  lines.push(`Global cmdline : [${status.cmdline.map((word) => JSON.stringify(word)).join(", ")}]`);
  return lines.join("\n");
}

function statusJson(status: BootStatus) {
  return {
    mode: status.mode,
    firmware: status.firmware,
    esp: status.esp ?? null,
    xbootldr: status.xbootldr ?? null,
    bootloader: status.loaderInfo ?? null,
    root: status.root ?? null,
    cmdline: status.cmdline,
    entries: status.entries,
    default: status.loaderDefault ?? null,
  };
}

function outcomeJson(outcome: BootSyncOutcome) {
  if (outcome.status === "not-applicable") return { synced: false, reason: outcome.reason };
  const { plan } = outcome;
  return {
    synced: !outcome.dryRun,
    dryRun: outcome.dryRun,
    esp: outcome.environment.esp,
    xbootldr: outcome.environment.xbootldr ?? null,
    states: plan.states,
    droppedForSpace: plan.droppedForSpace,
    default: plan.loaderDefault,
    entries: plan.entries,
    writes: plan.writes.map((w) => ({ kind: w.kind, path: w.dest, bytes: w.size })),
    removals: plan.removals.map((r) => ({ kind: r.kind, path: r.target, bytes: r.bytes })),
  };
}

function printOutcome(outcome: BootSyncOutcome, verbose: boolean): void {
  if (outcome.status === "not-applicable") {
    out(`Boot not updated: ${outcome.reason}`);
    return;
  }
  const { plan } = outcome;
  if (plan.droppedForSpace.length > 0) warnDroppedForSpace(plan.droppedForSpace);
  if (outcome.dryRun || verbose) {
    for (const removal of plan.removals) out(`${outcome.dryRun ? "would remove" : "removed"} ${removal.target}`);
    for (const write of plan.writes) out(`${outcome.dryRun ? "would write" : "wrote"} ${write.dest}`);
    if (plan.removals.length + plan.writes.length === 0) out("nothing to change");
  }
  if (!outcome.dryRun) out("Boot updated\n");
}

function requireActive(globals: GlobalOptions, active: number | undefined): void {
  if (active === undefined) throw new MossError("NO_ACTIVE_STATE", `root must have an active state (${globals.directory} has none)`);
}

const status = mossCommand({
  meta: { name: "status", description: "Show the boot environment: ESP, XBOOTLDR, bootloader and kernel command line" },
  args: jsonArg,
  run: (args, globals) =>
    withSession(globals, false, (session) => {
      const result = bootStatus(session.installation, { esp: globals.esp, xbootldr: globals.xbootldr, warn });
      if (args.json) return json(statusJson(result));
      out(statusLines(result));
    }),
});

const sync = mossCommand({
  meta: { name: "sync", description: "Write the boot entries, kernels and bootloader for the active state and the ones before it" },
  args: { "dry-run": { type: "boolean", description: "Print what would change, change nothing" }, ...jsonArg },
  run: (args, globals) =>
    withSession(globals, !args["dry-run"], async (session) => {
      requireActive(globals, session.installation.activeStateId);
      const dryRun = Boolean(args["dry-run"]);
      // The status comes from the same discovery (and, in native mode, the same mount) as the sync.
      const outcome = await syncBoot(session.installation, session.dbs, { dryRun, esp: globals.esp, xbootldr: globals.xbootldr, warn, describeAfter: !dryRun && !args.json });
      if (args.json) return json(outcomeJson(outcome));
      printOutcome(outcome, globals.verbose);
      if (outcome.status === "synced" && outcome.after) out(statusLines(outcome.after));
    }),
});

const bless = mossCommand({
  meta: { name: "bless", description: "Mark the boot entry of the running state as good (ends its boot counting)" },
  args: jsonArg,
  run: (args, globals) =>
    withSession(globals, true, async (session) => {
      requireActive(globals, session.installation.activeStateId);
      const result = await blessBoot(session.installation, session.dbs, { esp: globals.esp, xbootldr: globals.xbootldr, warn });
      if (args.json) return json({ blessed: result.blessed, sync: outcomeJson(result.sync) });
      for (const file of result.blessed) out(`Blessed ${file}`);
      if (result.blessed.length === 0) out("No counted entry of the running state to bless");
    }),
});

export default mossCommand({
  meta: { name: "boot", description: "Boot management" },
  subCommands: { status, sync, bless },
});
