/**
 * Plans the synthetic distribution: which packages exist, what each ships, provides and depends
 * on. Pure and seeded (no IO), so a seed always gives the same plan. Packages sit in layers and
 * depend only on lower ones, so every dependency closure resolves and nothing is cyclic; one
 * library per layer depends on the layer below, so there is always a chain as deep as the layers.
 */
import { fill } from "./distro-fill.ts";
import { Prng, word, type ContentKind } from "./synthetic-bytes.ts";

export type ContentSpec = { kind: ContentKind; size: number; seed: number; prefix?: string } | { literal: string };
export type PlannedEntry =
  | { type: "file"; path: string; mode: number; content: ContentSpec }
  | { type: "symlink"; path: string; target: string }
  | { type: "dir"; path: string };

export type Role = "libc" | "shell" | "kmod" | "python" | "bootloader" | "kernel" | "library" | "devel" | "app" | "pymodule" | "data";

export interface PackagePlan {
  name: string;
  version: string;
  release: number;
  sourceId: string;
  summary: string;
  homepage: string;
  licenses: string[];
  role: Role;
  layer: number;
  providers: string[];
  dependencies: string[];
  entries: PlannedEntry[];
}

/** The packages every distribution has, whatever the scale: the rest are generated around them. */
export const FIXED_PACKAGES = ["glibc", "bash", "kmod", "python", "systemd-boot", "linux-desktop"];
export const KERNEL_PACKAGE = "linux-desktop";
export const BOOTLOADER_PATH = "lib/systemd/boot/efi/systemd-bootx64.efi";

const LIBC = "soname(libc.so.6(x86_64))";
const INTERP = "interpreter(/usr/lib64/ld-linux-x86-64.so.2(x86_64))";
const PY = "python3.12";
const LANGS = ["de", "fr", "es", "it", "pt_BR", "nl", "sv", "fi", "pl", "cs", "ru", "uk", "ja", "ko", "zh_CN", "tr", "en_GB", "en_AU"];
/** Licences whose text is the same in every package that uses them: shared digests across packages. */
const SHARED_LICENSES = ["GPL-2.0-or-later", "LGPL-2.1-or-later", "GPL-3.0-or-later", "Apache-2.0"];
const OWN_LICENSES = ["MIT", "BSD-3-Clause"];

export function planDistro(seed: number, packageCount: number, fileCount: number): PackagePlan[] {
  const rng = new Prng(seed);
  const ctx: Ctx = { rng, names: new Set(FIXED_PACKAGES), libs: [], binaries: [], pymodules: [], data: [], licenseSeeds: new Map() };
  const generated = packageCount - FIXED_PACKAGES.length;
  let depth = 3;
  while (depth < 12 && 2 ** (depth * 2 / 3) < generated) depth++;
  const pythonLayer = Math.floor(depth / 2) + 1;
  const appLayer = Math.max(depth, pythonLayer + 3) + 1;

  // Roles of the generated packages first, then build in layer order so dependencies exist.
  const units: { role: "library" | "app" | "pymodule" | "data"; layer: number; devel: boolean }[] = [];
  let libraries = 0;
  // Even the smallest distribution has one of each kind; the rest is drawn.
  const forced = [{ roll: 0, devel: false }, { roll: 50, devel: false }, { roll: 85, devel: false }, { roll: 0, devel: true }, { roll: 95, devel: false }];
  for (let left = generated; left > 0; ) {
    const next = forced.shift();
    const roll = next?.roll ?? rng.below(100);
    if (roll < 45) {
      const devel = left >= 2 && (next ? next.devel : rng.chance(0.6));
      const layer = libraries < depth ? libraries + 1 : rng.range(1, depth);
      units.push({ role: "library", layer, devel });
      libraries++;
      left -= devel ? 2 : 1;
    } else if (roll < 80) {
      units.push({ role: "app", layer: appLayer + rng.below(2), devel: false });
      left--;
    } else if (roll < 92) {
      units.push({ role: "pymodule", layer: pythonLayer + rng.range(1, 3), devel: false });
      left--;
    } else {
      units.push({ role: "data", layer: 0, devel: false });
      left--;
    }
  }
  const plans: PackagePlan[] = [planGlibc(ctx), planBash(ctx), planKmod(ctx)];
  const ordered = units.map((unit, i) => ({ ...unit, i })).sort((a, b) => a.layer - b.layer || a.i - b.i);
  let pythonDone = false;
  for (const unit of ordered) {
    if (!pythonDone && unit.layer > pythonLayer) {
      plans.push(planPython(ctx, pythonLayer));
      pythonDone = true;
    }
    if (unit.role === "library") plans.push(...planLibrary(ctx, unit.layer, unit.devel));
    else if (unit.role === "app") plans.push(planApp(ctx, unit.layer, appLayer));
    else if (unit.role === "pymodule") plans.push(planPyModule(ctx, unit.layer));
    else plans.push(planData(ctx));
  }
  if (!pythonDone) plans.push(planPython(ctx, pythonLayer));
  plans.push(planBootloader(ctx, appLayer), planKernel(ctx, appLayer + 2));
  fill(rng, plans, fileCount);
  return plans;
}

