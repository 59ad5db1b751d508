import { applyRemove, planRemove } from "../client/remove.ts";
import { packageColumns } from "../ui/columns.ts";
import { confirmOrCancel } from "../ui/confirm.ts";
import { json, out } from "../ui/output.ts";
import { createProgress } from "../ui/progress.ts";
import { mossCommand } from "./command.ts";
import { blitSummary, packageRow } from "./format.ts";
import { withSession } from "./session.ts";
import { afterNewState } from "./boot-after.ts";

export default mossCommand({
  meta: { name: "remove", description: "Remove packages" },
  args: {
    packages: { type: "positional", description: "packages to remove", required: true },
    "dry-run": { type: "boolean", description: "Show what would be removed and stop" },
    json: { type: "boolean", description: "Print one JSON document describing the result" },
  },
  async run(args, globals) {
    await withSession(globals, !args["dry-run"], async (session) => {
      const plan = planRemove(session, args._);
      const removed = plan.removed.map(packageRow);
      if (!args.json) out(`The following package(s) will be removed:\n\n${packageColumns(removed)}\n`);
      if (args["dry-run"]) {
        if (args.json) json({ dryRun: true, remove: removed });
        return;
      }
      await confirmOrCancel("Do you wish to continue?", { yes: globals.yes });
      if (!args.json) for (const c of plan.removed) out(`Removed ${c.meta.name}`);
      const progress = args.json ? undefined : createProgress("Blitting filesystem");
      const result = await applyRemove(session, plan, { onBlitProgress: progress?.update });
      progress?.done();
      await afterNewState(session, globals, result);
      if (args.json) return json({ state: result.stateId, previous: result.previous ?? null, removed, blit: result.blit });
      out(`\n${blitSummary(result.blit.entries, result.blit.seconds)}`);
    });
  },
});
