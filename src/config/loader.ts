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
    const dropIn = path.join(dir, `${domain}.d`);
    files.push(...pickConfigFiles(dir, (name) => (name === `${domain}.yaml` || name === `${domain}.kdl`) && isFile(path.join(dir, name))));
    files.push(...pickConfigFiles(dropIn, (name) => isFile(path.join(dropIn, name))));
  }
  return files;
}

/**
 * The `.yaml` and `.kdl` files of `dir` whose names `wanted` accepts, sorted by path; of `x.yaml`
 * and `x.kdl` only `x.kdl`. A directory that cannot be read has none.
 */
export function pickConfigFiles(dir: string, wanted: (name: string) => boolean): ConfigFile[] {
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
    if (format === "kdl" || !byStem.has(stem)) byStem.set(stem, { path: path.join(dir, name), format });
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
