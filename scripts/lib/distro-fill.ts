/**
 * The bulk of a synthetic distribution: after the planner has given each package the files that
 * define it (libraries, binaries, .pc files, the kernel), this spreads the rest of the requested
 * file count over the packages, a few big and many small, as docs, locales, headers, data, icons,
 * python modules and kernel modules. Sizes are log-uniform within classes: mostly a few hundred
 * bytes to a few KB, some tens of KB, a thin tail of hundreds of KB.
 */
import type { ContentSpec, PackagePlan, Role } from "./distro-plan.ts";
import { Prng, word, type ContentKind } from "./synthetic-bytes.ts";

const LANGS = ["de", "fr", "es", "it", "pt_BR", "nl", "sv", "fi", "pl", "cs", "ru", "uk", "ja", "ko", "zh_CN", "tr", "en_GB", "en_AU"];
const PY = "python3.12";

/** Shares of the extra files that packages known to be big always take, whatever the draw. */
const FIXED_SHARE: Partial<Record<Role, number>> = { kernel: 0.09, python: 0.05, libc: 0.01 };

export function fill(rng: Prng, plans: PackagePlan[], fileCount: number): void {
  const required = plans.reduce((sum, plan) => sum + plan.entries.filter((e) => e.type !== "dir").length, 0);
  const extra = Math.max(0, fileCount - required);
  // Heavy-tailed weights: most packages get a handful of files, a few get hundreds.
  const drawn = plans.map(() => {
    const u = rng.u32() / 0x1_0000_0000;
    return 1 + Math.floor(u * u * u * 60);
  });
  const drawnTotal = drawn.reduce((a, b) => a + b, 0);
  const weights = plans.map((plan, i) => {
    const share = FIXED_SHARE[plan.role];
    return share === undefined ? drawn[i]! : Math.round(drawnTotal * share);
  });
  const counts = apportion(extra, weights);
  plans.forEach((plan, i) => {
    const streams = streamsFor(plan, rng);
    const total = streams.reduce((sum, s) => sum + s.weight, 0);
    for (let n = counts[i]!; n > 0; n--) {
      let roll = rng.below(total);
      const stream = streams.find((s) => (roll -= s.weight) < 0)!;
      stream.next();
    }
  });
}

/** Largest-remainder split of `total` by integer weights: the parts always add up exactly. */
function apportion(total: number, weights: number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const counts = weights.map((w) => Math.floor((total * w) / sum));
  const order = weights.map((w, i) => ({ i, rest: (total * w) % sum })).sort((a, b) => b.rest - a.rest || a.i - b.i);
  for (let left = total - counts.reduce((a, b) => a + b, 0), k = 0; left > 0; left--, k++) counts[order[k % order.length]!.i]!++;
  return counts;
}

interface Stream {
  weight: number;
  next(): void;
}

interface TreeOptions {
  dir: string;
  exts: string[];
  kind: (ext: string) => ContentKind;
  size: (rng: Prng) => number;
  /** Files per subdirectory; 0 keeps every file directly in `dir`. */
  perDir?: number;
  mode?: number;
  prefix?: string;
  /** Chance that an entry is a symlink to a file beside it. */
  links?: number;
  /** Chance that a file repeats the bytes of an earlier one of the same stream. */
  dupes?: number;
  /** Starts every file name: directories shared by all packages (man pages) need names no other package uses. */
  namePrefix?: string;
}

