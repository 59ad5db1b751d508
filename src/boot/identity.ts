/**
 * Who a state's tree says the OS is (boot-management §2.6): `usr/lib/os-info.json`, else
 * `usr/lib/os-release`. The id names entries and the kernel directory on the ESP; the display
 * name titles entries; former ids are what garbage collection also owns.
 */
import fs from "node:fs";
import path from "node:path";
import { readTextIfAny } from "./tolerant-fs.ts";

export interface OsIdentity {
  id: string;
  /** For entry titles. */
  display: string;
  name: string;
  /** Ids this OS had before (the Serpent OS → AerynOS rename): their entries are ours too. */
  formerIds: string[];
}

/** The former id the os-info data lists and the one Serpent OS actually used are both honoured. */
const SPELLINGS: Record<string, string[]> = { serpentos: ["serpent-os"], "serpent-os": ["serpentos"] };

export function readIdentity(usrDir: string): OsIdentity | undefined {
  return fromOsInfo(path.join(usrDir, "lib", "os-info.json")) ?? fromOsRelease(path.join(usrDir, "lib", "os-release"));
}

function withSpellings(ids: string[]): string[] {
  return [...new Set(ids.flatMap((id) => [id, ...(SPELLINGS[id] ?? [])]))];
}

function fromOsInfo(file: string): OsIdentity | undefined {
  let document: unknown;
  try {
    document = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch {
    return undefined;
  }
  const identity = (document as { metadata?: { identity?: Record<string, unknown> } })?.metadata?.identity;
  if (!identity || typeof identity.id !== "string" || identity.id === "") return undefined;
  const former = Array.isArray(identity.former_identities) ? identity.former_identities : [];
  const formerIds = former.flatMap((f: unknown) => (typeof (f as { id?: unknown })?.id === "string" ? [(f as { id: string }).id] : []));
  const name = typeof identity.name === "string" ? identity.name : identity.id;
  return { id: identity.id, display: typeof identity.display === "string" && identity.display !== "" ? identity.display : name, name, formerIds: withSpellings(formerIds) };
}

/** os-release(5) as Rust reads it: `KEY=value` lines, quotes stripped from both ends. */
export function parseOsRelease(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const entry of text.split("\n")) {
    const line = entry.trim();
    if (line === "" || line.startsWith("#")) continue;
    const at = line.indexOf("=");
    if (at <= 0) continue;
    const value = line.slice(at + 1);
    // A quoted value (moss writes os-release so, escaped inside) loses its quotes and escapes; anything else is trimmed of quotes as Rust does.
    const quote = value[0];
    const quoted = value.length >= 2 && (quote === '"' || quote === "'") && value.at(-1) === quote;
    fields.set(line.slice(0, at), quoted ? value.slice(1, -1).replace(/\\(["\\$`])/g, "$1") : value.replace(/^["']+|["']+$/g, ""));
  }
  return fields;
}

function fromOsRelease(file: string): OsIdentity | undefined {
  const text = readTextIfAny(file);
  if (text === undefined) return undefined;
  const fields = parseOsRelease(text);
  const id = fields.get("ID");
  const name = fields.get("NAME");
  if (!id || !name) return undefined;
  return { id, display: fields.get("PRETTY_NAME") || name, name, formerIds: [] };
}
