/**
 * Write a deterministic synthetic distribution of binary .stone packages, plus DIR/distro.json:
 *
 *   bun scripts/make-distro.ts --out DIR [--seed N] [--packages N] [--files N] [--level N]
 *
 * Exit 2 for a command line that cannot be parsed, 1 for options out of range.
 */
import { parseArgs } from "node:util";
import { MossError, UsageError } from "../src/errors.ts";
import { DEFAULT_FILES, DEFAULT_LEVEL, DEFAULT_SEED, makeDistro } from "./lib/distro.ts";

const USAGE = "usage: bun scripts/make-distro.ts --out DIR [--seed N] [--packages N] [--files N] [--level N]";

async function main(argv: string[]): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        out: { type: "string", short: "o" },
        seed: { type: "string", default: String(DEFAULT_SEED) },
        packages: { type: "string" },
        files: { type: "string", default: String(DEFAULT_FILES) },
        level: { type: "string", default: String(DEFAULT_LEVEL) },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }));
  } catch (error) {
    throw new UsageError((error as Error).message.split(". ")[0]!.replace(/\.$/, ""));
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (!values.out) throw new UsageError("--out is required");
  const started = performance.now();
  const manifest = await makeDistro({
    out: values.out,
    seed: integer(values.seed, "--seed"),
    packages: values.packages === undefined ? undefined : integer(values.packages, "--packages"),
    files: integer(values.files, "--files"),
    level: integer(values.level, "--level"),
  });
  const { totals } = manifest;
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`${values.out}: ${totals.packages} packages, ${totals.files} files (${totals.directories} directories), ` +
    `${mib(totals.plainBytes)} MiB of content in ${mib(totals.stoneBytes)} MiB of stones, ${seconds} s`);
}

function integer(text: string, flag: string): number {
  if (!/^\d+$/.test(text)) throw new MossError("INVALID_NUMBER", `${flag} must be a non-negative integer, not "${text}"`);
  return Number(text);
}

function mib(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(1);
}

try {
  await main(process.argv.slice(2));
} catch (error) {
  const systemError = error instanceof Error && typeof (error as NodeJS.ErrnoException).errno === "number";
  if (!(error instanceof MossError) && !systemError) throw error;
  console.error(`Error: ${(error as Error).message}${error instanceof UsageError ? " (see --help)" : ""}`);
  process.exit(error instanceof UsageError ? 2 : 1);
}
