import { packageInfo } from "../client/info.ts";
import { formatDependency, type Dependency } from "../stone/index.ts";
import { assetName } from "../store/index.ts";
import { bold, json, out } from "../ui/output.ts";
import { mossCommand } from "./command.ts";
import { withSession } from "./session.ts";

const TITLE_WIDTH = 21;
const WRAP = 60;
const title = (text: string) => bold(text.padEnd(TITLE_WIDTH - 1)) + " ";
const indent = " ".repeat(TITLE_WIDTH);

/** Paragraphs split on blank lines, re-flowed to 60 columns, continuation lines under the value column. */
function wrapDescription(text: string): string {
  const paragraphs = text.split(/\n\s*\n/).map((p) => p.split(/\s+/).filter(Boolean));
  const lines: string[] = [];
  for (const [i, words] of paragraphs.entries()) {
    if (i > 0) lines.push("");
    let line = "";
    for (const word of words) {
      if (line && line.length + 1 + word.length > WRAP) {
        lines.push(line);
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
    if (line) lines.push(line);
  }
  return lines.map((l, i) => (i === 0 ? l : l ? indent + l : "")).join("\n");
}

function bullets(label: string, items: Dependency[]): string {
  const texts = items.map(formatDependency).sort();
  return texts.map((t, i) => (i === 0 ? title(label) : indent) + `• ${t}`).join("\n");
}

export default mossCommand({
  meta: { name: "info", description: "Query packages" },
  args: {
    packages: { type: "positional", description: "packages to query", required: true },
    files: { type: "boolean", alias: "f", description: "Show files provided by the package" },
    json: { type: "boolean", description: "Print JSON" },
  },
  run: (args, globals) =>
    withSession(globals, false, async (session) => {
      const results = await packageInfo(session, args._, Boolean(args.files));
      if (args.json) {
        return json(results.flatMap((r) => r.packages.map(({ candidate: c, installed, files }) => ({
          id: c.id, name: c.meta.name, installed, version: c.meta.version, release: c.meta.release, buildRelease: c.meta.buildRelease,
          homepage: c.meta.homepage, summary: c.meta.summary, description: c.meta.description, licenses: c.meta.licenses,
          dependencies: c.meta.dependencies.map(formatDependency).sort(), providers: c.meta.providers.map(formatDependency).sort(),
          files: files?.map((f) => ({ path: f.path, kind: f.kind, digest: f.digest, source: f.source })),
        }))));
      }
      for (const { packages } of results) {
        for (const { candidate: c, installed, files } of packages) {
          const lines = [
            title("Name") + c.meta.name,
            title("Status") + (installed ? "Installed" : "Not installed"),
            title("Version") + c.meta.version,
            title("Release number") + c.meta.release,
          ];
          if (c.meta.buildRelease > 1) lines.push(title("Build Release") + c.meta.buildRelease);
          lines.push(title("Homepage") + c.meta.homepage, title("Summary") + c.meta.summary, title("Description") + wrapDescription(c.meta.description), "");
          if (c.meta.dependencies.length > 0) lines.push(bullets("Dependencies", c.meta.dependencies), "");
          if (c.meta.providers.length > 0) lines.push(bullets("Providers", c.meta.providers), "");
          if (files) {
            lines.push(bold("Files"));
            for (const f of files) lines.push(`  ${f.path}${f.kind === "regular" ? ` (${assetName(f.digest!)})` : f.kind === "symlink" ? ` -> ${f.source}` : ""}`);
            lines.push("");
          }
          out(lines.join("\n"));
        }
      }
    }),
});
