/** Temp roots, generated distributions and tree snapshots for the installation tests. */
import fs from "node:fs";
import path from "node:path";
import { makeDistro, type DistroManifest, type DistroPackage } from "../../scripts/lib/distro.ts";
import { moss } from "./moss.ts";

export interface Distro {
  dir: string;
  manifest: DistroManifest;
  file(name: string): string;
  /** The package and every package it needs, transitively, as files. */
  closure(...names: string[]): string[];
}

const cache = new Map<string, Promise<Distro>>();

/** A generated distribution, built once per process and options. */
export function distro(dir: string, opts: { seed?: number; files?: number } = {}): Promise<Distro> {
  const key = `${dir}:${opts.seed}:${opts.files}`;
  let pending = cache.get(key);
  if (!pending) {
    pending = makeDistro({ out: dir, seed: opts.seed ?? 7, files: opts.files }).then((manifest) => wrap(dir, manifest));
    cache.set(key, pending);
  }
  return pending;
}

function wrap(dir: string, manifest: DistroManifest): Distro {
  const byName = new Map(manifest.packages.map((p) => [p.name, p]));
  const providers = new Map<string, DistroPackage>();
  for (const p of manifest.packages) {
    providers.set(`name(${p.name})`, p);
    for (const provider of p.providers) if (!providers.has(provider)) providers.set(provider, p);
  }
  return {
    dir,
    manifest,
    file: (name) => path.join(dir, byName.get(name)!.fileName),
    closure(...names) {
      const seen = new Set<string>();
      const stack = [...names];
      while (stack.length > 0) {
        const name = stack.pop()!;
        if (seen.has(name)) continue;
        seen.add(name);
        for (const dependency of byName.get(name)!.dependencies) {
          const provider = providers.get(dependency);
          if (!provider) throw new Error(`${name} depends on ${dependency}, which nothing provides`);
          stack.push(provider.name);
        }
      }
      return [...seen].sort().map((name) => path.join(dir, byName.get(name)!.fileName));
    },
  };
}

/** path → what is there: `d 755`, `f 644 <xxh3-64 of the bytes>`, `l <target>`. Byte-exact comparisons of trees. */
export function snapshot(dir: string): Map<string, string> {
  const result = new Map<string, string>();
  const walk = (current: string) => {
    for (const name of fs.readdirSync(current).sort()) {
      const full = path.join(current, name);
      const rel = path.relative(dir, full);
      const stat = fs.lstatSync(full);
      const mode = (stat.mode & 0o7777).toString(8);
      if (stat.isSymbolicLink()) result.set(rel, `l ${fs.readlinkSync(full)}`);
      else if (stat.isDirectory()) {
        result.set(rel, `d ${mode}`);
        walk(full);
      } else result.set(rel, `f ${mode} ${Bun.hash.xxHash3(fs.readFileSync(full)).toString(16)}`);
    }
  };
  walk(dir);
  return result;
}

export function readStateId(root: string): string {
  return fs.readFileSync(path.join(root, "usr", ".stateID"), "utf8");
}

/**
 * States 1, 2 and 3 made in `dir` by the real binary, each /usr different (install mixnek,
 * install stasta, remove stasta): state 3 is active. Returns each state's /usr snapshot by id.
 */
export function threeStateRoot(dir: string, packages: Distro): Map<string, Map<string, string>> {
  fs.mkdirSync(dir, { recursive: true });
  const steps = [["install", ...packages.closure("mixnek")], ["install", ...packages.closure("stasta")], ["remove", "stasta"]];
  const trees = new Map<string, Map<string, string>>();
  for (const [i, step] of steps.entries()) {
    const result = moss(["-D", dir, "-y", ...step]);
    if (result.status !== 0) throw new Error(`moss ${step[0]} into ${dir}: ${result.stdout}${result.stderr}`);
    trees.set(String(i + 1), snapshot(path.join(dir, "usr")));
  }
  return trees;
}