function streamsFor(plan: PackagePlan, rng: Prng): Stream[] {
  const names = new Names(plan);
  const tree = (weight: number, opts: TreeOptions) => treeStream(weight, plan, rng, names, opts);
  const own = plan.sourceId;
  const doc = tree(10, { dir: `share/doc/${plan.name}`, exts: ["", ".md", ".txt", ".html"], kind: () => "text", size: textSize, perDir: 30, links: 0.02 });
  const locale = (weight: number) => localeStream(weight, plan, rng, own);
  const man = (weight: number, section: number) =>
    tree(weight, { dir: `share/man/man${section}`, exts: [`.${section}`], kind: () => "text", size: (r) => r.logUniform(800, 16_000), prefix: ".TH ", links: 0.1, namePrefix: `${plan.name}-` });
  const data = (weight: number, dir: string) =>
    tree(weight, { dir, exts: [".xml", ".json", ".ui", ".css", ".js", ".svg", ".txt", ".png"], kind: (e) => (e === ".png" ? "compressed" : "text"), size: dataSize, perDir: 25, links: 0.03, dupes: 0.03 });
  const plugins = (weight: number, dir: string) =>
    tree(weight, { dir, exts: [".so"], kind: () => "binary", size: (r) => r.logUniform(4000, 80_000), perDir: 40, mode: 0o755 });
  switch (plan.role) {
    case "kernel": {
      const kver = plan.entries.find((e) => e.path.endsWith("/boot.json"))!.path.split("/")[2];
      return [tree(1, { dir: `lib/modules/${kver}/kernel`, exts: [".ko.zst"], kind: () => "compressed", size: (r) => r.logUniform(1500, 60_000), perDir: 30, prefix: "\x28\xb5\x2f\xfd" })];
    }
    case "python":
      return [pythonStream(85, plan, rng, names, `lib/${PY}`), plugins(10, `lib/${PY}/lib-dynload`), doc];
    case "pymodule":
      return [pythonStream(90, plan, rng, names, `lib/${PY}/site-packages/${own.slice("python-".length)}`), doc];
    case "libc":
      return [locale(30), plugins(30, "lib/gconv"), tree(40, { dir: "share/i18n/locales", exts: [""], kind: () => "text", size: (r) => r.logUniform(1000, 40_000) })];
    case "library":
      return [locale(20), doc, plugins(8, `lib/${own}/plugins`), data(40, `share/${own}`), man(12, 3)];
    case "devel":
      return [tree(70, { dir: `include/${own}`, exts: [".h"], kind: () => "text", size: (r) => r.logUniform(200, 16_000), perDir: 30, prefix: "#pragma once\n" }), doc, man(10, 3)];
    case "app":
      return [data(50, `share/${plan.name}`), iconStream(10, plan, rng), locale(15), man(8, 1), doc, plugins(4, `lib/${plan.name}/plugins`)];
    case "data":
      return [tree(8, { dir: `share/fonts/${plan.name}`, exts: [".otf", ".ttf"], kind: () => "binary", size: (r) => r.logUniform(20_000, 400_000), perDir: 40 }),
        tree(92, { dir: `share/${plan.name}`, exts: [".png", ".svg"], kind: (e) => (e === ".png" ? "compressed" : "text"), size: (r) => r.logUniform(300, 16_000), perDir: 40, dupes: 0.05 })];
    default:
      return [doc, locale(10), man(5, 1)];
  }
}

function textSize(rng: Prng): number {
  const roll = rng.below(100);
  return roll < 80 ? rng.logUniform(120, 3000) : roll < 97 ? rng.logUniform(3000, 24_000) : rng.logUniform(24_000, 160_000);
}

function dataSize(rng: Prng): number {
  const roll = rng.below(100);
  return roll < 75 ? rng.logUniform(200, 6000) : roll < 97 ? rng.logUniform(6000, 32_000) : rng.logUniform(32_000, 256_000);
}

/** Every path a package already has, so generated names never collide with a file or a directory. */
class Names {
  private readonly files = new Set<string>();
  private readonly dirs = new Set<string>();

  constructor(plan: PackagePlan) {
    for (const entry of plan.entries) entry.type === "dir" ? this.dirs.add(entry.path) : this.claim(entry.path);
  }

  free(path: string): boolean {
    return !this.files.has(path) && !this.dirs.has(path);
  }

  claim(path: string): string {
    this.files.add(path);
    for (let at = path.lastIndexOf("/"); at > 0; at = path.lastIndexOf("/", at - 1)) this.dirs.add(path.slice(0, at));
    return path;
  }

  /** `dir/<word><ext>`, numbered only if the word is taken. */
  fresh(rng: Prng, dir: string, ext: string, namePrefix = ""): string {
    const stem = namePrefix + word(rng);
    for (let n = 1; ; n++) {
      const candidate = `${dir}/${stem}${n === 1 ? "" : `-${n}`}${ext}`;
      if (this.free(candidate)) return this.claim(candidate);
    }
  }

  freshDir(rng: Prng, parent: string): string {
    const path = this.fresh(rng, parent, "");
    this.files.delete(path);
    this.dirs.add(path);
    return path;
  }
}

