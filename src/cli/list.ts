import { installedSource } from "../client/packages.ts";
import { availableSources } from "../client/repositories.ts";
import { bestNamedMany, bestPerName } from "../registry/candidates.ts";
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

const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** Every package of every enabled repository, the best of each name (spec §4.5). */
const available = mossCommand({
  meta: { name: "available", description: "List the packages the enabled repositories offer" },
  args: { json: { type: "boolean", description: "Print JSON" } },
  run: (args, globals) =>
    withSession(globals, false, async (session) => {
      const rows = bestPerName(await availableSources(session)).map((c) => ({ id: c.id, name: c.meta.name, version: c.meta.version, release: c.meta.release, summary: c.meta.summary, repository: c.repository })).sort(byName);
      if (args.json) return json(rows);
      if (rows.length === 0) throw new MossError("NO_PACKAGES", "list: No packages found");
      for (const line of packageLines(rows)) out(line);
    }),
});

/** Installed packages whose best available candidate has another source release (a higher one with --upgrade-only). */
const sync = mossCommand({
  meta: { name: "sync", description: "List the installed packages a sync would change" },
  args: {
    "upgrade-only": { type: "boolean", description: "Only packages with a higher release available" },
    json: { type: "boolean", description: "Print JSON" },
  },
  run: (args, globals) =>
    withSession(globals, false, async (session) => {
      const sources = await availableSources(session);
      const rows: { name: string; version: string; release: number; newVersion: string; newRelease: number; summary: string; explicit: boolean }[] = [];
      const installed = installedSource(session.installation, session.dbs).all();
      const bests = bestNamedMany(sources, installed.map((c) => c.meta.name));
      const seen = new Set<string>();
      for (const c of installed) {
        if (seen.has(c.meta.name)) continue;
        seen.add(c.meta.name);
        const best = bests.get(c.meta.name);
        if (!best || best.meta.release === c.meta.release || (args["upgrade-only"] && best.meta.release < c.meta.release)) continue;
        rows.push({ name: c.meta.name, version: c.meta.version, release: c.meta.release, newVersion: best.meta.version, newRelease: best.meta.release, summary: best.meta.summary, explicit: c.explicit ?? false });
      }
      rows.sort(byName);
      if (args.json) return json(rows);
      if (rows.length === 0) throw new MossError("NO_PACKAGES", "list: No packages found");
      const lines = packageLines(rows.map((r) => ({ name: r.name, version: `${r.version}-${r.release} => ${r.newVersion}`, release: r.newRelease, summary: r.summary, explicit: r.explicit })));
      for (const line of lines) out(line);
    }),
});

export default mossCommand({
  meta: { name: "list", description: "List packages" },
  subCommands: { installed, li: installed, available, la: available, sync, ls: sync, lu: sync },
});
