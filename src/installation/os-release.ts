import fs from "node:fs";
import path from "node:path";
import { errnoOf } from "../linux/index.ts";
import { writeFileAtomic } from "./atomic-write.ts";

/** os-release keys filled from the websites of os-info.json, by the website's `scope`. */
const WEBSITE_KEYS: Readonly<Record<string, string>> = {
  home: "HOME_URL",
  documentation: "DOCUMENTATION_URL",
  support: "SUPPORT_URL",
  "bug-tracker": "BUG_REPORT_URL",
};

/** Scopes that become extra keys, printed after the standard ones in key order. */
const WEBSITE_EXTRA_KEYS: Readonly<Record<string, string>> = {
  "privacy-policy": "PRIVACY_POLICY_URL",
  "terms-of-service": "TERMS_OF_SERVICE_URL",
  "security-policy": "SECURITY_POLICY_URL",
};

const FALLBACK_VERSION = "no-os-info.json";

/**
 * Generate `<usrDir>/lib/os-release` from `<usrDir>/lib/os-info.json`, or a plain "Unbranded OS"
 * release when that is missing or unusable. `lib` is created for a tree with no packages.
 */
export function writeOsRelease(usrDir: string): void {
  const libDir = path.join(usrDir, "lib");
  let osInfoText: string | undefined;
  try {
    osInfoText = fs.readFileSync(path.join(libDir, "os-info.json"), "utf8");
  } catch (error) {
    const errno = errnoOf(error);
    if (errno !== "ENOENT" && errno !== "ENOTDIR" && errno !== "EISDIR") throw error;
  }
  fs.mkdirSync(libDir, { recursive: true, mode: 0o755 });
  writeFileAtomic(path.join(libDir, "os-release"), renderOsRelease(osInfoText));
}

/** The os-release text for an os-info.json document (its text, or undefined when absent). */
export function renderOsRelease(osInfoText: string | undefined): string {
  const fields = osInfoText === undefined ? undefined : osReleaseFields(osInfoText);
  return formatLines(fields ?? fallbackFields());
}

/**
 * Key/value pairs in os-release order, from AerynOS os-info schema 0.1. Only the fields that feed
 * os-release must be well-formed: version.short and version.full are required, identity strings
 * default to "" as in the schema, unknown website scopes are skipped. Undefined if unusable.
 */
export function osReleaseFields(osInfoText: string): [string, string][] | undefined {
  let document: unknown;
  try {
    document = JSON.parse(osInfoText);
  } catch {
    return undefined;
  }
  const metadata = objectAt(document, "metadata");
  const version = objectAt(metadata, "version");
  const identity = objectAt(metadata, "identity") ?? {};
  if (version === undefined || typeof version.short !== "string" || typeof version.full !== "string") return undefined;

  const fields: [string, string][] = [
    ["NAME", stringAt(identity, "name") ?? ""],
    ["ID", stringAt(identity, "id") ?? ""],
    ["VERSION_ID", version.short],
    ["VERSION", version.full],
    ["PRETTY_NAME", stringAt(identity, "display") ?? ""],
  ];
  const idLike = stringAt(identity, "id_like");
  if (idLike !== undefined) fields.push(["ID_LIKE", idLike]);

  const urls = new Map<string, string>();
  const extras = new Map<string, string>();
  const ansiColor = stringAt(identity, "ansi_color");
  if (ansiColor !== undefined) extras.set("ANSI_COLOR", ansiColor);
  const email = stringAt(objectAt(document, "security_contact"), "email");
  if (email !== undefined) extras.set("SECURITY_CONTACT", email);
  // Rust walks a hash map, so two sites with one scope give a random winner; the first listed wins here.
  for (const site of Object.values(objectAt(objectAt(document, "resources"), "websites") ?? {})) {
    const scope = stringAt(site, "scope");
    const url = stringAt(site, "url");
    if (scope === undefined || url === undefined) continue;
    const key = WEBSITE_KEYS[scope];
    const extraKey = WEBSITE_EXTRA_KEYS[scope];
    if (key !== undefined && !urls.has(key)) urls.set(key, url);
    if (extraKey !== undefined && !extras.has(extraKey)) extras.set(extraKey, url);
  }
  for (const key of Object.values(WEBSITE_KEYS)) {
    const url = urls.get(key);
    if (url !== undefined) fields.push([key, url]);
  }
  for (const key of [...extras.keys()].sort()) fields.push([key, extras.get(key)!]);
  return fields;
}

function fallbackFields(): [string, string][] {
  return [
    ["NAME", "Unbranded OS"],
    ["ID", "unbranded-os"],
    ["VERSION_ID", FALLBACK_VERSION],
    ["VERSION", FALLBACK_VERSION],
    ["PRETTY_NAME", "Unbranded OS (/usr/lib/os-info.json is missing)"],
    ["HOME_URL", "https://github.com/AerynOS/os-info"],
  ];
}

/** `KEY="value"` lines. os-release is shell-sourced, so `\`, `"`, `$` and backquote are escaped. */
function formatLines(fields: [string, string][]): string {
  return fields.map(([key, value]) => `${key}="${value.replace(/[\\"$`]/g, "\\$&").replace(/\n/g, " ")}"\n`).join("");
}

function objectAt(value: unknown, key: string): Record<string, unknown> | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const child = (value as Record<string, unknown>)[key];
  return typeof child === "object" && child !== null && !Array.isArray(child) ? (child as Record<string, unknown>) : undefined;
}

function stringAt(value: unknown, key: string): string | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const child = (value as Record<string, unknown>)[key];
  return typeof child === "string" ? child : undefined;
}
