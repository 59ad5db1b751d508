import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { makeDistro, scratchParent, type DistroManifest } from "../../scripts/lib/distro.ts";
import {
  LayoutEntryType, StoneReader, formatDependency, packageFromMeta, streamContent,
  type ContentSink, type IndexRecord, type LayoutRecord, type PackageMeta,
} from "../../src/stone/index.ts";

/** Small enough to run in seconds, big enough for every package kind and some filler. */
const SCALE = { seed: 7, files: 900, packages: 16 };
const KERNEL_FILES = ["vmlinuz", "50-default.initrd", "System.map", "config", "boot.json"];

interface ReadPackage {
  meta: PackageMeta;
  layout: LayoutRecord[];
  index: IndexRecord[];
  /** Bytes of the small files, kept to check a few by content. */
  small: Map<string, Uint8Array>;
}

let work: string;
let manifest: DistroManifest;
const packages = new Map<string, ReadPackage>();

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "make-distro-"));
  manifest = await makeDistro({ out: path.join(work, "a"), ...SCALE });
  // Strict read of every package: every payload checksummed, every file's digest checked.
  for (const entry of manifest.packages) {
    const reader = StoneReader.open(path.join(work, "a", entry.fileName));
    try {
      const records = reader.records();
      const small = new Map<string, Uint8Array>();
      let parts: Uint8Array[] = [];
      const sink: ContentSink = {
        beginFile() { parts = []; },
        write(chunk) { if (parts.length < 4) parts.push(chunk.slice()); },
        endFile(record) { if (record.end - record.start < 4096) small.set(record.digest, Buffer.concat(parts)); },
      };
      const summary = await streamContent(reader, records.index, sink);
      expect(summary.files).toBe(records.index.length);
      expect(records.skipped).toEqual([]);
      packages.set(entry.name, { meta: packageFromMeta(records.metas[0]!), layout: records.layout, index: records.index, small });
    } finally {
      reader.close();
    }
  }
}, 120_000);

afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

function sha256Tree(dir: string): Record<string, string> {
  return Object.fromEntries(fs.readdirSync(dir).sort().map((name) =>
    [name, crypto.createHash("sha256").update(fs.readFileSync(path.join(dir, name))).digest("hex")]));
}

