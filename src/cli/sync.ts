import { applyEphemeral } from "../client/install.ts";
import { availableSources, neverRefreshed, openRepositories } from "../client/repositories.ts";
import type { Session } from "../client/session.ts";
import { applySync, hasChanges, planSync, type SyncPlan } from "../client/sync.ts";
import path from "node:path";
import { MossError } from "../errors.ts";
import { readSystemModel } from "../model/system-model.ts";
import { packageColumns } from "../ui/columns.ts";
import { confirmOrCancel } from "../ui/confirm.ts";
import { json, out, warn } from "../ui/output.ts";
import { createProgress } from "../ui/progress.ts";
import { mossCommand } from "./command.ts";
import { cacheHooks } from "./cache-hooks.ts";
import { blitSummary, columnItem, packageRow } from "./format.ts";
import { withSession } from "./session.ts";
import { afterNewState } from "./boot-after.ts";

/**
 * planSync; a package missing from repositories that were never refreshed (a model's on a new
 * root, say) is reported with what fills them, instead of only as missing.
 */
async function planSyncExplained(session: Session, refreshed: boolean): Promise<SyncPlan> {
  try {
    return planSync(session, await availableSources(session));
  } catch (error) {
    if (refreshed || !(error instanceof MossError) || error.code !== "MODEL_PACKAGE_MISSING") throw error;
    const empty = await neverRefreshed(session);
    if (empty.length === 0) throw error;
    const which = empty.length === 1 ? `the repository ${empty[0]} has` : `the repositories ${empty.join(", ")} have`;
    throw new MossError(error.code, `${error.message}: ${which} never been refreshed (\`moss sync -u\` refreshes first)`);
  }
}

function planJson(plan: SyncPlan) {
  return {
    add: plan.added.map(packageRow),
    update: plan.updated.map(({ from, to }) => ({ name: to.meta.name, from: packageRow(from), to: packageRow(to) })),
    remove: plan.removed.map(packageRow),
  };
}

function printPlan(plan: SyncPlan): void {
  if (plan.added.length > 0) out(`The following packages will be added: \n\n${packageColumns(plan.added.map(columnItem))}\n`);
  if (plan.updated.length > 0) {
    const items = plan.updated.map(({ from, to }) => ({ name: to.meta.name, version: `${from.meta.version}-${from.meta.release} -> ${to.meta.version}`, release: to.meta.release }));
    out(`The following packages will be updated: \n\n${packageColumns(items)}\n`);
  }
  if (plan.removed.length > 0) out(`The following orphaned packages will be removed: \n\n${packageColumns(plan.removed.map(columnItem))}\n`);
}

export default mossCommand({
  meta: { name: "sync", description: "Sync package selections with candidates from the highest priority repository" },
  args: {
    update: { type: "boolean", alias: "u", description: "Update repositories before syncing" },
    to: { type: "string", description: "Blit this sync to the provided directory instead of the root" },
    "dry-run": { type: "boolean", description: "Show what would be synced and stop" },
    import: { type: "string", description: "Sync to this system model file instead of /etc/moss/system-model.kdl" },
    json: { type: "boolean", description: "Print one JSON document describing the result" },
  },
  async run(args, globals) {
    const write = !args["dry-run"] || Boolean(args.update);
    await withSession(globals, write, async (session) => {
      if (args.import) {
        // This run's model: its repositories and packages; /etc/moss/system-model.kdl is left as it is.
        const file = path.resolve(args.import);
        const imported = await readSystemModel(file);
        if (!imported) throw new MossError("SYSTEM_MODEL_MISSING", `system model doesn't exist at ${JSON.stringify(file)}`);
        session.model = imported;
      }
      const refreshed = [];
      if (args.update) {
        const { reports, failures } = await (await openRepositories(session)).update();
        for (const report of reports) {
          refreshed.push(report);
          if (!args.json) out(`Refreshed ${report.id}`);
        }
        if (failures.length > 0) throw new MossError("REFRESH_FAILED", `refreshing ${failures.map((f) => `${f.id}: ${f.error.message}`).join("; ")}`);
      }
      const plan = await planSyncExplained(session, Boolean(args.update));
      if (args.to) {
        const packages = plan.final.map(packageRow);
        if (!args.json) out(`The following package(s) will be installed:\n\n${packageColumns(plan.final.map(columnItem))}\n`);
        if (args["dry-run"]) return args.json ? json({ dryRun: true, to: args.to, install: packages }) : undefined;
        await confirmOrCancel("Do you wish to continue?", { yes: globals.yes });
        const hooks = cacheHooks(plan.final, Boolean(args.json));
        const { blit, triggerWarnings } = await applyEphemeral(session, { resolved: plan.final, installed: plan.installed }, args.to, hooks).finally(hooks.finish);
        for (const warning of triggerWarnings) warn(warning);
        return args.json ? json({ to: args.to, installed: packages, blit }) : out(`\n${blitSummary(blit.entries, blit.seconds)}`);
      }
      if (!hasChanges(plan)) {
        if (args.json) return json({ ...(args["dry-run"] ? { dryRun: true } : {}), refreshed, ...planJson(plan), state: null });
        return out("No packages to sync");
      }
      if (!args.json) printPlan(plan);
      if (args["dry-run"]) return args.json ? json({ dryRun: true, refreshed, ...planJson(plan) }) : undefined;
      await confirmOrCancel("Do you wish to continue?", { yes: globals.yes });
      const progress = args.json ? undefined : createProgress("Blitting filesystem");
      const hooks = cacheHooks(plan.final, Boolean(args.json));
      const result = await applySync(session, plan, { ...hooks, onBlitProgress: progress?.update }).finally(hooks.finish);
      progress?.done();
      await afterNewState(session, globals, result);
      if (args.json) return json({ refreshed, ...planJson(plan), state: result.stateId, previous: result.previous ?? null, blit: result.blit });
      out(`\n${blitSummary(result.blit.entries, result.blit.seconds)}`);
    });
  },
});
