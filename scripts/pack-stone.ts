/**
 * Pack a directory tree (standing for /usr) into a binary .stone:
 *
 *   bun scripts/pack-stone.ts DIR --name N --version V --release R -o FILE [options]
 *
 * Exit 2 for a command line that cannot be parsed, 1 for input that cannot be packed.
 */
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { WRITER_DEFAULT_LEVEL, WRITER_WINDOW_LOG } from "../src/constants.ts";
import { MossError, UsageError } from "../src/errors.ts";
import { packTree } from "../src/stone/pack-tree.ts";
import { parseDependency, type PackageInput } from "../src/stone/index.ts";

const USAGE = `usage: bun scripts/pack-stone.ts DIR --name N --version V --release R -o FILE
  [--build-release N] [--arch A] [--summary S] [--description D] [--homepage H] [--source-id ID]
  [--license L]... [--depends DEP]... [--provides P]... [--conflicts C]... [--level N] [--window-log N]`;

const OPTIONS = {
  name: { type: "string" },
  version: { type: "string" },
  release: { type: "string" },
  output: { type: "string", short: "o" },
  "build-release": { type: "string", default: "1" },
  arch: { type: "string", default: "x86_64" },
  summary: { type: "string", default: "" },
  description: { type: "string", default: "" },
  homepage: { type: "string", default: "" },
  "source-id": { type: "string" },
  license: { type: "string", multiple: true, default: [] as string[] },
  depends: { type: "string", multiple: true, default: [] as string[] },
  provides: { type: "string", multiple: true, default: [] as string[] },
  conflicts: { type: "string", multiple: true, default: [] as string[] },
  level: { type: "string", default: String(WRITER_DEFAULT_LEVEL) },
  "window-log": { type: "string", default: String(WRITER_WINDOW_LOG) },
  help: { type: "boolean", short: "h" },
} as const;

async function main(argv: string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    // node's text goes on to explain `--`; the first sentence is the part that helps here.
    throw new UsageError((error as Error).message.split(". ")[0]!.replace(/\.$/, ""));
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (positionals.length !== 1) throw new UsageError(`expected one directory, got ${positionals.length} arguments`);
  const name = required(values.name, "--name");
  const pkg: PackageInput = {
    name,
    version: required(values.version, "--version"),
    release: integer(required(values.release, "--release"), "--release"),
    buildRelease: integer(values["build-release"], "--build-release"),
    architecture: values.arch,
    summary: values.summary,
    description: values.description,
    homepage: values.homepage,
    sourceId: values["source-id"] ?? name,
    licenses: values.license,
    dependencies: values.depends.map(parseDependency),
    providers: values.provides.map(parseDependency),
    conflicts: values.conflicts.map(parseDependency),
  };
  const outPath = required(values.output, "-o");
  if (!fs.statSync(path.dirname(path.resolve(outPath)), { throwIfNoEntry: false })?.isDirectory()) {
    throw new MossError("OUTPUT_DIR", `cannot write ${outPath}: its directory does not exist`);
  }
  const summary = await packTree(positionals[0]!, pkg, outPath, {
    level: integer(values.level, "--level"),
    windowLog: integer(values["window-log"], "--window-log"),
  });
  console.log(`${summary.path} ${summary.size} bytes`);
}

function required(value: string | undefined, flag: string): string {
  if (value === undefined || value === "") throw new UsageError(`${flag} is required`);
  return value;
}

/** Release numbers are u64 in the format, but must stay exact as JavaScript numbers. */
function integer(text: string, flag: string): number {
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new MossError("INVALID_NUMBER", `${flag} must be a non-negative integer, not "${text}"`);
  }
  return Number(text);
}

try {
  await main(process.argv.slice(2));
} catch (error) {
  // Our own errors and the system's (ENOENT, EACCES, ...) are the user's to fix; anything else is a bug.
  const systemError = error instanceof Error && typeof (error as NodeJS.ErrnoException).errno === "number";
  if (!(error instanceof MossError) && !systemError) throw error;
  const hint = error instanceof UsageError ? " (see --help)" : "";
  console.error(`Error: ${(error as Error).message}${hint}`);
  process.exit(error instanceof UsageError ? 2 : 1);
}
