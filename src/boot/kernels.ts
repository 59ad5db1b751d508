/**
 * The kernels of a state's tree (boot-management §2): every `usr/lib/kernel/<version>/vmlinuz`,
 * with the `*.initrd` files beside it and those of `usr/lib/kernel/initrd.d/` (kernel-independent:
 * microcode, firmware; listed in every entry, blsforme #63), its `*.cmdline` snippets and the
 * variant its `boot.json` names. Symlinks are followed inside the state's tree, never the host's.
 */
import fs from "node:fs";
import path from "node:path";
import { listNames } from "./tolerant-fs.ts";
import { compareVersions } from "./version-compare.ts";

export interface KernelFile {
  /** The name it keeps on the ESP. */
  name: string;
  /** The real file in the state's tree. */
  source: string;
}

export interface Kernel {
  /** The name of its directory, verbatim (`6.18.13-130.desktop`). */
  version: string;
  vmlinuz: KernelFile;
  /** In the order the loader concatenates them: by file name, case-insensitively. */
  initrds: KernelFile[];
  /** Kernel-specific command line snippets, by file name. */
  cmdlines: string[];
  variant?: string;
}

const MAX_LINK_HOPS = 40;

/**
 * `file` with every symlink on its way resolved inside `treeRoot` (an absolute link target is taken
 * from the tree, as it would be once the tree is `/`). Undefined when it leads nowhere or loops.
 */
export function resolveInTree(treeRoot: string, file: string): string | undefined {
  let current = path.relative(treeRoot, file).split("/").filter(Boolean);
  for (let hops = 0; hops <= MAX_LINK_HOPS; hops++) {
    let resolved = treeRoot;
    let redirected = false;
    for (let i = 0; i < current.length; i++) {
      const next = path.join(resolved, current[i]!);
      let st: fs.Stats;
      try {
        st = fs.lstatSync(next);
      } catch {
        return undefined;
      }
      if (!st.isSymbolicLink()) {
        resolved = next;
        continue;
      }
      const target = fs.readlinkSync(next);
      const base = target.startsWith("/") ? [] : path.relative(treeRoot, resolved).split("/").filter(Boolean);
      const joined = path.posix.normalize([...base, ...target.split("/"), ...current.slice(i + 1)].filter(Boolean).join("/"));
      if (joined.startsWith("..")) return undefined;
      current = joined.split("/").filter((part) => part !== "" && part !== ".");
      redirected = true;
      break;
    }
    if (!redirected) return resolved;
  }
  return undefined;
}

/** `file` resolved inside the tree (resolveInTree), when it is a regular file there. */
export function regularIn(treeRoot: string, file: string): string | undefined {
  const real = resolveInTree(treeRoot, file);
  try {
    return real && fs.statSync(real).isFile() ? real : undefined;
  } catch {
    return undefined;
  }
}

const byNameInsensitive = (a: { name: string }, b: { name: string }) => {
  const x = a.name.toLowerCase();
  const y = b.name.toLowerCase();
  return x < y ? -1 : x > y ? 1 : 0;
};

/** Kernel-independent initrds: `usr/lib/kernel/initrd.d/*.initrd`. */
export function globalInitrds(treeRoot: string): KernelFile[] {
  const dir = path.join(treeRoot, "usr", "lib", "kernel", "initrd.d");
  return listNames(dir)
    .filter((name) => name.endsWith(".initrd"))
    .flatMap((name) => {
      const source = regularIn(treeRoot, path.join(dir, name));
      return source ? [{ name, source }] : [];
    });
}

/** Every kernel of the tree whose root is `treeRoot` (the directory holding `usr`), oldest first. */
export function findKernels(treeRoot: string): Kernel[] {
  const kernelDir = path.join(treeRoot, "usr", "lib", "kernel");
  const shared = globalInitrds(treeRoot);
  const kernels: Kernel[] = [];
  for (const version of listNames(kernelDir)) {
    if (version === "initrd.d" || version === "cmdline.d") continue;
    const dir = path.join(kernelDir, version);
    const vmlinuz = regularIn(treeRoot, path.join(dir, "vmlinuz"));
    if (!vmlinuz) continue;
    const own: KernelFile[] = [];
    const cmdlines: string[] = [];
    for (const name of listNames(dir)) {
      const source = regularIn(treeRoot, path.join(dir, name));
      if (!source) continue;
      if (name.endsWith(".initrd")) own.push({ name, source });
      else if (name.endsWith(".cmdline")) cmdlines.push(source);
    }
    const names = new Set(own.map((f) => f.name));
    const initrds = [...own, ...shared.filter((f) => !names.has(f.name))].sort(byNameInsensitive);
    const kernel: Kernel = { version, vmlinuz: { name: "vmlinuz", source: vmlinuz }, initrds, cmdlines: cmdlines.sort() };
    const variant = readVariant(path.join(dir, "boot.json"), treeRoot);
    if (variant !== undefined) kernel.variant = variant;
    kernels.push(kernel);
  }
  return kernels.sort((a, b) => compareVersions(a.version, b.version));
}

/** `boot.json`'s variant; a missing or malformed manifest has none. */
function readVariant(file: string, treeRoot: string): string | undefined {
  const real = regularIn(treeRoot, file);
  if (!real) return undefined;
  try {
    const variant = (JSON.parse(fs.readFileSync(real, "utf8")) as { variant?: unknown }).variant;
    return typeof variant === "string" && variant !== "" ? variant : undefined;
  } catch {
    return undefined;
  }
}
