/**
 * Entry point of the `moss` binary. Keeps start-up cheap: the global options are parsed by hand,
 * `--version` answers before anything else loads, and citty plus the sub-command are imported
 * only when needed.
 */
import { parseArgv, type GlobalOptions } from "./cli/argv.ts";
import { isMossError, MossError, UsageError } from "./errors.ts";
import { err, out, plainUnlessColor } from "./ui/output.ts";
import { fullVersion } from "./version.ts";

async function main(argv: string[]): Promise<number> {
  // The trigger container's two halves (triggers/container.ts): internal, never parsed as commands.
  if (argv[0] === "__container" || argv[0] === "__container-init") {
    const container = await import("./triggers/container.ts");
    try {
      return argv[0] === "__container" ? container.containerMain(argv[1] ?? "{}") : container.containerInit(argv[1] ?? "{}");
    } catch (error) {
      err(`moss ${argv[0]}: ${(error as Error).message}`);
      return 1;
    }
  }
  let globals: GlobalOptions | undefined;
  try {
    const parsed = parseArgv(argv);
    globals = parsed.globals;
    const { rest } = parsed;
    // Rust prints the full version first and then carries on with the sub-command, if any.
    if (globals.version) out(`moss ${fullVersion()}`);
    if (rest.length === 0 && globals.version && !globals.help) return 0;
    if (globals.generateManpages !== undefined || globals.generateCompletions !== undefined) {
      throw new MossError("UNSUPPORTED", "generating manual pages and shell completions is not implemented in moss-ts yet");
    }

    const [{ runCommand, renderUsage }, { app, SUBCOMMANDS }, { setGlobals }] = await Promise.all([
      import("citty"), import("./cli/app.ts"), import("./cli/context.ts"),
    ]);
    setGlobals(globals);
    if (globals.help || rest.length === 0) {
      const chain = await commandChain(app, rest);
      const usage = await renderUsage(chain.at(-1)!, chain.at(-2));
      if (globals.help) {
        out(plainUnlessColor(usage));
        return 0;
      }
      err(plainUnlessColor(usage, process.stderr));
      return 2;
    }
    if (!(rest[0]! in SUBCOMMANDS)) throw new UsageError(`unrecognized subcommand '${rest[0]}'`);
    if (globals.verbose && rest[0] !== "version") out(`moss ${(await import("./version.ts")).simpleVersion()}`);
    await runCommand(app, { rawArgs: rest });
    return 0;
  } catch (error) {
    if (isMossError(error) && error.code === "REPOSITORY_OUTDATED") return upgradeRepositories(error, globals?.directory ?? "/");
    return report(error, globals?.verbose ?? argv.includes("-v") ?? false);
  }
}

/** Spec §1.6: repositories on a legacy URL are rewritten in root-index form; the user runs the command again. */
async function upgradeRepositories(error: MossError, directory: string): Promise<number> {
  const [{ upgradeOutdated, OutdatedRepositoriesError }, path] = await Promise.all([import("./repository/legacy.ts"), import("node:path")]);
  if (!(error instanceof OutdatedRepositoriesError)) return report(error, false);
  try {
    await upgradeOutdated(path.resolve(directory), error.outdated, out);
  } catch (failure) {
    return report(failure, false);
  }
  return 1;
}

/** The root command and the sub-commands named in argv, for usage text. */
async function commandChain(root: import("citty").CommandDef<any>, rest: string[]) {
  const chain = [root];
  for (const token of rest) {
    const subs = await resolve(chain.at(-1)!.subCommands);
    if (!subs || !(token in subs)) break;
    const sub = await resolve(subs[token]);
    if (!sub) break;
    chain.push(sub);
  }
  return chain;
}

async function resolve<T>(value: T | (() => T | Promise<T>) | Promise<T>): Promise<T> {
  return typeof value === "function" ? await (value as () => T | Promise<T>)() : await value;
}

function report(error: unknown, verbose: boolean): number {
  const cittyCode = (error as { name?: string; code?: string })?.name === "CLIError";
  if (error instanceof UsageError || cittyCode) {
    err(`error: ${plainUnlessColor((error as Error).message, process.stderr)}`);
    err("For more information, try '--help'.");
    return 2;
  }
  if (isMossError(error)) {
    out(`Error: ${error.message}`);
    if (verbose && error.cause) err(String((error.cause as Error)?.stack ?? error.cause));
    return 1;
  }
  // Not ours: a bug, but still one line and exit 1, never a crash dump unless asked for.
  const message = (error as Error)?.message ?? String(error);
  out(`Error: internal error: ${message}`);
  if (verbose) err(String((error as Error)?.stack ?? ""));
  else err("This is a bug in moss-ts; run again with --verbose for details and report it.");
  return 1;
}

process.exit(await main(process.argv.slice(2)));
