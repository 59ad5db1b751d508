import fs from "node:fs";
import path from "node:path";
import { errnoOf } from "../linux/index.ts";
import { InstallationError } from "./errors.ts";

/** The merged-/usr links at a root, in the order Rust creates them. Targets are relative. */
export const ROOT_LINKS: readonly { readonly name: string; readonly target: string }[] = [
  { name: "sbin", target: "usr/sbin" },
  { name: "bin", target: "usr/bin" },
  { name: "lib", target: "usr/lib" },
  { name: "lib64", target: "usr/lib" },
  { name: "lib32", target: "usr/lib32" },
];

/**
 * What would stop ensureRootLinks in `dir`, as sentences; empty when it can go ahead. A
 * transaction calls this before it swaps `/usr`, so a real `/bin` directory is refused while the
 * old system is still live, not after.
 */
export function checkRootLinks(dir: string): string[] {
  const problems: string[] = [];
  const dirKind = kindAt(dir);
  if (dirKind !== "directory") return [`${JSON.stringify(dir)} ${dirKind === undefined ? "does not exist" : `is a ${dirKind}`}`];
  for (const { name, target } of ROOT_LINKS) {
    const link = path.join(dir, name);
    const kind = kindAt(link);
    if (kind !== undefined && kind !== "symlink") problems.push(`${JSON.stringify(link)} is a ${kind}, not a symlink to ${target}`);
    const staged = `${link}.next`;
    if (kindAt(staged) === "directory") problems.push(`${JSON.stringify(staged)} is a directory`);
  }
  return problems;
}

/**
 * Make each root link exist with exactly its target, touching only those that differ: a link is
 * compared with readlink and never followed, so a dangling `lib32` (no 32-bit libraries) is
 * correct as it is. A wrong one is replaced atomically through `<name>.next`. Refuses, before
 * changing anything, when checkRootLinks finds a problem. Returns the names it created or replaced.
 */
export function ensureRootLinks(dir: string): string[] {
  const problems = checkRootLinks(dir);
  if (problems.length > 0) {
    throw new InstallationError("INSTALLATION_ROOT_LINKS", `cannot make the root links: ${problems.join("; ")}`);
  }
  const changed: string[] = [];
  for (const { name, target } of ROOT_LINKS) {
    const link = path.join(dir, name);
    const staged = `${link}.next`;
    fs.rmSync(staged, { force: true });
    if (readlinkOrUndefined(link) === target) continue;
    fs.symlinkSync(target, staged);
    fs.renameSync(staged, link);
    changed.push(name);
  }
  return changed;
}

type Kind = "directory" | "file" | "symlink" | "special file";

function kindAt(file: string): Kind | undefined {
  let stats: fs.Stats;
  try {
    stats = fs.lstatSync(file);
  } catch (error) {
    if (errnoOf(error) === "ENOENT") return undefined;
    throw error;
  }
  if (stats.isSymbolicLink()) return "symlink";
  if (stats.isDirectory()) return "directory";
  return stats.isFile() ? "file" : "special file";
}

function readlinkOrUndefined(link: string): string | undefined {
  try {
    return fs.readlinkSync(link);
  } catch (error) {
    const errno = errnoOf(error);
    if (errno === "ENOENT" || errno === "EINVAL") return undefined;
    throw error;
  }
}
