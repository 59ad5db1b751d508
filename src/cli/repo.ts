import { MossError } from "../errors.ts";
import { normaliseUrl, parseVersion, repositoryFromFields, sanitizeId, type Repository } from "../repository/config.ts";
import type { RepositoryManager } from "../repository/manager.ts";
import { openRepositories } from "../client/repositories.ts";
import type { RefreshReport } from "../repository/refresh.ts";
import { json, out } from "../ui/output.ts";
import { mossCommand } from "./command.ts";
import type { GlobalOptions } from "./argv.ts";
import { withSession } from "./session.ts";

async function withManager<T>(globals: GlobalOptions, write: boolean, work: (manager: RepositoryManager) => Promise<T> | T): Promise<T> {
  return withSession(globals, write, async (session) => work(await openRepositories(session)));
}

/** `--root-index version=stream/x,channel=main,arch=x86_64` (spec §4.13). */
export function parseRootIndexOptions(text: string): { version: string; channel?: string; arch?: string } {
  if (!text.includes("=")) throw new MossError("USAGE_ROOT_INDEX", "options must be key=value[,key=value]*");
  const options: Record<string, string> = {};
  for (const pair of text.split(",")) {
    const eq = pair.indexOf("=");
    if (eq < 0) throw new MossError("USAGE_ROOT_INDEX", "options must be key=value[,key=value]*");
    const key = pair.slice(0, eq);
    if (!["version", "channel", "arch"].includes(key)) throw new MossError("USAGE_ROOT_INDEX", `unknown key: ${key}`);
    options[key] = pair.slice(eq + 1);
  }
  if (options.version === undefined) throw new MossError("USAGE_ROOT_INDEX", "--root-index needs version=<stream|tag|history>/<id>");
  parseVersion(options.version);
  return options as { version: string; channel?: string; arch?: string };
}

function describeSource(repository: Repository): string {
  const { source } = repository;
  const mirrors = repository.mirrors.length > 0 ? ` (mirrors: ${repository.mirrors.join(", ")})` : "";
  if (source.kind === "direct") return `${source.uri}${mirrors}`;
  return `(base-uri=${source.baseUri}, channel=${source.channel}, version=${source.version.scope}/${source.version.id}, arch=${source.arch})${mirrors}`;
}

function repositoryJson(repository: Repository) {
  const { source } = repository;
  return {
    id: repository.id,
    description: repository.description,
    ...(source.kind === "direct"
      ? { uri: source.uri }
      : { baseUri: source.baseUri, channel: source.channel, version: `${source.version.scope}/${source.version.id}`, arch: source.arch }),
    mirrors: repository.mirrors,
    publicKey: repository.publicKey ?? null,
    priority: repository.priority,
    active: repository.active,
  };
}

/** `Refreshed <id>` and, when the index changed, what changed in it. */
function printReport(report: RefreshReport): void {
  const changes = [[report.added, "new"], [report.updated, "updated"], [report.removed, "removed"]] as const;
  const counts = changes.map(([names, label]) => `${names.length} ${label}`).join(", ");
  out(`Refreshed ${report.id} (${report.packages} package${report.packages === 1 ? "" : "s"}: ${counts})`);
  for (const [names, label] of changes) if (names.length > 0) out(`  ${label.padEnd(8)}${names.join(" ")}`);
}

const add = mossCommand({
  meta: { name: "add", description: "Add a repository" },
  args: {
    name: { type: "positional", description: "repository id", required: true },
    uri: { type: "positional", description: "index URL (or base URI with --root-index)", required: true },
    comment: { type: "string", alias: "c", description: "description", default: "..." },
    priority: { type: "string", alias: "p", description: "priority (higher is preferred)", default: "0" },
    "root-index": { type: "string", description: "the URI is a root index: version=<scope/id>[,channel=<id>][,arch=<arch>]" },
    mirrors: { type: "string", description: "other URIs serving the same repository, comma-separated, tried in order when one fails" },
    "public-key": { type: "string", description: "ed25519 public key (base64) the repository's index must be signed with" },
    json: { type: "boolean", description: "Print the refresh report as JSON" },
  },
  run: (args, globals) =>
    withManager(globals, true, async (manager) => {
      if (!/^\d+$/.test(args.priority)) throw new MossError("USAGE_PRIORITY", `priority must be an unsigned integer, not "${args.priority}"`);
      const id = sanitizeId(args.name);
      const fields: Record<string, unknown> = { description: args.comment, priority: Number(args.priority), active: true };
      if (args.mirrors) fields.mirrors = args.mirrors.split(",").filter(Boolean);
      if (args["public-key"] !== undefined) fields["public-key"] = args["public-key"];
      if (args["root-index"] !== undefined) Object.assign(fields, { "base-uri": normaliseUrl(args.uri, "base URI"), ...parseRootIndexOptions(args["root-index"]) });
      else fields.uri = args.uri;
      const report = await manager.add(repositoryFromFields(id, fields));
      if (args.json) return json(report);
      out(`${id} added`);
    }),
});

const list = mossCommand({
  meta: { name: "list", description: "List the configured repositories" },
  args: { json: { type: "boolean", description: "Print JSON" } },
  run: (args, globals) =>
    withManager(globals, false, (manager) => {
      const repositories = manager.list();
      if (args.json) return json(repositories.map(repositoryJson));
      if (repositories.length === 0) return out("No repositories have been configured yet");
      for (const r of repositories) out(` - ${r.id} = ${describeSource(r)} [${r.priority}]${r.active ? "" : " (disabled)"}`);
    }),
});

const remove = mossCommand({
  meta: { name: "remove", description: "Remove a repository" },
  args: { name: { type: "positional", description: "repository id", required: true } },
  run: (args, globals) =>
    withManager(globals, true, (manager) => {
      const id = sanitizeId(args.name);
      manager.remove(id);
      out(`${id} removed`);
    }),
});

const update = mossCommand({
  meta: { name: "update", description: "Refresh one repository, or every enabled one" },
  args: {
    name: { type: "positional", description: "repository id", required: false },
    json: { type: "boolean", description: "Print the refresh reports as JSON" },
  },
  run: (args, globals) =>
    withManager(globals, true, async (manager) => {
      const { reports, failures } = await manager.update(args.name === undefined ? undefined : sanitizeId(args.name));
      if (args.json) json({ refreshed: reports, failed: failures.map((f) => ({ id: f.id, error: f.error.message })) });
      else for (const report of reports) printReport(report);
      if (failures.length > 0) {
        const lines = failures.map((f) => `${f.id}: ${f.error.message}`);
        throw new MossError("REFRESH_FAILED", failures.length === 1 ? `refreshing ${lines[0]}` : `refreshing ${failures.length} repositories failed:\n  ${lines.join("\n  ")}`);
      }
    }),
});

function toggle(active: boolean) {
  return mossCommand({
    meta: { name: active ? "enable" : "disable", description: `${active ? "Enable" : "Disable"} a repository` },
    args: { name: { type: "positional", description: "repository id", required: true } },
    run: (args, globals) =>
      withManager(globals, true, async (manager) => {
        const id = sanitizeId(args.name);
        await manager.setActive(id, active);
        out(`${id} ${active ? "enabled" : "disabled"}`);
      }),
  });
}

const enable = toggle(true);
const disable = toggle(false);

export default mossCommand({
  meta: { name: "repo", description: "Manage software repositories" },
  subCommands: { add, ar: add, list, lr: list, remove, rr: remove, update, ur: update, enable, er: enable, disable, dr: disable },
});
