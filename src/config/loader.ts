/**
 * Configuration "domains" (spec §1.6): `repo`, later `trigger`, read from the vendor then the
 * admin locations under a root, each as one file and a `.d` directory of `.yaml`/`.kdl` files.
 * Later files override earlier ones (admin beats vendor; a `.d` directory in name order), which
 * Rust leaves to hash-map order (§9 #20). A file that cannot be read is skipped with a warning
 * naming it, where Rust skips it silently.
 */
import fs from "node:fs";
import path from "node:path";

export type ConfigFormat = "yaml" | "kdl";

export interface ConfigFile {
  path: string;
  format: ConfigFormat;
}

/** The directories a domain is read from, least authoritative first. */
export function configDirs(root: string): { vendor: string; admin: string } {
  return { vendor: path.join(root, "usr", "share", "moss"), admin: path.join(root, "etc", "moss") };
}

/** Where `moss` writes a domain's files: always KDL, in the admin `.d` directory. */
export function savedConfigPath(root: string, domain: string, name: string): string {
  return path.join(configDirs(root).admin, `${domain}.d`, `${name}.kdl`);
}

/** Every file of `domain` in the order they apply; of `x.yaml` and `x.kdl` in one directory only `x.kdl`. */
export function configFiles(root: string, domain: string): ConfigFile[] {
  const files: ConfigFile[] = [];
  for (const dir of Object.values(configDirs(root))) {
    files.push(...pick(dir, (name) => name === `${domain}.yaml` || name === `${domain}.kdl`));
    files.push(...pick(path.join(dir, `${domain}.d`), () => true));
  }
  return files;
}

function pick(dir: string, wanted: (name: string) => boolean): ConfigFile[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter(wanted);
  } catch {
    return [];
  }
  const byStem = new Map<string, ConfigFile>();
  for (const name of names.sort()) {
    const ext = path.extname(name);
    // Exactly `.yaml` or `.kdl`: `.yml` does not count (spec §1.6).
    if (ext !== ".yaml" && ext !== ".kdl") continue;
    const stem = name.slice(0, -ext.length);
    const format: ConfigFormat = ext === ".kdl" ? "kdl" : "yaml";
    const file = path.join(dir, name);
    if (!isFile(file)) continue;
    if (format === "kdl" || !byStem.has(stem)) byStem.set(stem, { path: file, format });
  }
  return [...byStem.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}
