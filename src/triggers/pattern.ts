/**
 * Trigger path patterns (spec §5.3), anchored at both ends: `*` is any run without `/`, `**` any
 * run with it, `?` one character, `(name:sub)` a named capture of the pattern `sub`, `\` escapes
 * the next character, and everything else is itself (Rust lets `[`, `+`, `|` … keep their regex
 * meaning; here they are literal, as every shipped trigger means them).
 */
import { MossError } from "../errors.ts";

export interface CompiledPattern {
  source: string;
  regex: RegExp;
  /** Capture names in the order they appear. */
  captures: string[];
}

export class PatternError extends MossError {
  constructor(pattern: string, problem: string) {
    super("TRIGGER_PATTERN", `pattern ${JSON.stringify(pattern)}: ${problem}`);
    this.name = "PatternError";
  }
}

const escapeRegex = (c: string) => c.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");

function translate(pattern: string, whole: string, captures: string[], groupNames: Map<string, string>): string {
  let out = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "\\") {
      const next = pattern[++i];
      if (next === undefined) throw new PatternError(whole, "ends in a lone \\");
      out += escapeRegex(next);
    } else if (c === "*") {
      if (pattern[i + 1] === "*") {
        out += ".*";
        i++;
      } else out += "[^/]*";
    } else if (c === "?") {
      out += ".";
    } else if (c === "(") {
      const close = pattern.indexOf(")", i);
      if (close < 0) throw new PatternError(whole, "a capture is not closed");
      const inner = pattern.slice(i + 1, close);
      const colon = inner.indexOf(":");
      if (colon < 0 || inner.indexOf(":", colon + 1) >= 0) throw new PatternError(whole, `capture (${inner}) needs exactly one ':' between its name and its pattern`);
      const name = inner.slice(0, colon);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new PatternError(whole, `capture name ${JSON.stringify(name)} is not a name`);
      if (captures.includes(name)) throw new PatternError(whole, `capture ${name} is named twice`);
      captures.push(name);
      const group = `c${groupNames.size}`;
      groupNames.set(group, name);
      out += `(?<${group}>${translate(inner.slice(colon + 1), whole, captures, groupNames)})`;
      i = close;
    } else {
      out += escapeRegex(c);
    }
  }
  return out;
}

export function compilePattern(pattern: string): CompiledPattern & { groups: Map<string, string> } {
  const captures: string[] = [];
  const groups = new Map<string, string>();
  return { source: pattern, regex: new RegExp(`^${translate(pattern, pattern, captures, groups)}$`, "s"), captures, groups };
}

/** The captures of `path` when it matches, by name; undefined when it does not. */
export function matchPattern(compiled: ReturnType<typeof compilePattern>, path: string): Map<string, string> | undefined {
  const match = compiled.regex.exec(path);
  if (!match) return undefined;
  const captured = new Map<string, string>();
  for (const [group, name] of compiled.groups) captured.set(name, match.groups?.[group] ?? "");
  return captured;
}