interface Ctx {
  rng: Prng;
  names: Set<string>;
  libs: { layer: number; soname: string; pkgconfig?: string }[];
  binaries: { layer: number; provider: string }[];
  pymodules: { layer: number; provider: string }[];
  data: { layer: number; name: string }[];
  licenseSeeds: Map<string, number>;
}

function newPlan(ctx: Ctx, name: string, role: Role, layer: number, extra: Partial<PackagePlan> = {}): PackagePlan {
  const { rng } = ctx;
  const plan: PackagePlan = {
    name, role, layer, sourceId: name, release: rng.range(1, 40),
    version: `${rng.range(0, 9)}.${rng.range(0, 30)}.${rng.range(0, 15)}`,
    summary: `The ${name} ${role}`, homepage: `https://example.org/${name}`,
    licenses: [rng.chance(0.7) ? rng.pick(SHARED_LICENSES) : rng.pick(OWN_LICENSES)],
    providers: [], dependencies: [], entries: [], ...extra,
  };
  for (const license of plan.licenses) {
    // A shared licence has one seed for the whole distribution; an own one differs by package.
    if (!ctx.licenseSeeds.has(license)) ctx.licenseSeeds.set(license, rng.u32());
    const size = 2000 + (ctx.licenseSeeds.get(license)! % 30000);
    const own = OWN_LICENSES.includes(license);
    file(plan, `share/licenses/${name}/${license}`, { kind: "text", size, seed: ctx.licenseSeeds.get(license)!, prefix: own ? `Copyright (c) ${name} authors\n` : "" });
  }
  return plan;
}

function file(plan: PackagePlan, path: string, content: ContentSpec, mode = 0o644): void {
  plan.entries.push({ type: "file", path, mode, content });
}
function bin(ctx: Ctx, plan: PackagePlan, path: string, lo: number, hi: number, prefix?: string): void {
  file(plan, path, { kind: "binary", size: ctx.rng.logUniform(lo, hi), seed: ctx.rng.u32(), prefix }, 0o755);
}
function text(ctx: Ctx, plan: PackagePlan, path: string, lo: number, hi: number, prefix = "", mode = 0o644): void {
  file(plan, path, { kind: "text", size: ctx.rng.logUniform(lo, hi), seed: ctx.rng.u32(), prefix }, mode);
}
function link(plan: PackagePlan, path: string, target: string): void {
  plan.entries.push({ type: "symlink", path, target });
}

function freshName(ctx: Ctx, prefix = "", suffix = ""): string {
  for (;;) {
    const base = word(ctx.rng);
    if (!ctx.names.has(base)) {
      ctx.names.add(base);
      return prefix + base + suffix;
    }
  }
}

/** `count` distinct providers from layers below `layer`, one of them from just below when `chain`. */
function pickBelow<T extends { layer: number }>(rng: Prng, items: T[], layer: number, count: number, chain = false): T[] {
  const below = items.filter((item) => item.layer < layer);
  const picked = new Set<T>();
  const adjacent = below.filter((item) => item.layer === layer - 1);
  if (chain && adjacent.length > 0) picked.add(rng.pick(adjacent));
  for (let tries = 0; picked.size < Math.min(count, below.length) && tries < count * 4; tries++) picked.add(below[rng.skewed(below.length)]!);
  return [...picked];
}

function planGlibc(ctx: Ctx): PackagePlan {
  const plan = newPlan(ctx, "glibc", "libc", 0, { version: "2.41", licenses: ["GPL-2.0-or-later", "LGPL-2.1-or-later"] });
  bin(ctx, plan, "lib/ld-linux-x86-64.so.2", 200_000, 260_000);
  bin(ctx, plan, "lib/libc.so.6", 1_800_000, 2_400_000);
  for (const soname of ["libm.so.6", "libpthread.so.0", "libdl.so.2", "librt.so.1"]) {
    bin(ctx, plan, `lib/${soname}`, 14_000, 900_000);
    plan.providers.push(`soname(${soname}(x86_64))`);
  }
  for (const tool of ["locale", "iconv", "getent"]) bin(ctx, plan, `bin/${tool}`, 30_000, 120_000);
  text(ctx, plan, "bin/ldd", 4000, 6000, "#!/bin/bash\n", 0o755);
  bin(ctx, plan, "sbin/ldconfig", 900_000, 1_100_000);
  plan.providers.push(LIBC, INTERP, "interpreter(/usr/lib/ld-linux-x86-64.so.2(x86_64))", "soname(ld-linux-x86-64.so.2(x86_64))",
    "binary(locale)", "binary(iconv)", "binary(getent)", "binary(ldd)", "sysbinary(ldconfig)");
  return plan;
}

