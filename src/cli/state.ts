import type { State } from "../db/index.ts";
import { pruneCandidates, removeStates, requireState, statesNewestFirst, statesToRemove } from "../client/states.ts";
import type { Session } from "../client/session.ts";
import { MossError, UsageError } from "../errors.ts";
import { repairInstallation, verifyInstallation, type Issue } from "../client/verify.ts";
import { activateState } from "../transaction/activate.ts";
import { createProgress } from "../ui/progress.ts";
import { confirmOrCancel } from "../ui/confirm.ts";
import { bold, json, out } from "../ui/output.ts";
import { localTimestamp, packageLines } from "../ui/package-list.ts";
import { mossCommand } from "./command.ts";
import { rustDebugPath } from "./format.ts";
import { withSession } from "./session.ts";

function stateBlock(state: State): string {
  const lines = [`State #${state.id} - ${state.summary ?? "system transaction"}`, `Created: ${localTimestamp(state.created)}`];
  if (state.description) lines.push(`Description: ${state.description}`);
  lines.push(`Packages: ${state.selections.length}`, "");
  return lines.join("\n");
}

function stateJson(state: State, active: number | undefined) {
  return { id: state.id, summary: state.summary, description: state.description, created: state.created, active: state.id === active, packages: state.selections.length };
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
      if (args.json) return json(states.map((s) => stateJson(s, session.installation.activeStateId)));
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
      // System triggers and boot synchronisation arrive with later issues: both are skipped here.
      const result = await activateState(session.installation, session.dbs, stateId(args.id));
      if (args.json) return json(result);
      out(`State ${result.activated} activated (${result.archived} archived)`);
    }),
});

async function removeWithConfirmation(session: Session, states: State[], yes: boolean, asJson: boolean) {
  if (states.length === 0) {
    if (asJson) json({ removed: [] });
    else out("No states to remove");
    return;
  }
  if (!asJson) out(`The following state(s) will be removed:\n\n${states.map((s) => bold(`State ${s.id}`)).join(" ")}\n`);
  await confirmOrCancel("Do you wish to continue?", { yes });
  const report = removeStates(session, states, (archive) => !asJson && out(`Removed ${rustDebugPath(archive)}`));
  if (asJson) json(report);
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
      removeWithConfirmation(session, pruneCandidates(session, Number(args.keep), Boolean(args["include-newer"])), globals.yes, Boolean(args.json))),
});

const remove = mossCommand({
  meta: { name: "remove", description: "Remove archived states (ids or ranges A-B)" },
  args: { ids: { type: "positional", description: "state ids or ranges", required: true }, ...jsonArg },
  run: (args, globals) =>
    withSession(globals, true, (session) => removeWithConfirmation(session, statesToRemove(session, args._), globals.yes, Boolean(args.json))),
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

export default mossCommand({
  meta: { name: "state", description: "Manage system states" },
  subCommands: { list, active, query, activate, prune, remove, verify },
});
