import { json, out } from "../ui/output.ts";
import { mossCommand } from "./command.ts";
import { withSession } from "./session.ts";

/** The longest prefix of `keyword` that is a suffix of `/usr/` goes: `/usr/bin/nano` finds `bin/nano`. */
export function stripUsrPrefix(keyword: string): string {
  for (const prefix of ["/usr/", "usr/", "sr/", "r/", "/"]) if (keyword.startsWith(prefix)) return keyword.slice(prefix.length);
  return keyword;
}

/** `moss search-file` (spec §4.9): paths of every package in the layout DB containing the keyword. */
export default mossCommand({
  meta: { name: "search-file", description: "Search the files of the cached packages" },
  args: {
    keyword: { type: "positional", description: "part of a path (case-sensitive)", required: true },
    json: { type: "boolean", description: "Print JSON" },
  },
  run: (args, globals) =>
    withSession(globals, false, (session) => {
      const keyword = stripUsrPrefix(args.keyword);
      const hits = session.dbs.layout.targetsContaining(keyword);
      const names = new Map(session.dbs.install.getMany([...new Set(hits.map((h) => h.packageId))]).map((p) => [p.id, p.name]));
      // Packages whose metadata is gone are skipped, as Rust skips them.
      const rows = hits.filter((h) => names.has(h.packageId)).map((h) => ({ path: `/usr/${h.target}`, package: names.get(h.packageId)! }));
      if (args.json) return json(rows);
      for (const row of rows) out(`${row.path} from ${row.package}`);
    }),
});
