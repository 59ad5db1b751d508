import { installedSource } from "../client/packages.ts";
import { MossError } from "../errors.ts";
import { json, out } from "../ui/output.ts";
import { packageLines } from "../ui/package-list.ts";
import { mossCommand } from "./command.ts";
import { withSession } from "./session.ts";

const installed = mossCommand({
  meta: { name: "installed", description: "List packages of the active state" },
  args: {
    explicit: { type: "boolean", alias: "e", description: "Only the packages that were asked for" },
    json: { type: "boolean", description: "Print JSON" },
  },
  run: (args, globals) =>
    withSession(globals, false, (session) => {
      const byName = new Map<string, ReturnType<typeof row>>();
      const row = (c: ReturnType<ReturnType<typeof installedSource>["all"]>[number]) => ({
        id: c.id, name: c.meta.name, version: c.meta.version, release: c.meta.release, summary: c.meta.summary, explicit: c.explicit ?? false,
      });
      for (const candidate of installedSource(session.installation, session.dbs).all()) {
        if (args.explicit && !candidate.explicit) continue;
        if (!byName.has(candidate.meta.name)) byName.set(candidate.meta.name, row(candidate));
      }
      const rows = [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      if (args.json) return json(rows);
      if (rows.length === 0) throw new MossError("NO_PACKAGES", "list: No packages found");
      // Without -e, transitive packages are dim (spec §4.5).
      for (const line of packageLines(rows.map((r) => ({ ...r, explicit: args.explicit ? true : r.explicit })))) out(line);
    }),
});

export default mossCommand({
  meta: { name: "list", description: "List packages" },
  subCommands: { installed, li: installed },
});
