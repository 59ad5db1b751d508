import { MossError } from "../errors.ts";
import { DEPENDENCY_KIND_NAMES, DependencyKind, type Dependency, type DependencyKindName } from "./types.ts";

/** The text form `kind(name)` (stone §9). */
export function formatDependency(dependency: Dependency): string {
  return `${dependency.kind}(${dependency.name})`;
}

export function dependencyFromKind(kindValue: number, name: string): Dependency {
  return { kind: DEPENDENCY_KIND_NAMES[kindValue] ?? "unknown", kindValue, name };
}

/**
 * Parse a recipe or command-line string: a bare word is a package name; otherwise split at the
 * first `(`, the rest must end in `)`, and nested brackets stay in the name.
 */
export function parseDependency(text: string): Dependency {
  const open = text.indexOf("(");
  if (open < 0) {
    if (text.length === 0) throw new MossError("DEPENDENCY_INVALID", "empty dependency");
    return { kind: "name", kindValue: DependencyKind.name, name: text };
  }
  const kind = text.slice(0, open);
  if (!(kind in DependencyKind) || !text.endsWith(")") || text.length - 1 <= open + 1) {
    throw new MossError("DEPENDENCY_INVALID", `invalid dependency type: ${text}`);
  }
  const name = text.slice(open + 1, -1);
  return { kind: kind as DependencyKindName, kindValue: DependencyKind[kind as DependencyKindName], name };
}

/** Byte-wise order of the text form, as writers sort depends, provides and conflicts. */
export function compareDependencies(a: Dependency, b: Dependency): number {
  return compareBytes(formatDependency(a), formatDependency(b));
}

export function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
