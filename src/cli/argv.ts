/**
 * The global options of spec §4.1, accepted before or after the sub-command, taken out of argv
 * before the sub-command's own parser sees it; and the short aliases, which rewrite only the
 * sub-command position (Rust rewrites any matching token, so `moss install ls` broke).
 */
import { UsageError } from "../errors.ts";

export interface GlobalOptions {
  directory: string;
  cache?: string;
  yes: boolean;
  verbose: boolean;
  version: boolean;
  help: boolean;
  log?: string;
  /** A directory to use as the mounted ESP / XBOOTLDR instead of discovering them (boot-management §1.1). */
  esp?: string;
  xbootldr?: string;
  generateManpages?: string;
  generateCompletions?: string;
}

export interface ParsedArgv {
  globals: GlobalOptions;
  /** The sub-command path and its own arguments, aliases expanded. */
  rest: string[];
}

const VALUE_OPTIONS: Record<string, keyof GlobalOptions> = {
  "-D": "directory",
  "--directory": "directory",
  "--cache": "cache",
  "--log": "log",
  "--esp": "esp",
  "--xbootldr": "xbootldr",
  "--generate-manpages": "generateManpages",
  "--generate-completions": "generateCompletions",
};

const FLAG_OPTIONS: Record<string, keyof GlobalOptions> = {
  "-y": "yes",
  "--yes-all": "yes",
  "-v": "verbose",
  "--verbose": "verbose",
  "-V": "version",
  "--version": "version",
  "-h": "help",
  "--help": "help",
};

/** Short boolean globals that may be bundled, as in `-yv`. */
const BUNDLABLE = new Set(["y", "v", "V", "h"]);

export const ALIASES: Record<string, string[]> = {
  li: ["list", "installed"],
  la: ["list", "available"],
  ls: ["list", "sync"],
  lu: ["list", "sync"],
  ar: ["repo", "add"],
  lr: ["repo", "list"],
  rr: ["repo", "remove"],
  ur: ["repo", "update"],
  er: ["repo", "enable"],
  dr: ["repo", "disable"],
  fe: ["fetch"],
  ix: ["index"],
  it: ["install"],
  rm: ["remove"],
  up: ["sync"],
  // The parser's own visible aliases (spec §4.1).
  sr: ["search"],
  sf: ["search-file"],
};

export function parseArgv(argv: string[]): ParsedArgv {
  const globals: GlobalOptions = { directory: "/", yes: false, verbose: false, version: false, help: false };
  const rest: string[] = [];
  let commandSeen = false;
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (token === "--") {
      rest.push(...argv.slice(i));
      break;
    }
    const [name, inline] = splitInline(token);
    const valueKey = VALUE_OPTIONS[name];
    if (valueKey) {
      const value = inline ?? argv[++i];
      if (value === undefined || (inline === undefined && value.startsWith("-") && value !== "-")) {
        throw new UsageError(`a value is required for '${name} <${valueKey === "directory" ? "PATH" : "VALUE"}>' but none was supplied`);
      }
      (globals as unknown as Record<string, string>)[valueKey] = value;
      continue;
    }
    const flagKey = FLAG_OPTIONS[token];
    if (flagKey) {
      (globals as unknown as Record<string, boolean>)[flagKey] = true;
      continue;
    }
    if (/^-D./.test(token)) {
      globals.directory = token.slice(2).replace(/^=/, "");
      continue;
    }
    if (/^-[a-zA-Z]{2,}$/.test(token) && [...token.slice(1)].every((c) => BUNDLABLE.has(c))) {
      for (const c of token.slice(1)) (globals as unknown as Record<string, boolean>)[FLAG_OPTIONS[`-${c}`]!] = true;
      continue;
    }
    if (!commandSeen && !token.startsWith("-")) {
      commandSeen = true;
      rest.push(...(ALIASES[token] ?? [token]));
      continue;
    }
    rest.push(token);
  }
  return { globals, rest };
}

function splitInline(token: string): [string, string | undefined] {
  if (!token.startsWith("--")) return [token, undefined];
  const eq = token.indexOf("=");
  return eq < 0 ? [token, undefined] : [token.slice(0, eq), token.slice(eq + 1)];
}
