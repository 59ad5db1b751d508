import type { State } from "../db/index.ts";
import { diffStates, estimateRemoval, pruneCandidates, removeStates, requireState, statesNewestFirst, statesToRemove } from "../client/states.ts";
import { emptyTrash } from "../transaction/trash.ts";
import type { Session } from "../client/session.ts";
import { MossError, UsageError } from "../errors.ts";
import { repairInstallation, verifyInstallation, type Issue } from "../client/verify.ts";
import { activateState } from "../transaction/activate.ts";
import { inInitramfs, markBootSyncPending } from "../client/boot-sync-pending.ts";
import { createProgress } from "../ui/progress.ts";
import { confirmOrCancel } from "../ui/confirm.ts";
import { bold, green, json, out, outRaw, red, warn } from "../ui/output.ts";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { exportStateModel } from "../client/state-model.ts";
import { writeFileAtomic } from "../installation/index.ts";
import { localTimestamp, packageLines } from "../ui/package-list.ts";
import { mossCommand } from "./command.ts";
import { rustDebugPath } from "./format.ts";
import { withSession } from "./session.ts";
import { syncBootAfter } from "./boot-after.ts";
import type { GlobalOptions } from "./argv.ts";
import { formatBytes } from "../ui/bytes.ts";

function stateBlock(state: State): string {
  const lines = [`State #${state.id} - ${state.summary ?? "system transaction"}`, `Created: ${localTimestamp(state.created)}`];
  if (state.description) lines.push(`Description: ${state.description}`);
  lines.push(`Packages: ${state.selections.length}`, "");
  return lines.join("\n");
}

function stateJson(state: State, active: number | undefined, pinned?: Set<number>) {
  return {
    id: state.id, summary: state.summary, description: state.description, created: state.created,
    active: state.id === active, pinned: pinned?.has(state.id) ?? false, packages: state.selections.length,
  };
}

function stateId(text: string | undefined): number {
  if (text === undefined || !/^\d+$/.test(text.trim())) throw new UsageError(`invalid state id: ${text ?? "(none)"}`);
  return Number(text);
}

const jsonArg = { json: { type: "boolean", description: "Print JSON" } } as const;

const list = mossCommand({
  meta: { name: "list", description: "List all states" },
  args: jsonArg,
  run: (args, globals) =>
    withSession(globals, false, (session) => {
      const states = statesNewestFirst(session);
      const pinned = session.dbs.state.pinned();
      if (args.json) return json(states.map((s) => stateJson(s, session.installation.activeStateId, pinned)));
      for (const state of states) out(stateBlock(state));
    }),
});

const active = mossCommand({
  meta: { name: "active", description: "List the active state" },
  args: jsonArg,
  run: (args, globals) =>
    withSession(globals, false, (session) => {
      const id = session.installation.activeStateId;
      const state = id === undefined ? undefined : session.dbs.state.get(id);
      if (args.json) return json(state ? stateJson(state, id) : null);
      if (state) out(stateBlock(state));
    }),
});

