import { checkStone, inspectStone, type InspectReport } from "../client/inspect.ts";
import { MossError, UsageError } from "../errors.ts";
import { formatDependency } from "../stone/dependency.ts";
import { LayoutEntryType, META_TAG_NAMES, MetaTag, type Dependency } from "../stone/types.ts";
import { json, out } from "../ui/output.ts";
import { mossCommand } from "./command.ts";
import { rustDebugPath } from "./format.ts";

const COLUMN_WIDTH = 20;

export default mossCommand({
  meta: { name: "inspect", description: "Examine raw stone files" },
  args: {
    paths: { type: "positional", description: "files to inspect", required: true },
    check: { type: "boolean", description: "Check the integrity of the stone file(s)" },
    quiet: { type: "boolean", alias: "q", description: "Suppress output, only exit status indicates success or failure (requires --check)" },
    json: { type: "boolean", description: "Print one JSON document describing every file" },
  },
  async run(args) {
    const paths = args._;
    if (args.quiet && !args.check) throw new UsageError("the argument '--quiet' requires '--check'");
    if (args.check) return runCheck(paths, Boolean(args.quiet), Boolean(args.json));
    const reports = paths.map(inspectStone);
    if (args.json) {
      json(reports.map(({ metaRecords: _m, layoutRecords: _l, ...report }) => report));
      return;
    }
    for (const report of reports) printReport(report);
  },
});

async function runCheck(paths: string[], quiet: boolean, asJson: boolean) {
  const reports = [];
  for (const path of paths) {
    if (!quiet && !asJson) out(`Checking: ${rustDebugPath(path)}`);
    const report = await checkStone(path);
    reports.push(report);
    if (quiet || asJson) continue;
    for (const payload of report.payloads) out(`  OK: ${payload}`);
    out(report.ok ? "Result: OK\n" : `Result: FAILED - ${report.error!.message}\n`);
  }
  if (asJson) json(reports);
  if (reports.some((r) => !r.ok)) throw new MossError("INSPECT_FAILED", "inspect: One or more files failed the integrity check");
}

/** The form of spec §4.10: meta fields in file order, then each group, then the layout. */
function printReport(report: InspectReport) {
  const lines = [`${rustDebugPath(report.path)} = stone container version V${report.header.version}`];
  for (const meta of report.metaRecords) {
    const groups: Record<string, Dependency[]> = { Dependencies: [], Providers: [], Conflicts: [] };
    for (const record of meta) {
      const name = META_TAG_NAMES[record.tag] ?? "Unknown";
      const value = record.value;
      if (value.type === "dependency") groups.Dependencies!.push(value.value);
      else if (value.type === "provider" && record.tag === MetaTag.Provides) groups.Providers!.push(value.value);
      else if (value.type === "provider" && record.tag === MetaTag.Conflicts) groups.Conflicts!.push(value.value);
      else if (value.type === "string" || value.type === "int") lines.push(`${name.padEnd(COLUMN_WIDTH)} : ${value.value}`);
      else if (value.type === "provider") lines.push(`${name.padEnd(COLUMN_WIDTH)} : ${formatDependency(value.value)}`);
      else lines.push(`${name.padEnd(COLUMN_WIDTH)} : <${value.bytes.length} bytes of type ${value.primitive}>`);
    }
    for (const [title, items] of Object.entries(groups)) {
      if (items.length === 0) continue;
      lines.push("", `${title.padEnd(COLUMN_WIDTH)} :`, ...items.map((d) => `    - ${formatDependency(d)}`));
    }
  }
  if (report.layoutRecords.length > 0) {
    lines.push("", `${"Layout entries".padEnd(COLUMN_WIDTH)} :`);
    for (const entry of report.layoutRecords) {
      const target = `/usr/${entry.target}`;
      switch (entry.entryType) {
        case LayoutEntryType.Regular: lines.push(`    - ${target} - [Regular] ${entry.digest}`); break;
        case LayoutEntryType.Directory: lines.push(`    - ${target} [Directory]`); break;
        case LayoutEntryType.Symlink: lines.push(`    - ${target} -> ${entry.source} [Symlink]`); break;
        // Rust panics on these; we show them.
        default: lines.push(`    - ${target} [${LAYOUT_NAMES[entry.entryType] ?? `Unknown(${entry.entryType})`}]`);
      }
    }
  }
  out(lines.join("\n"));
}

const LAYOUT_NAMES: Record<number, string> = { 4: "CharacterDevice", 5: "BlockDevice", 6: "Fifo", 7: "Socket" };