function planBash(ctx: Ctx): PackagePlan {
  const plan = newPlan(ctx, "bash", "shell", 1, { version: "5.2.37", licenses: ["GPL-3.0-or-later"] });
  bin(ctx, plan, "bin/bash", 1_100_000, 1_400_000);
  link(plan, "bin/sh", "bash");
  text(ctx, plan, "share/man/man1/bash.1", 300_000, 360_000, ".TH BASH 1\n");
  plan.providers.push("binary(bash)", "binary(sh)");
  plan.dependencies.push(LIBC, INTERP);
  return plan;
}

function planKmod(ctx: Ctx): PackagePlan {
  const plan = newPlan(ctx, "kmod", "kmod", 1, { version: "34", licenses: ["LGPL-2.1-or-later"] });
  bin(ctx, plan, "bin/kmod", 120_000, 180_000);
  link(plan, "bin/lsmod", "kmod");
  for (const tool of ["modprobe", "insmod", "rmmod", "depmod", "modinfo"]) {
    link(plan, `sbin/${tool}`, "../bin/kmod");
    plan.providers.push(`sysbinary(${tool})`);
  }
  bin(ctx, plan, "lib/libkmod.so.2", 90_000, 130_000);
  link(plan, "lib/libkmod.so", "libkmod.so.2");
  plan.providers.push("binary(kmod)", "binary(lsmod)", "soname(libkmod.so.2(x86_64))");
  plan.dependencies.push(LIBC, INTERP);
  ctx.libs.push({ layer: 1, soname: "soname(libkmod.so.2(x86_64))" });
  return plan;
}

function planPython(ctx: Ctx, layer: number): PackagePlan {
  const plan = newPlan(ctx, "python", "python", layer, { version: "3.12.11", licenses: ["Python-2.0"] });
  bin(ctx, plan, `bin/${PY}`, 16_000, 24_000);
  link(plan, "bin/python3", PY);
  link(plan, "bin/python", "python3");
  bin(ctx, plan, "lib/libpython3.12.so.1.0", 4_000_000, 5_000_000);
  link(plan, "lib/libpython3.12.so", "libpython3.12.so.1.0");
  for (const pc of ["python3", "python-3.12"]) {
    file(plan, `lib/pkgconfig/${pc}.pc`, { literal: pkgConfig(pc, "3.12.11", [], "-lpython3.12") });
    plan.providers.push(`pkgconfig(${pc})`);
  }
  text(ctx, plan, `include/${PY}/Python.h`, 2000, 4000, "#ifndef Py_PYTHON_H\n");
  text(ctx, plan, `bin/${PY}-config`, 2000, 3000, "#!/bin/sh\n", 0o755);
  plan.providers.push(`binary(${PY})`, "binary(python3)", "binary(python)", `binary(${PY}-config)`, "soname(libpython3.12.so.1.0(x86_64))");
  plan.dependencies.push(LIBC, INTERP, "binary(sh)", ...pickBelow(ctx.rng, ctx.libs, layer, 3).map((lib) => lib.soname));
  ctx.binaries.push({ layer, provider: "binary(python3)" });
  return plan;
}

