import { installedSource } from "../client/packages.ts";
import { availableSources } from "../client/repositories.ts";
import { providerQuery, search } from "../client/search.ts";
import { bold, json, out } from "../ui/output.ts";
import { mossCommand } from "./command.ts";
import { withSession } from "./session.ts";

/** Every case-insensitive occurrence of `needle` in `text` in bold. */
function highlight(text: string, needle: string): string {
  if (!needle) return text;
  const lower = text.toLowerCase();
  let result = "";
  let at = 0;
  for (let found = lower.indexOf(needle); found >= 0; found = lower.indexOf(needle, found + needle.length)) {
    result += text.slice(at, found) + bold(text.slice(found, found + needle.length));
    at = found + needle.length;
  }
  return result + text.slice(at);
}

export default mossCommand({
  meta: { name: "search", description: "Search packages by name, summary or provider" },
  args: {
    keyword: { type: "positional", description: "a word, or a provider such as binary(nano)", required: true },
    installed: { type: "boolean", alias: "i", description: "Search the installed packages only" },
    provides: { type: "string", alias: "p", description: "Match the keyword as the name of a provider of this kind (library, soname, binary, …)" },
    json: { type: "boolean", description: "Print JSON" },
  },
  run: (args, globals) =>
    withSession(globals, false, async (session) => {
      const sources = args.installed ? [installedSource(session.installation, session.dbs)] : await availableSources(session);
      // A bare -p means binary (spec §4.8).
      const kind = args.provides === "" || args.provides === "true" ? "binary" : args.provides;
      const hits = search(sources, { keyword: args.keyword, provider: kind === undefined ? undefined : providerQuery(kind, args.keyword) });
      if (args.json) {
        return json(hits.map(({ candidate: c, field }) => ({ id: c.id, name: c.meta.name, version: c.meta.version, release: c.meta.release, summary: c.meta.summary, repository: c.repository ?? null, matched: field ?? "provider" })));
      }
      const width = Math.max(0, ...hits.map((h) => h.candidate.meta.name.length)) + 1;
      const needle = kind === undefined && !args.keyword.includes("(") ? args.keyword.toLowerCase() : "";
      for (const { candidate } of hits) {
        const pad = " ".repeat(width - candidate.meta.name.length);
        out(`${highlight(candidate.meta.name, needle)}${pad} ${highlight(candidate.meta.summary, needle)}`);
      }
    }),
});
