/** Small package stones made in a test (metadata, and optionally a few files): for indexes and resolution. */
import fs from "node:fs";
import path from "node:path";
import { FileType, metaRecordsFor, packTree, parseDependency, writeStone } from "../../src/stone/index.ts";

export interface TinyPackage {
  name: string;
  version?: string;
  release?: number;
  buildRelease?: number;
  summary?: string;
  depends?: string[];
  provides?: string[];
  conflicts?: string[];
  /** Files of its `/usr`, path (below usr) → content. */
  files?: Record<string, string | Uint8Array>;
  /** Modes of some of those files (0644 otherwise). */
  modes?: Record<string, number>;
}

/** Writes `<dir>/<file>` (default `<name>-<version>-<release>-<build>-x86_64.stone`); its path. */
export async function tinyStone(dir: string, pkg: TinyPackage, file?: string): Promise<string> {
  const version = pkg.version ?? "1.0";
  const release = pkg.release ?? 1;
  const buildRelease = pkg.buildRelease ?? 1;
  const out = path.join(dir, file ?? `${pkg.name}-${version}-${release}-${buildRelease}-x86_64.stone`);
  const input = {
    name: pkg.name, version, release, buildRelease, architecture: "x86_64",
    summary: pkg.summary ?? `the ${pkg.name} package`, description: `${pkg.name}, made by a test`, sourceId: pkg.name, homepage: "https://example.org",
    licenses: ["MIT"],
    dependencies: (pkg.depends ?? []).map((d) => parseDependency(d)),
    providers: (pkg.provides ?? []).map((d) => parseDependency(d)),
    conflicts: (pkg.conflicts ?? []).map((d) => parseDependency(d)),
  };
  if (pkg.files) {
    const tree = fs.mkdtempSync(path.join(dir, `.tree-${pkg.name}-`));
    for (const [file, text] of Object.entries(pkg.files)) {
      fs.mkdirSync(path.dirname(path.join(tree, file)), { recursive: true });
      fs.writeFileSync(path.join(tree, file), text);
      const mode = pkg.modes?.[file];
      if (mode !== undefined) fs.chmodSync(path.join(tree, file), mode);
    }
    // A fast level: tests want packages, not small ones (level 18 took 12 s for 10 MB of kernel).
    await packTree(tree, input, out, { level: 3 });
    fs.rmSync(tree, { recursive: true });
    return out;
  }
  await writeStone(out, { fileType: FileType.Binary, metas: [metaRecordsFor(input)] });
  return out;
}