function planLibrary(ctx: Ctx, layer: number, withDevel: boolean): PackagePlan[] {
  const { rng } = ctx;
  const base = freshName(ctx);
  const major = rng.range(0, 12);
  const soname = `lib${base}.so.${major}`;
  const runtime = newPlan(ctx, `lib${base}`, "library", layer, { sourceId: base });
  const roll = rng.below(100);
  bin(ctx, runtime, `lib/${soname}`, ...(roll < 70 ? [20_000, 400_000] : roll < 95 ? [400_000, 2_000_000] : [2_000_000, 6_000_000]) as [number, number]);
  link(runtime, `lib/lib${base}.so`, soname);
  const deps = pickBelow(rng, ctx.libs, layer, rng.range(1, 3), true);
  runtime.providers.push(`soname(${soname}(x86_64))`);
  runtime.dependencies.push(LIBC, ...deps.map((lib) => lib.soname));
  const entry: Ctx["libs"][number] = { layer, soname: `soname(${soname}(x86_64))`, pkgconfig: `pkgconfig(${base})` };
  const pcOwner = withDevel ? newPlan(ctx, `lib${base}-devel`, "devel", layer, { sourceId: base, version: runtime.version, release: runtime.release, licenses: runtime.licenses }) : runtime;
  const requires = deps.flatMap((lib) => (lib.pkgconfig ? [lib.pkgconfig] : []));
  file(pcOwner, `lib/pkgconfig/${base}.pc`, { literal: pkgConfig(base, runtime.version, requires.map((p) => p.slice(10, -1)), `-l${base}`) });
  pcOwner.providers.push(entry.pkgconfig!);
  if (!withDevel) {
    ctx.libs.push(entry);
    return [runtime];
  }
  text(ctx, pcOwner, `include/${base}/${base}.h`, 800, 24_000, `#ifndef ${base.toUpperCase()}_H\n`);
  if (rng.chance(0.5)) {
    const cmake = base[0]!.toUpperCase() + base.slice(1);
    text(ctx, pcOwner, `lib/cmake/${cmake}/${cmake}Config.cmake`, 600, 3000, `set(${cmake}_FOUND TRUE)\n`);
    pcOwner.providers.push(`cmake(${cmake})`);
  }
  pcOwner.dependencies.push(`name(${runtime.name})`, ...requires);
  ctx.libs.push(entry);
  return [runtime, pcOwner];
}

function planApp(ctx: Ctx, layer: number, appLayer: number): PackagePlan {
  const { rng } = ctx;
  const name = freshName(ctx);
  const plan = newPlan(ctx, name, "app", layer);
  const python = rng.chance(0.2) && ctx.pymodules.length > 0;
  if (python) {
    text(ctx, plan, `bin/${name}`, 300, 2000, `#!/usr/bin/${PY}\n`, 0o755);
    plan.dependencies.push("binary(python3)", ...pickBelow(rng, ctx.pymodules, layer, rng.range(1, 3)).map((m) => m.provider));
  } else {
    const roll = rng.below(100);
    bin(ctx, plan, `bin/${name}`, ...(roll < 80 ? [30_000, 600_000] : roll < 96 ? [600_000, 2_500_000] : [2_500_000, 8_000_000]) as [number, number]);
    plan.dependencies.push(LIBC, INTERP, ...pickBelow(rng, ctx.libs, layer, rng.range(1, 4)).map((lib) => lib.soname));
  }
  plan.providers.push(`binary(${name})`);
  for (let i = rng.below(3); i > 0; i--) {
    const tool = `${name}-${word(rng)}`;
    if (plan.providers.includes(`binary(${tool})`)) continue;
    if (rng.chance(0.4)) {
      text(ctx, plan, `bin/${tool}`, 200, 3000, "#!/bin/sh\n", 0o755);
      if (!plan.dependencies.includes("binary(sh)")) plan.dependencies.push("binary(sh)");
    } else bin(ctx, plan, `bin/${tool}`, 20_000, 200_000);
    plan.providers.push(`binary(${tool})`);
  }
  if (rng.chance(0.25)) {
    bin(ctx, plan, `sbin/${name}d`, 40_000, 400_000);
    plan.providers.push(`sysbinary(${name}d)`);
  }
  text(ctx, plan, `share/man/man1/${name}.1`, 1000, 12_000, `.TH ${name.toUpperCase()} 1\n`);
  if (rng.chance(0.25) && ctx.data.length > 0) plan.dependencies.push(`name(${rng.pick(ctx.data).name})`);
  if (layer > appLayer && rng.chance(0.4)) plan.dependencies.push(...pickBelow(rng, ctx.binaries, layer, 1).map((b) => b.provider));
  ctx.binaries.push({ layer, provider: `binary(${name})` });
  return plan;
}

function planPyModule(ctx: Ctx, layer: number): PackagePlan {
  const module = freshName(ctx);
  const plan = newPlan(ctx, `python-${module}`, "pymodule", layer, { sourceId: `python-${module}` });
  const site = `lib/${PY}/site-packages`;
  file(plan, `${site}/${module}/__init__.py`, { literal: "" });
  text(ctx, plan, `${site}/${module}-${plan.version}.dist-info/METADATA`, 500, 6000, `Metadata-Version: 2.1\nName: ${module}\n`);
  plan.providers.push(`python(${module})`);
  plan.dependencies.push("name(python)", ...pickBelow(ctx.rng, ctx.pymodules, layer, ctx.rng.range(0, 2), true).map((m) => m.provider));
  ctx.pymodules.push({ layer, provider: `python(${module})` });
  return plan;
}

