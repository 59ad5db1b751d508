import { afterAll, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { renderOsRelease, writeOsRelease } from "../../src/installation/index.ts";

const temp = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), "moss-os-release-"));
afterAll(() => fs.rmSync(temp, { recursive: true, force: true }));

/** Shaped like AerynOS os-info schema 0.1, with every field os-release can use. */
const OS_INFO = {
  "os-info-version": "0.1",
  start_date: "2020-06-15T00:00:00Z",
  metadata: {
    identity: { id: "testos", id_like: "linux", name: "Test OS", display: "Test \"Quoted\" OS 1.2", ansi_color: "1;34", former_identities: [] },
    maintainers: {},
    version: { full: "1.2.0", short: "1.2", build_id: "2025.2", released: "2025-02-01T00:00:00Z" },
  },
  system: {},
  resources: {
    websites: {
      bugs: { url: "https://bugs.example.org", display_name: "Bugs", scope: "bug-tracker" },
      main: { url: "https://example.org", display_name: "Home", scope: "home" },
      mirror: { url: "https://mirror.example.org", display_name: "Mirror home", scope: "home" },
      docs: { url: "https://docs.example.org", display_name: "Docs", scope: "documentation" },
      help: { url: "https://help.example.org", display_name: "Help", scope: "support" },
      dev: { url: "https://dev.example.org", display_name: "Developers", scope: "developer" },
      terms: { url: "https://example.org/tos", display_name: "Terms", scope: "terms-of-service" },
      privacy: { url: "https://example.org/privacy", display_name: "Privacy", scope: "privacy-policy" },
      security: { url: "https://example.org/security", display_name: "Security", scope: "security-policy" },
    },
    social: {},
    funding: {},
  },
  security_contact: { email: "security@example.org" },
};

const EXPECTED = [
  'NAME="Test OS"',
  'ID="testos"',
  'VERSION_ID="1.2"',
  'VERSION="1.2.0"',
  'PRETTY_NAME="Test \\"Quoted\\" OS 1.2"',
  'ID_LIKE="linux"',
  'HOME_URL="https://example.org"',
  'DOCUMENTATION_URL="https://docs.example.org"',
  'SUPPORT_URL="https://help.example.org"',
  'BUG_REPORT_URL="https://bugs.example.org"',
  'ANSI_COLOR="1;34"',
  'PRIVACY_POLICY_URL="https://example.org/privacy"',
  'SECURITY_CONTACT="security@example.org"',
  'SECURITY_POLICY_URL="https://example.org/security"',
  'TERMS_OF_SERVICE_URL="https://example.org/tos"',
  "",
].join("\n");

const FALLBACK = [
  'NAME="Unbranded OS"',
  'ID="unbranded-os"',
  'VERSION_ID="no-os-info.json"',
  'VERSION="no-os-info.json"',
  'PRETTY_NAME="Unbranded OS (/usr/lib/os-info.json is missing)"',
  'HOME_URL="https://github.com/AerynOS/os-info"',
  "",
].join("\n");

function usrWith(name: string, osInfo?: string): string {
  const usr = path.join(temp, name, "usr");
  fs.mkdirSync(path.join(usr, "lib"), { recursive: true });
  if (osInfo !== undefined) fs.writeFileSync(path.join(usr, "lib", "os-info.json"), osInfo);
  return usr;
}

test("os-info.json becomes os-release in the standard order, extras sorted", () => {
  const usr = usrWith("full", JSON.stringify(OS_INFO, null, 2));
  writeOsRelease(usr);
  expect(fs.readFileSync(path.join(usr, "lib", "os-release"), "utf8")).toBe(EXPECTED);
  expect(fs.readdirSync(path.join(usr, "lib")).sort()).toEqual(["os-info.json", "os-release"]);
});

test("optional fields are left out, missing identity strings are empty", () => {
  const minimal = { metadata: { identity: { id: "min" }, version: { full: "2", short: "2" } }, resources: { websites: {} } };
  expect(renderOsRelease(JSON.stringify(minimal))).toBe(['NAME=""', 'ID="min"', 'VERSION_ID="2"', 'VERSION="2"', 'PRETTY_NAME=""', ""].join("\n"));
});

test("values are escaped for shells that source os-release", () => {
  const tricky = { metadata: { identity: { name: "a$b`c\\d\"e\nf" }, version: { full: "1", short: "1" } } };
  expect(renderOsRelease(JSON.stringify(tricky)).split("\n")[0]).toBe('NAME="a\\$b\\`c\\\\d\\"e f"');
});

test("without os-info.json a clean fallback is written", () => {
  const usr = usrWith("missing");
  writeOsRelease(usr);
  expect(fs.readFileSync(path.join(usr, "lib", "os-release"), "utf8")).toBe(FALLBACK);
});

test("an unusable os-info.json falls back too", () => {
  expect(renderOsRelease("{ not json")).toBe(FALLBACK);
  expect(renderOsRelease(JSON.stringify({ metadata: { identity: {}, version: { full: "1" } } }))).toBe(FALLBACK);
  expect(renderOsRelease("[]")).toBe(FALLBACK);
});

test("usr/lib is created for a tree with no packages", () => {
  const usr = path.join(temp, "empty-tree", "usr");
  fs.mkdirSync(usr, { recursive: true });
  writeOsRelease(usr);
  expect(fs.readdirSync(path.join(usr, "lib"))).toEqual(["os-release"]);
  expect(fs.readFileSync(path.join(usr, "lib", "os-release"), "utf8")).toBe(FALLBACK);
});

test("an existing os-release is replaced whole, and no temp file remains", () => {
  const usr = usrWith("replace", JSON.stringify(OS_INFO));
  fs.writeFileSync(path.join(usr, "lib", "os-release"), 'NAME="Old"\n'.repeat(100));
  fs.writeFileSync(path.join(usr, "lib", "os-release.moss-tmp"), "crashed");
  writeOsRelease(usr);
  expect(fs.readFileSync(path.join(usr, "lib", "os-release"), "utf8")).toBe(EXPECTED);
  expect(fs.readdirSync(path.join(usr, "lib")).sort()).toEqual(["os-info.json", "os-release"]);
});