describe("makeDistro", () => {
  test("the same seed gives byte-identical output, another seed does not", async () => {
    // Trees built on another filesystem (the probe's other branch) must not change a byte.
    await makeDistro({ out: path.join(work, "b"), ...SCALE, scratch: os.tmpdir() });
    await makeDistro({ out: path.join(work, "c"), ...SCALE, seed: 8 });
    const a = sha256Tree(path.join(work, "a"));
    expect(Object.keys(a).length).toBe(SCALE.packages + 1);
    expect(sha256Tree(path.join(work, "b"))).toEqual(a);
    const c = sha256Tree(path.join(work, "c"));
    expect(c["distro.json"]).not.toBe(a["distro.json"]);
    expect(Object.entries(c).filter(([name, hash]) => a[name] === hash)).toEqual([]);
  }, 120_000);

  test("trees are built in $MAKE_DISTRO_SCRATCH, else /dev/shm when writable, else the temp dir", () => {
    expect(scratchParent({ MAKE_DISTRO_SCRATCH: "/somewhere" })).toBe("/somewhere");
    const probed = scratchParent({});
    expect(probed === "/dev/shm" || probed === os.tmpdir()).toBe(true);
    expect(fs.readdirSync(probed).filter((name) => name.startsWith("make-distro-"))).toEqual([]);
  });

  test("options out of range are refused with the reason", async () => {
    const error = await makeDistro({ out: path.join(work, "bad"), packages: 3 }).catch((e: unknown) => e);
    expect((error as Error).message).toBe("packages must be an integer from 8 to 65535, not 3");
    expect(fs.existsSync(path.join(work, "bad"))).toBe(false);
  });

  test("distro.json describes what was written", () => {
    expect(manifest.packages.length).toBe(SCALE.packages);
    expect(manifest.totals.files).toBe(SCALE.files);
    for (const entry of manifest.packages) {
      const pkg = packages.get(entry.name)!;
      expect(entry.fileName).toBe(`${pkg.meta.name}-${pkg.meta.version}-${pkg.meta.release}-1-x86_64.stone`);
      expect(entry.size).toBe(fs.statSync(path.join(work, "a", entry.fileName)).size);
      expect(entry.regularFiles).toBe(pkg.layout.filter((r) => r.entryType === LayoutEntryType.Regular).length);
      expect(entry.symlinks).toBe(pkg.layout.filter((r) => r.entryType === LayoutEntryType.Symlink).length);
      expect(entry.uniqueFiles).toBe(pkg.index.length);
      expect(entry.dependencies).toEqual(pkg.meta.dependencies.map(formatDependency).sort());
      expect(entry.providers).toEqual(pkg.meta.providers.map(formatDependency).filter((p) => p !== `name(${entry.name})`).sort());
    }
  });

  test("every dependency is provided by a package, and the graph is layered", () => {
    const providers = new Map<string, string>();
    for (const [name, pkg] of packages) for (const provider of pkg.meta.providers) providers.set(formatDependency(provider), name);
    const kinds = new Set<string>();
    for (const pkg of packages.values()) {
      for (const dependency of pkg.meta.dependencies) {
        kinds.add(dependency.kind);
        expect({ dependency: formatDependency(dependency), by: providers.has(formatDependency(dependency)) }).toEqual({ dependency: formatDependency(dependency), by: true });
      }
    }
    expect([...kinds].sort()).toEqual(expect.arrayContaining(["binary", "interpreter", "name", "pkgconfig", "soname", "sysbinary"]));
    const providedKinds = new Set([...providers.keys()].map((p) => p.slice(0, p.indexOf("("))));
    expect([...providedKinds].sort()).toEqual(expect.arrayContaining(["binary", "cmake", "interpreter", "name", "pkgconfig", "python", "soname", "sysbinary"]));

    // Depth of each package's dependency chain; recursion would never end on a cycle.
    const depth = new Map<string, number>();
    const visiting = new Set<string>();
    const depthOf = (name: string): number => {
      if (depth.has(name)) return depth.get(name)!;
      expect(visiting.has(name)).toBe(false);
      visiting.add(name);
      const below = packages.get(name)!.meta.dependencies.map((d) => depthOf(providers.get(formatDependency(d))!));
      visiting.delete(name);
      depth.set(name, 1 + Math.max(0, ...below));
      return depth.get(name)!;
    };
    const deepest = Math.max(...[...packages.keys()].map(depthOf));
    expect(deepest).toBeGreaterThanOrEqual(5);
  });

  test("the kernel package is shaped like AerynOS's", () => {
    const kernel = packages.get("linux-desktop")!;
    const kver = "6.18.13-130.desktop";
    expect(manifest.kernel).toEqual({ package: "linux-desktop", version: kver, directory: `lib/kernel/${kver}` });
    const underKernel = kernel.layout.filter((r) => r.target.startsWith("lib/kernel/"));
    expect(underKernel.map((r) => r.target).sort()).toEqual([`lib/kernel/${kver}`, ...KERNEL_FILES.map((f) => `lib/kernel/${kver}/${f}`)].sort());
    for (const file of KERNEL_FILES) {
      expect(kernel.layout.find((r) => r.target === `lib/kernel/${kver}/${file}`)!.entryType).toBe(LayoutEntryType.Regular);
    }
    const bootJson = kernel.layout.find((r) => r.target.endsWith("/boot.json"))!;
    expect(JSON.parse(new TextDecoder().decode(kernel.small.get(bootJson.digest!)!))).toEqual({ name: "linux-desktop", version: kver, variant: "desktop" });

    const efi = packages.get("systemd-boot")!.layout.find((r) => r.target === "lib/systemd/boot/efi/systemd-bootx64.efi");
    expect(efi?.entryType).toBe(LayoutEntryType.Regular);
    for (const pkg of packages.values()) expect(pkg.layout.some((r) => r.target === "lib/os-release")).toBe(false);
  });

  test("libraries ship their soname, a .so symlink and a pkg-config file", () => {
    const libraries = [...packages.values()].filter((pkg) => pkg.meta.providers.some((p) => p.kind === "soname") && pkg.meta.name.startsWith("lib"));
    expect(libraries.length).toBeGreaterThan(0);
    for (const lib of libraries) {
      const soname = lib.meta.providers.find((p) => p.kind === "soname")!.name.replace("(x86_64)", "");
      expect(lib.layout.find((r) => r.target === `lib/${soname}`)?.entryType).toBe(LayoutEntryType.Regular);
      const devLink = lib.layout.find((r) => r.target === `lib/${soname.replace(/\.so\.\d+$/, ".so")}`);
      expect(devLink).toMatchObject({ entryType: LayoutEntryType.Symlink, source: soname });
    }
    for (const pkg of packages.values()) {
      for (const provider of pkg.meta.providers.filter((p) => p.kind === "pkgconfig")) {
        const pc = pkg.layout.find((r) => r.target === `lib/pkgconfig/${provider.name}.pc`)!;
        expect(new TextDecoder().decode(pkg.small.get(pc.digest!)!)).toContain(`Name: ${provider.name}\n`);
      }
      for (const provider of pkg.meta.providers.filter((p) => p.kind === "binary" || p.kind === "sysbinary")) {
        const dir = provider.kind === "binary" ? "bin" : "sbin";
        expect(pkg.layout.some((r) => r.target === `${dir}/${provider.name}`)).toBe(true);
      }
    }
  });

  test("contents are shared across and inside packages, and sizes spread widely", () => {
    const owners = new Map<string, Set<string>>();
    let duplicatesInside = 0;
    const sizes: number[] = [];
    for (const [name, pkg] of packages) {
      for (const record of pkg.index) {
        if (!owners.has(record.digest)) owners.set(record.digest, new Set());
        owners.get(record.digest)!.add(name);
        sizes.push(record.end - record.start);
      }
      const regular = pkg.layout.filter((r) => r.entryType === LayoutEntryType.Regular).length;
      duplicatesInside += regular - pkg.index.length;
    }
    expect([...owners.values()].filter((names) => names.size >= 2).length).toBeGreaterThanOrEqual(2);
    expect(duplicatesInside).toBeGreaterThan(0);
    expect(sizes.filter((s) => s < 4096).length).toBeGreaterThan(sizes.length / 3);
    expect(sizes.filter((s) => s >= 1 << 20).length).toBeGreaterThanOrEqual(3);
    expect(manifest.totals.symlinks).toBeGreaterThan(0);
    expect([...packages.values()].some((pkg) => pkg.layout.some((r) => r.entryType === LayoutEntryType.Directory
      && !pkg.layout.some((o) => o.target.startsWith(`${r.target}/`))))).toBe(true);
    // Compressible like real data: neither stored as-is nor squeezed to nothing.
    const ratio = manifest.totals.plainBytes / manifest.totals.stoneBytes;
    expect(ratio).toBeGreaterThan(1.2);
    expect(ratio).toBeLessThan(4);
  });
});