function treeStream(weight: number, plan: PackagePlan, rng: Prng, names: Names, opts: TreeOptions): Stream {
  let dir = opts.dir;
  let inDir: string[] = [];
  const specs: ContentSpec[] = [];
  return {
    weight,
    next() {
      if (opts.perDir && (inDir.length >= opts.perDir || dir === opts.dir)) {
        dir = names.freshDir(rng, opts.dir);
        inDir = [];
      }
      const ext = rng.pick(opts.exts);
      const path = names.fresh(rng, dir, ext, opts.namePrefix);
      if (inDir.length > 0 && rng.chance(opts.links ?? 0)) {
        plan.entries.push({ type: "symlink", path, target: rng.pick(inDir).slice(dir.length + 1) });
        return;
      }
      const content: ContentSpec = specs.length > 0 && rng.chance(opts.dupes ?? 0)
        ? rng.pick(specs)
        : { kind: opts.kind(ext), size: opts.size(rng), seed: rng.u32(), prefix: opts.prefix };
      specs.push(content);
      inDir.push(path);
      plan.entries.push({ type: "file", path, mode: opts.mode ?? 0o644, content });
    },
  };
}

/** One catalogue per language; a few languages ship the same bytes (en_GB and en_AU often do). */
function localeStream(weight: number, plan: PackagePlan, rng: Prng, domain: string): Stream {
  let count = 0;
  let previous: ContentSpec | undefined;
  return {
    weight,
    next() {
      const lang = LANGS[count % LANGS.length]!;
      const round = Math.floor(count++ / LANGS.length);
      const path = `share/locale/${lang}/LC_MESSAGES/${domain}${round ? `-${round}` : ""}.mo`;
      const content = previous && rng.chance(0.15) ? previous : { kind: "text" as const, size: rng.logUniform(800, 24_000), seed: rng.u32(), prefix: "\xde\x12\x04\x95" };
      previous = content;
      plan.entries.push({ type: "file", path, mode: 0o644, content });
    },
  };
}

/** The same picture at several sizes: some sizes reuse the bytes of another. */
function iconStream(weight: number, plan: PackagePlan, rng: Prng): Stream {
  const sizes = ["16x16", "22x22", "24x24", "32x32", "48x48", "64x64", "128x128", "256x256"];
  let count = 0;
  let previous: ContentSpec | undefined;
  return {
    weight,
    next() {
      const size = sizes[count % sizes.length]!;
      const round = Math.floor(count++ / sizes.length);
      const path = `share/icons/hicolor/${size}/apps/${plan.name}${round ? `-${round}` : ""}.png`;
      const content = previous && rng.chance(0.2) ? previous : { kind: "compressed" as const, size: rng.logUniform(300, 24_000), seed: rng.u32(), prefix: "\x89PNG\r\n\x1a\n" };
      previous = content;
      plan.entries.push({ type: "file", path, mode: 0o644, content });
    },
  };
}

/** Packages of modules: each starts with an empty `__init__.py`, and most sources have a cached `.pyc`. */
function pythonStream(weight: number, plan: PackagePlan, rng: Prng, names: Names, root: string): Stream {
  let dir = "";
  let left = 0;
  let pending: { stem: string; size: number } | undefined;
  return {
    weight,
    next() {
      if (pending) {
        const path = names.claim(`${dir}/__pycache__/${pending.stem}.cpython-312.pyc`);
        plan.entries.push({ type: "file", path, mode: 0o644, content: { kind: "binary", size: Math.max(64, Math.floor(pending.size * 0.8)), seed: rng.u32(), prefix: "\xcb\x0d\x0d\x0a" } });
        pending = undefined;
        return;
      }
      if (left === 0) {
        dir = names.freshDir(rng, root);
        left = rng.range(4, 30);
        plan.entries.push({ type: "file", path: names.claim(`${dir}/__init__.py`), mode: 0o644, content: { literal: "" } });
        return;
      }
      left--;
      const path = names.fresh(rng, dir, ".py");
      const size = rng.logUniform(200, 24_000);
      plan.entries.push({ type: "file", path, mode: 0o644, content: { kind: "text", size, seed: rng.u32(), prefix: '"""Module."""\n' } });
      if (rng.chance(0.7)) pending = { stem: path.slice(dir.length + 1, -3), size };
    },
  };
}
