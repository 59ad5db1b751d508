import { applyEphemeral, applyInstall, planInstall, type InstallPlan } from "../client/install.ts";
import type { Session } from "../client/session.ts";
import { packageColumns } from "../ui/columns.ts";
import { confirmOrCancel } from "../ui/confirm.ts";
import { json, out, warn } from "../ui/output.ts";
import { createProgress } from "../ui/progress.ts";
import { mossCommand } from "./command.ts";
import { cacheHooks } from "./cache-hooks.ts";
import { blitSummary, columnItem, packageRow } from "./format.ts";
import { withSession } from "./session.ts";
import { afterNewState } from "./boot-after.ts";


export default mossCommand({
  meta: { name: "install", description: "Install packages (names, providers or local .stone files)" },
  args: {
    packages: { type: "positional", description: "packages to install", required: true },
    "dry-run": { type: "boolean", description: "Show what would be installed and stop" },
    to: { type: "string", description: "Blit this install to the provided directory instead of the root" },
    json: { type: "boolean", description: "Print one JSON document describing the result" },
  },
  async run(args, globals) {
    await withSession(globals, !args["dry-run"], async (session) => {
      const plan = await planInstall(session, args._);
      if (args.to) return installTo(session, plan, args.to, { dryRun: Boolean(args["dry-run"]), json: Boolean(args.json), yes: globals.yes });
      if (plan.missing.length === 0) {
        if (args.json) return json({ installed: [], alreadyInstalled: plan.alreadyInstalled.map((c) => c.meta.name), state: null });
        if (plan.alreadyInstalled.length > 0) out(`The following package(s) are already installed:\n\n${packageColumns(plan.alreadyInstalled.map(columnItem))}`);
        return;
      }
      if (!args.json) out(`The following package(s) will be installed:\n\n${packageColumns(plan.missing.map(columnItem))}\n`);
      if (args["dry-run"]) {
        if (args.json) json({ dryRun: true, install: plan.missing.map(packageRow) });
        return;
      }
      await confirmOrCancel("Do you wish to continue?", { yes: globals.yes });
      const progress = args.json ? undefined : createProgress("Blitting filesystem");
      const hooks = cacheHooks(plan.missing, Boolean(args.json));
      const result = await applyInstall(session, plan, { ...hooks, onBlitProgress: progress?.update }).finally(hooks.finish);
      progress?.done();
      await afterNewState(session, globals, result);
      if (args.json) {
        return json({ state: result.stateId, previous: result.previous ?? null, installed: plan.missing.map(packageRow), blit: result.blit });
      }
      out(`\n${blitSummary(result.blit.entries, result.blit.seconds)}`);
    });
  },
});

async function installTo(session: Session, plan: InstallPlan, dir: string, opts: { dryRun: boolean; json: boolean; yes: boolean }) {
  const packages = plan.resolved.map(packageRow);
  if (!opts.json) out(`The following package(s) will be installed:\n\n${packageColumns(plan.resolved.map(columnItem))}\n`);
  if (opts.dryRun) {
    if (opts.json) json({ dryRun: true, to: dir, install: packages });
    return;
  }
  await confirmOrCancel("Do you wish to continue?", { yes: opts.yes });
  const progress = opts.json ? undefined : createProgress("Blitting filesystem");
  const hooks = cacheHooks(plan.resolved, opts.json);
  const { blit, triggerWarnings } = await applyEphemeral(session, plan, dir, { ...hooks, onBlitProgress: progress?.update }).finally(hooks.finish);
  progress?.done();
  for (const warning of triggerWarnings) warn(warning);
  if (opts.json) return json({ to: dir, installed: packages, blit });
  out(`\n${blitSummary(blit.entries, blit.seconds)}`);
}
