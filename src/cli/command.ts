/**
 * citty commands with what citty leaves out: an unknown option is a usage error (exit 2), not
 * silently ignored, and every run sees the global options.
 */
import { defineCommand, type ArgsDef, type CommandDef, type CommandMeta, type ParsedArgs, type SubCommandsDef } from "citty";
import { UsageError } from "../errors.ts";
import type { GlobalOptions } from "./argv.ts";
import { globals } from "./context.ts";

export interface MossCommandDef<T extends ArgsDef> {
  meta: CommandMeta & { name: string };
  args?: T;
  subCommands?: SubCommandsDef;
  run?: (args: ParsedArgs<T>, globals: GlobalOptions) => void | Promise<void>;
}

export function mossCommand<const T extends ArgsDef>(def: MossCommandDef<T>): CommandDef<T> {
  const argsDef = (def.args ?? {}) as T;
  return defineCommand<T>({
    meta: def.meta,
    args: argsDef,
    subCommands: def.subCommands,
    run: def.run
      ? async (ctx) => {
          checkKnownOptions(def.meta.name, ctx.rawArgs, argsDef);
          await def.run!(ctx.args, globals());
        }
      : undefined,
  });
}

function checkKnownOptions(command: string, rawArgs: string[], argsDef: ArgsDef): void {
  const known = new Set<string>();
  const booleans = new Set<string>();
  for (const [name, arg] of Object.entries(argsDef)) {
    if (arg.type === "positional") continue;
    const alias = "alias" in arg ? arg.alias : undefined;
    const names = [name, ...(Array.isArray(alias) ? alias : alias ? [alias] : [])];
    for (const n of names) {
      known.add(n);
      if (arg.type === "boolean") booleans.add(n);
    }
  }
  for (const token of rawArgs) {
    if (token === "--") break;
    if (!token.startsWith("-") || token === "-") continue;
    const ok = token.startsWith("--") ? knownLong(token.slice(2), known, booleans) : knownShort(token.slice(1), known, booleans);
    if (!ok) throw new UsageError(`unexpected argument '${token}' found for 'moss ${command}'`);
  }
}

function knownLong(option: string, known: Set<string>, booleans: Set<string>): boolean {
  const name = option.replace(/=.*$/, "");
  return known.has(name) || (name.startsWith("no-") && booleans.has(name.slice(3)));
}

/** `-abc` bundles booleans; the first option that takes a value swallows the rest (`-oDIR`). */
function knownShort(bundle: string, known: Set<string>, booleans: Set<string>): boolean {
  for (const c of bundle) {
    if (!known.has(c)) return false;
    if (!booleans.has(c)) return true;
  }
  return true;
}
