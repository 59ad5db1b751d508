/**
 * The kernel command line of an entry (boot-management §3.2–§3.4 "Ours"): the root descriptor
 * and `rw`, then vendor snippets (the state's `usr/lib/kernel/cmdline.d/*.cmdline`), the kernel's
 * own snippets, the admin's (`/etc/kernel/cmdline.d/*.cmdline`, last so they win), each group in
 * file-name order, and `moss.fstx=<state>` last. A link in `/etc/kernel/cmdline.d` to `/dev/null`
 * masks the vendor snippet of the same name.
 */
import fs from "node:fs";
import path from "node:path";
import { listNames, readTextIfAny } from "./tolerant-fs.ts";

/** A snippet's words: lines trimmed, comment and empty lines dropped, joined by spaces. */
export function parseSnippet(text: string): string {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"))
    .join(" ");
}

/** A directory or an unreadable file in cmdline.d contributes nothing (as in Rust). */
function readSnippet(file: string): string {
  return parseSnippet(readTextIfAny(file) ?? "");
}

function snippetNames(dir: string): string[] {
  return listNames(dir).filter((name) => name.endsWith(".cmdline"));
}

/** A link to /dev/null, written absolute or relative: a mask. */
function isMask(file: string): boolean {
  try {
    if (!fs.lstatSync(file).isSymbolicLink()) return false;
    const target = fs.readlinkSync(file);
    return path.posix.resolve("/etc/kernel/cmdline.d", target) === "/dev/null";
  } catch {
    return false;
  }
}

export interface AdminSnippets {
  /** In file-name order. */
  snippets: string[];
  /** File names of vendor snippets the admin masked. */
  masks: Set<string>;
}

/** `/etc/kernel/cmdline.d` of the installation: `/etc` is not part of a state, so it applies to every entry. */
export function readAdminSnippets(rootDir: string): AdminSnippets {
  const dir = path.join(rootDir, "etc", "kernel", "cmdline.d");
  const snippets: string[] = [];
  const masks = new Set<string>();
  for (const name of snippetNames(dir)) {
    const file = path.join(dir, name);
    if (isMask(file)) masks.add(name);
    else snippets.push(readSnippet(file));
  }
  return { snippets: snippets.filter((s) => s !== ""), masks };
}

/** The state's vendor snippets that no admin mask hides, in file-name order. */
export function readVendorSnippets(treeRoot: string, masks: ReadonlySet<string>): string[] {
  const dir = path.join(treeRoot, "usr", "lib", "kernel", "cmdline.d");
  return snippetNames(dir)
    .filter((name) => !masks.has(name))
    .map((name) => readSnippet(path.join(dir, name)))
    .filter((s) => s !== "");
}

export interface EntryCmdline {
  rootWords: readonly string[];
  vendor: readonly string[];
  /** The kernel's own snippet files (vendor-fixed: never masked). */
  kernelFiles: readonly string[];
  admin: readonly string[];
  stateId: number;
}

export function entryOptions({ rootWords, vendor, kernelFiles, admin, stateId }: EntryCmdline): string {
  const kernel = kernelFiles.map(readSnippet).filter((s) => s !== "");
  return [...rootWords, ...vendor, ...kernel, ...admin, `moss.fstx=${stateId}`].join(" ");
}
