/**
 * A synthetic AerynOS-like distribution of binary `.stone` packages for tests and benchmarks.
 * Deterministic: the same options give byte-identical packages and `distro.json` on every run
 * (contents, modes and ownership are all fixed; nothing depends on time or on temp paths).
 * Each package is written as a tree into a scratch directory, packed with `packTree`, and the tree
 * removed again, so disk use stays at one package's tree plus the output.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { MossError } from "../../src/errors.ts";
import { parseDependency, stoneFileName, type PackageInput } from "../../src/stone/index.ts";
import { packTree } from "../../src/stone/pack-tree.ts";
import { BOOTLOADER_PATH, FIXED_PACKAGES, KERNEL_PACKAGE, kernelVersion, planDistro, type PackagePlan, type Role } from "./distro-plan.ts";
import { syntheticBytes } from "./synthetic-bytes.ts";

export interface MakeDistroOptions {
  out: string;
  seed?: number;
  /** Default: grows with `files`, 24 at the default 1,500 files and about 300 at 65,000. */
  packages?: number;
  /** Regular files and symlinks across all packages (approximate when packages need more). */
  files?: number;
  /** zstd level; 3 keeps generation fast, the Rust writer uses 18. */
  level?: number;
  /** Where package trees are built before packing; default from `scratchParent()`. Never changes the output. */
  scratch?: string;
}

export interface DistroPackage {
  name: string;
  version: string;
  release: number;
  buildRelease: number;
  sourceId: string;
  role: Role;
  layer: number;
  fileName: string;
  size: number;
  sha256: string;
  /** Regular files plus symlinks. */
  files: number;
  regularFiles: number;
  symlinks: number;
  directories: number;
  uniqueFiles: number;
  plainBytes: number;
  /** As written in the stone: the implicit `name(<name>)` is not listed. */
  providers: string[];
  dependencies: string[];
}

export interface DistroManifest {
  generator: "make-distro";
  seed: number;
  level: number;
  requested: { packages: number; files: number };
  kernel: { package: string; version: string; directory: string };
  bootloader: { package: string; path: string };
  totals: { packages: number; files: number; regularFiles: number; symlinks: number; directories: number; plainBytes: number; stoneBytes: number };
  /** Sorted by name. */
  packages: DistroPackage[];
}

export const DEFAULT_FILES = 1500;
export const DEFAULT_SEED = 1;
export const DEFAULT_LEVEL = 3;
/** The fixed core plus room for one library and one application. */
export const MIN_PACKAGES = FIXED_PACKAGES.length + 2;
const ARCH = "x86_64";

/** 24 packages at 1,500 files, ~300 at 65,000 (the shape of the peer benchmark): sublinear, as in real distributions. */
export function defaultPackageCount(files: number): number {
  return Math.max(MIN_PACKAGES, Math.round(24 * (files / DEFAULT_FILES) ** (2 / 3)));
}