function planData(ctx: Ctx): PackagePlan {
  const plan = newPlan(ctx, freshName(ctx, "", "-data"), "data", 0);
  text(ctx, plan, `share/${plan.name}/index.theme`, 200, 2000, "[Icon Theme]\n");
  ctx.data.push({ layer: 0, name: plan.name });
  return plan;
}

function planBootloader(ctx: Ctx, layer: number): PackagePlan {
  const plan = newPlan(ctx, "systemd-boot", "bootloader", layer, { version: "257.6", sourceId: "systemd", licenses: ["LGPL-2.1-or-later"] });
  bin(ctx, plan, BOOTLOADER_PATH, 100_000, 140_000, "MZ");
  bin(ctx, plan, "lib/systemd/boot/efi/linuxx64.efi.stub", 80_000, 100_000, "MZ");
  bin(ctx, plan, "lib/systemd/boot/efi/addonx64.efi.stub", 20_000, 40_000, "MZ");
  bin(ctx, plan, "bin/bootctl", 80_000, 140_000);
  text(ctx, plan, "share/man/man1/bootctl.1", 8000, 20_000, ".TH BOOTCTL 1\n");
  plan.providers.push("binary(bootctl)");
  plan.dependencies.push(LIBC, INTERP);
  return plan;
}

function planKernel(ctx: Ctx, layer: number): PackagePlan {
  const { rng } = ctx;
  const plan = newPlan(ctx, KERNEL_PACKAGE, "kernel", layer, { version: "6.18.13", release: 130, sourceId: "linux-desktop", licenses: ["GPL-2.0-only"] });
  const kver = kernelVersion(plan);
  const dir = `lib/kernel/${kver}`;
  file(plan, `${dir}/vmlinuz`, { kind: "compressed", size: rng.logUniform(4_500_000, 6_000_000), seed: rng.u32(), prefix: "MZ" });
  file(plan, `${dir}/50-default.initrd`, { kind: "compressed", size: rng.logUniform(7_000_000, 9_000_000), seed: rng.u32(), prefix: "070701" });
  file(plan, `${dir}/System.map`, { literal: systemMap(rng, rng.range(9000, 12_000)) });
  file(plan, `${dir}/config`, { literal: kernelConfig(rng, rng.range(7000, 9000)) });
  file(plan, `${dir}/boot.json`, { literal: `${JSON.stringify({ name: KERNEL_PACKAGE, version: kver, variant: "desktop" }, null, 2)}\n` });
  for (const index of ["modules.order", "modules.builtin", "modules.dep", "modules.alias"]) text(ctx, plan, `lib/modules/${kver}/${index}`, 20_000, 400_000);
  plan.entries.push({ type: "dir", path: `lib/modules/${kver}/updates` });
  plan.dependencies.push("sysbinary(modprobe)");
  return plan;
}

export function kernelVersion(plan: Pick<PackagePlan, "version" | "release">): string {
  return `${plan.version}-${plan.release}.desktop`;
}

function pkgConfig(name: string, version: string, requires: string[], libs: string): string {
  return `prefix=/usr\nlibdir=\${prefix}/lib\nincludedir=\${prefix}/include\n\nName: ${name}\nDescription: The ${name} library\n` +
    `Version: ${version}\n${requires.length ? `Requires: ${requires.join(" ")}\n` : ""}Libs: -L\${libdir} ${libs}\nCflags: -I\${includedir}/${name}\n`;
}

function systemMap(rng: Prng, lines: number): string {
  const out: string[] = [];
  let address = 0xffffffff81000000n;
  for (let i = 0; i < lines; i++) {
    address += BigInt(rng.range(16, 4096));
    out.push(`${address.toString(16)} ${rng.pick(["T", "t", "D", "d", "R", "r", "B"])} ${word(rng)}_${word(rng)}`);
  }
  return `${out.join("\n")}\n`;
}

function kernelConfig(rng: Prng, lines: number): string {
  const out = ["#", "# Automatically generated file; DO NOT EDIT.", "#"];
  for (let i = 0; i < lines; i++) {
    const option = `CONFIG_${word(rng).toUpperCase()}_${word(rng).toUpperCase()}`;
    out.push(rng.chance(0.3) ? `# ${option} is not set` : `${option}=${rng.pick(["y", "y", "m", "m", "m", "\"\"", String(rng.below(4096))])}`);
  }
  return `${out.join("\n")}\n`;
}