const query = mossCommand({
  meta: { name: "query", description: "Query information for the provided state" },
  args: { id: { type: "positional", description: "state id", required: true }, ...jsonArg },
  run: (args, globals) =>
    withSession(globals, false, (session) => {
      const state = requireState(session, stateId(args.id));
      const metas = new Map(session.dbs.install.getMany(state.selections.map((s) => s.packageId)).map((m) => [m.id, m]));
      const rows = state.selections.map((sel) => {
        const meta = metas.get(sel.packageId);
        if (!meta) throw new MossError("NO_METADATA", `No metadata found for package "${sel.packageId}"`);
        return { id: sel.packageId, name: meta.name, version: meta.version, release: meta.release, explicit: sel.explicit };
      }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      if (args.json) return json({ ...stateJson(state, session.installation.activeStateId), selections: rows });
      out(stateBlock(state));
      for (const line of packageLines(rows)) out(line);
      out("");
    }),
});

const activate = mossCommand({
  meta: { name: "activate", description: "Activate an archived state" },
  args: {
    id: { type: "positional", description: "state id", required: true },
    "skip-triggers": { type: "boolean", description: "Do not run the system triggers" },
    "skip-boot": { type: "boolean", description: "Do not synchronise the boot entries" },
    ...jsonArg,
  },
  run: (args, globals) =>
    withSession(globals, true, async (session) => {
      const result = await activateState(session.installation, session.dbs, stateId(args.id));
      const initramfs = inInitramfs();
      // Only system triggers (the tree's transaction triggers ran when it was made), and never in the initramfs.
      if (!args["skip-triggers"] && !initramfs) {
        // Loaded here: the initramfs's activation never needs them.
        const [{ runSystemTriggers }, { vfsPaths }, { buildVfs }] = await Promise.all([
          import("../transaction/new-state.ts"), import("../triggers/run.ts"), import("../vfs/index.ts"),
        ]);
        const state = requireState(session, result.activated);
        const paths = () => vfsPaths(buildVfs(session.dbs.layout.entries(state.selections.map((s) => s.packageId)), { conflicts: "report" }));
        await runSystemTriggers(session.installation, paths, warn);
      }
      if (!args["skip-boot"] && !initramfs) {
        // A live activation syncs at once: the states after this one lose their entries (spec §4.4).
        await syncBootAfter(session, globals, { settlesRollback: true });
      } else {
        // The activation is done and stays done: not recording the pending sync is only a warning.
        try {
          markBootSyncPending(session.installation.mossDir, result.activated);
        } catch (error) {
          warn(`cannot record that the boot entries need a sync: ${(error as Error).message}`);
        }
      }
      if (args.json) return json(result);
      out(`State ${result.activated} activated (${result.archived} archived)`);
    }),
});

async function removeWithConfirmation(session: Session, globals: GlobalOptions, states: State[], asJson: boolean) {
  const yes = globals.yes;
  if (states.length === 0) {
    if (asJson) json({ removed: [] });
    else out("No states to remove");
    return;
  }
  const estimate = estimateRemoval(session, states);
  if (!asJson) {
    out(`The following state(s) will be removed:\n\n${states.map((s) => bold(`State ${s.id}`)).join(" ")}\n`);
    out(`This frees about ${formatBytes(estimate.bytes)} (${estimate.assets} files of the content store no other state uses).\n`);
  }
  await confirmOrCancel("Do you wish to continue?", { yes });
  const report = removeStates(session, states, (archive) => !asJson && out(`Removed ${rustDebugPath(archive)}`));
  // The removed states' entries go, and kernels no entry needs any more (os-tools #585).
  await syncBootAfter(session, globals, { settlesRollback: false });
  // The trees went to the trash at once; deleting them is the slow part, so it shows progress.
  const progress = asJson ? undefined : createProgress("Deleting archived states");
  emptyTrash(session.installation.rootsDir, warn, progress?.update);
  progress?.done();
  if (asJson) json({ ...report, estimatedBytes: estimate.bytes });
}

const prune = mossCommand({
  meta: { name: "prune", description: "Prune archived states" },
  args: {
    keep: { type: "string", alias: "k", description: "Keep this many states", default: "10" },
    "include-newer": { type: "boolean", description: "Also prune states newer than the active one" },
    ...jsonArg,
  },
  run: (args, globals) =>
    withSession(globals, true, (session) =>
      removeWithConfirmation(session, globals, pruneCandidates(session, Number(args.keep), Boolean(args["include-newer"])), Boolean(args.json))),
});

const remove = mossCommand({
  meta: { name: "remove", description: "Remove archived states (ids or ranges A-B)" },
  args: { ids: { type: "positional", description: "state ids or ranges", required: true }, ...jsonArg },
  run: (args, globals) =>
    withSession(globals, true, (session) => removeWithConfirmation(session, globals, statesToRemove(session, args._), Boolean(args.json))),
});

function issueLine(issue: Issue): string {
  switch (issue.kind) {
    case "missing-asset":
    case "corrupt-asset":
      return ` × ${issue.kind === "missing-asset" ? "Missing" : "Corrupt"} asset ${issue.digest} - {${issue.targets.map((t) => JSON.stringify(t)).join(", ")}}`;
    case "missing-path":
    case "corrupt-path":
      return ` × ${issue.kind === "missing-path" ? "Missing" : "Corrupt"} path ${issue.path} in state #${issue.stateId}`;
  }
}

const verify = mossCommand({
  meta: { name: "verify", description: "Verify the content store and every state's tree, and repair what is damaged" },
  args: jsonArg,
  run: (args, globals) =>
    withSession(globals, true, async (session) => {
      const progress = args.json ? undefined : createProgress("Verifying");
      const report = await verifyInstallation(session, (_phase, done, total) => progress?.update(done, total));
      progress?.done();
      if (report.issues.length === 0) {
        if (args.json) return json({ ...report, repair: null });
        return out("No issues found");
      }
      if (!args.json) {
        out(`Found ${report.issues.length} issue(s)`);
        for (const issue of report.issues) out(issueLine(issue));
      }
      await confirmOrCancel(" Fixing issues, this will change your system state. Do you wish to continue?", { yes: globals.yes });
      const repair = await repairInstallation(session, report, (line) => !args.json && out(line));
      if (args.json) return json({ ...report, repair });
      if (repair.unrepairable) {
        const { packageIds, damagedStates, safeStates } = repair.unrepairable;
        const names = packageIds.map((id) => session.dbs.install.get(id)?.name ?? id).join(", ");
        const safe = safeStates.length > 0 ? `state ${safeStates.at(-1)} is undamaged and can be activated` : "no state is undamaged";
        throw new MossError("VERIFY_UNREPAIRABLE", `no .stone at hand to repair ${names}: states ${damagedStates.join(", ")} are damaged; ${safe}`);
      }
      out("All issues resolved");
    }),
});

const exportCommand = mossCommand({
  meta: { name: "export", description: "Export a state's system model (the active state by default)" },
  args: {
    id: { type: "positional", description: "state id", required: false },
    output: { type: "string", alias: "o", description: "Write it to this file or directory (without a value: ./system-model-<host>-fstxn-<ID>.kdl)" },
  },
  run: (args, globals) =>
    withSession(globals, false, async (session) => {
      const id = args.id === undefined ? session.installation.activeStateId : stateId(args.id);
      if (id === undefined) throw new MossError("NO_ACTIVE_STATE", "no active state");
      const text = await exportStateModel(session, id);
      const output = args.output;
      if (output === undefined) return outRaw(`${text}\n`);
      const fileName = `system-model-${hostnameOrNothing()}fstxn-${id}.kdl`;
      let target = typeof output === "string" && output !== "" ? path.resolve(output) : path.resolve(fileName);
      if (fs.statSync(target, { throwIfNoEntry: false })?.isDirectory()) target = path.join(target, fileName);
      writeFileAtomic(target, text);
      out(`Exported to ${JSON.stringify(target)}`);
    }),
});

function hostnameOrNothing(): string {
  try {
    const name = os.hostname();
    return name ? `${name}-` : "";
  } catch {
    return "";
  }
}

const pinCommand = (pinned: boolean) =>
  mossCommand({
    meta: { name: pinned ? "pin" : "unpin", description: pinned ? "Keep a state from ever being pruned" : "Let a pinned state be pruned again" },
    args: { id: { type: "positional", description: "state id", required: true } },
    run: (args, globals) =>
      withSession(globals, true, (session) => {
        const id = stateId(args.id);
        requireState(session, id);
        session.dbs.state.pin(id, pinned);
        out(`State ${id} ${pinned ? "pinned" : "unpinned"}`);
      }),
  });

const diff = mossCommand({
  meta: { name: "diff", description: "Show the packages that differ between two states" },
  args: { from: { type: "positional", description: "state id", required: true }, to: { type: "positional", description: "state id", required: true }, ...jsonArg },
  run: (args, globals) =>
    withSession(globals, false, (session) => {
      const [from, to] = args._.map((id) => stateId(id));
      if (from === undefined || to === undefined) throw new UsageError("state diff needs two state ids");
      const result = diffStates(session, from, to);
      if (args.json) return json(result);
      for (const p of result.added) out(`${green("+")} ${bold(p.name)} ${p.version}-${p.release}`);
      for (const p of result.removed) out(`${red("-")} ${bold(p.name)} ${p.version}-${p.release}`);
      for (const p of result.changed) out(`${"~"} ${bold(p.name)} ${p.from.version}-${p.from.release} -> ${p.to.version}-${p.to.release}`);
      if (result.added.length + result.removed.length + result.changed.length === 0) out(`States ${from} and ${to} select the same packages`);
    }),
});

export default mossCommand({
  meta: { name: "state", description: "Manage system states" },
  subCommands: { list, active, query, activate, prune, remove, verify, export: exportCommand, pin: pinCommand(true), unpin: pinCommand(false), diff },
});