export async function makeDistro(opts: MakeDistroOptions): Promise<DistroManifest> {
  const seed = opts.seed ?? DEFAULT_SEED;
  const files = opts.files ?? DEFAULT_FILES;
  const packages = opts.packages ?? defaultPackageCount(files);
  const level = opts.level ?? DEFAULT_LEVEL;
  check(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32, `seed must be an integer from 0 to 4294967295, not ${seed}`);
  check(Number.isInteger(files) && files >= 1, `files must be a positive integer, not ${files}`);
  check(Number.isInteger(packages) && packages >= MIN_PACKAGES && packages <= 65535, `packages must be an integer from ${MIN_PACKAGES} to 65535, not ${packages}`);
  check(Number.isInteger(level) && level >= 1 && level <= 22, `level must be an integer from 1 to 22, not ${level}`);

  const plans = planDistro(seed, packages, files);
  fs.mkdirSync(opts.out, { recursive: true });
  const scratch = fs.mkdtempSync(path.join(opts.scratch ?? scratchParent(), "make-distro-"));
  const written: DistroPackage[] = [];
  try {
    for (const plan of plans) written.push(await buildPackage(plan, seed, scratch, opts.out, level));
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  written.sort((a, b) => (a.name < b.name ? -1 : 1));
  const kernel = plans.find((plan) => plan.name === KERNEL_PACKAGE)!;
  const sum = (pick: (p: DistroPackage) => number) => written.reduce((total, p) => total + pick(p), 0);
  const manifest: DistroManifest = {
    generator: "make-distro",
    seed,
    level,
    requested: { packages, files },
    kernel: { package: KERNEL_PACKAGE, version: kernelVersion(kernel), directory: `lib/kernel/${kernelVersion(kernel)}` },
    bootloader: { package: "systemd-boot", path: BOOTLOADER_PATH },
    totals: {
      packages: written.length, files: sum((p) => p.files), regularFiles: sum((p) => p.regularFiles), symlinks: sum((p) => p.symlinks),
      directories: sum((p) => p.directories), plainBytes: sum((p) => p.plainBytes), stoneBytes: sum((p) => p.size),
    },
    packages: written,
  };
  const manifestPath = path.join(opts.out, "distro.json");
  fs.writeFileSync(`${manifestPath}.tmp`, `${JSON.stringify(manifest, null, 2)}\n`);
  fs.renameSync(`${manifestPath}.tmp`, manifestPath);
  return manifest;
}

/**
 * Trees are written and deleted file by file, which a disk-backed filesystem makes the slowest
 * step by far (20x on an ext4 VM disk with discard). So: $MAKE_DISTRO_SCRATCH if set, else
 * /dev/shm when it is a writable directory, else the usual temp dir.
 */
export function scratchParent(env: Record<string, string | undefined> = process.env): string {
  if (env.MAKE_DISTRO_SCRATCH) return env.MAKE_DISTRO_SCRATCH;
  try {
    fs.accessSync("/dev/shm", fs.constants.W_OK);
    if (fs.statSync("/dev/shm").isDirectory()) return "/dev/shm";
  } catch (error) {
    if (!["ENOENT", "EACCES", "EROFS"].includes((error as NodeJS.ErrnoException).code ?? "")) throw error;
  }
  return os.tmpdir();
}

function check(ok: boolean, message: string): void {
  if (!ok) throw new MossError("DISTRO_OPTIONS", message);
}

async function buildPackage(plan: PackagePlan, seed: number, scratch: string, out: string, level: number): Promise<DistroPackage> {
  const root = path.join(scratch, plan.name);
  writeTree(plan, root);
  const pkg: PackageInput = {
    name: plan.name, version: plan.version, release: plan.release, buildRelease: 1, architecture: ARCH,
    summary: plan.summary, description: `A synthetic ${plan.role} package (make-distro, seed ${seed}).`,
    sourceId: plan.sourceId, homepage: plan.homepage, licenses: plan.licenses,
    dependencies: plan.dependencies.map(parseDependency), providers: plan.providers.map(parseDependency),
  };
  const fileName = stoneFileName(pkg);
  try {
    const summary = await packTree(root, pkg, path.join(out, fileName), { level });
    return {
      name: plan.name, version: plan.version, release: plan.release, buildRelease: 1, sourceId: plan.sourceId,
      role: plan.role, layer: plan.layer, fileName, size: summary.size, sha256: sha256File(summary.path),
      files: summary.regularFiles + summary.symlinks, regularFiles: summary.regularFiles, symlinks: summary.symlinks,
      directories: summary.directories, uniqueFiles: summary.uniqueFiles, plainBytes: summary.contentPlainSize,
      providers: [...plan.providers].sort(), dependencies: [...plan.dependencies].sort(),
    };
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

/** Modes are set explicitly: the umask must not leak into the packages. */
function writeTree(plan: PackagePlan, root: string): void {
  const made = new Set<string>();
  const ensureDir = (dir: string) => {
    if (made.has(dir)) return;
    if (dir !== root) ensureDir(path.dirname(dir));
    fs.mkdirSync(dir, { recursive: true });
    fs.chmodSync(dir, 0o755);
    made.add(dir);
  };
  ensureDir(root);
  for (const entry of plan.entries) {
    const at = path.join(root, entry.path);
    if (entry.type === "dir") {
      ensureDir(at);
      continue;
    }
    ensureDir(path.dirname(at));
    if (entry.type === "symlink") {
      fs.symlinkSync(entry.target, at);
      continue;
    }
    const content = entry.content;
    const bytes = "literal" in content ? content.literal : syntheticBytes(content.kind, content.size, content.seed, content.prefix);
    fs.writeFileSync(at, bytes, { flag: "wx" });
    fs.chmodSync(at, entry.mode);
  }
}

function sha256File(filePath: string): string {
  const hasher = new Bun.CryptoHasher("sha256");
  const fd = fs.openSync(filePath, "r");
  try {
    const buffer = Buffer.allocUnsafe(1 << 20);
    for (let count; (count = fs.readSync(fd, buffer, 0, buffer.length, null)) > 0; ) hasher.update(buffer.subarray(0, count));
  } finally {
    fs.closeSync(fd);
  }
  return hasher.digest("hex");
}
