import { pruneCache } from "../client/cache.ts";
import { json, out } from "../ui/output.ts";
import { mossCommand } from "./command.ts";
import { withSession } from "./session.ts";

const prune = mossCommand({
  meta: { name: "prune", description: "Remove cached packages and files nothing refers to" },
  args: { json: { type: "boolean", description: "Print JSON" } },
  run: (args, globals) =>
    withSession(globals, true, async (session) => {
      const report = await pruneCache(session);
      if (args.json) return json(report);
      const n = report.filesRemoved;
      out(n === 0 ? "No files to remove" : `${n} file${n === 1 ? "" : "s"} removed`);
    }),
});

export default mossCommand({
  meta: { name: "cache", description: "Manage the package cache" },
  subCommands: { prune },
});
