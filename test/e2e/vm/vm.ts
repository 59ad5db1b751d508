/**
 * What the VM tests boot: a Debian kernel (as a PVH `vmlinux`: no decompression under TCG), a
 * dracut+systemd initramfs with the moss module, and an ext4 root image whose states moss made.
 * Tools come from apt when missing (root only); the kernel and the initramfs are cached under
 * `.cache/vm/` between runs. Nothing is installed into the host's /boot or dracut directory: the
 * kernel package is unpacked, not installed, and dracut reads its modules from a private copy.
 */
import { spawn, spawnSync, type SpawnSyncReturns } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ROOT } from "../../helpers/moss.ts";
import { guidText } from "../../../src/boot/gpt.ts";

export const CACHE = path.join(ROOT, ".cache", "vm");
/** Each tool the tests run, and the Debian package it comes from. */
const TOOLS: Record<string, string> = {
  "qemu-system-x86_64": "qemu-system-x86", dracut: "dracut-core", busybox: "busybox-static", debugfs: "e2fsprogs",
  "mkfs.ext4": "e2fsprogs", zstd: "zstd", unxz: "xz-utils", strip: "binutils", "mkfs.vfat": "dosfstools", mcopy: "mtools",
};
/** Files the boot tests need beyond tools: the UEFI firmware. */
export const OVMF = { code: "/usr/share/OVMF/OVMF_CODE_4M.fd", vars: "/usr/share/OVMF/OVMF_VARS_4M.fd" };
const FILES: Record<string, string> = { [OVMF.code]: "ovmf", [OVMF.vars]: "ovmf" };
const APT_PACKAGES = [...new Set([...Object.values(TOOLS), ...Object.values(FILES)])];

function run(argv: string[], opts: { env?: Record<string, string>; cwd?: string; timeout?: number } = {}): SpawnSyncReturns<string> {
  const result = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8", env: { ...process.env, ...opts.env }, cwd: opts.cwd, timeout: opts.timeout ?? 600_000, maxBuffer: 64 << 20 });
  if (result.status !== 0) throw new Error(`${argv.join(" ").slice(0, 200)}: exit ${result.status}\n${(result.stderr ?? "").slice(-3000)}`);
  return result;
}

/** `argv` run without blocking (so that builds and boots overlap); its exit status and the end of its stderr. */
function runAsync(argv: string[], opts: { env?: Record<string, string>; timeout?: number } = {}): Promise<{ status: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { env: { ...process.env, ...opts.env }, stdio: ["ignore", "ignore", "pipe"], timeout: opts.timeout ?? 600_000 });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr = (stderr + chunk).slice(-6000);
    });
    child.on("error", reject);
    child.on("close", (status) => resolve({ status: status ?? -1, stderr }));
  });
}

/**
 * Runs tasks at most `limit` at a time (a TCG guest keeps one core busy: two cores, two guests).
 * Each task's promise is also given a no-op handler, so that one failing while nobody awaits it
 * yet is reported by the test that does, not as an unhandled rejection.
 */
export function taskPool(limit = os.availableParallelism()) {
  let running = 0;
  const waiting: (() => void)[] = [];
  return function run<T>(task: () => Promise<T>): Promise<T> {
    const result = (async () => {
      if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
      running++;
      try {
        return await task();
      } finally {
        running--;
        waiting.shift()?.();
      }
    })();
    result.catch(() => {});
    return result;
  };
}

const has = (tool: string) => Bun.which(tool) !== null;

/** Why the VM tests cannot run here, or undefined once every tool is present. */
export function ensureVmTools(): string | undefined {
  const missing = [...Object.keys(TOOLS).filter((tool) => !has(tool)), ...Object.keys(FILES).filter((file) => !fs.existsSync(file))];
  if (missing.length === 0) return undefined;
  if (process.getuid?.() !== 0) return `missing ${missing.join(", ")} and not root to install them`;
  // dracut-core, not dracut: the latter hooks the host's kernel installs. No kernel package either.
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  if (spawnSync("apt-get", ["install", "-y", "--no-install-recommends", ...APT_PACKAGES], { env: { ...process.env, ...env }, stdio: "ignore" }).status !== 0) {
    run(["apt-get", "update"], { env });
    run(["apt-get", "install", "-y", "--no-install-recommends", ...APT_PACKAGES], { env });
  }
  const still = [...Object.keys(TOOLS).filter((tool) => !has(tool)), ...Object.keys(FILES).filter((file) => !fs.existsSync(file))];
  return still.length === 0 ? undefined : `apt could not provide ${still.join(", ")}`;
}

export interface Kernel {
  version: string;
  vmlinux: string;
  /** The EFI-stub image the package ships, which systemd-boot starts. */
  bzImage: string;
  modules: string;
}

/** The newest Debian kernel image package, unpacked (not installed) into the cache, with its vmlinux. */
export function ensureKernel(): Kernel {
  const dir = path.join(CACHE, "kernel");
  const done = path.join(dir, "version");
  if (!fs.existsSync(done)) {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const depends = run(["apt-cache", "depends", "linux-image-amd64"]).stdout;
    const pkg = /Depends: (linux-image-[0-9][^\s]*)/.exec(depends)?.[1];
    if (!pkg) throw new Error(`no kernel package behind linux-image-amd64:\n${depends}`);
    run(["apt-get", "download", pkg], { cwd: dir });
    const deb = fs.readdirSync(dir).find((f) => f.endsWith(".deb"))!;
    run(["dpkg-deb", "-x", deb, "tree"], { cwd: dir });
    fs.rmSync(path.join(dir, deb));
    const version = fs.readdirSync(path.join(dir, "tree", "lib", "modules"))[0]!;
    run(["depmod", "-b", path.join(dir, "tree"), version]);
    extractVmlinux(path.join(dir, "tree", "boot", `vmlinuz-${version}`), path.join(dir, "vmlinux"));
    fs.writeFileSync(done, version);
  }
  const version = fs.readFileSync(done, "utf8").trim();
  return { version, vmlinux: path.join(dir, "vmlinux"), bzImage: path.join(dir, "tree", "boot", `vmlinuz-${version}`), modules: path.join(dir, "tree", "lib", "modules", version) };
}

/** Debian's systemd-boot EFI binary, unpacked (not installed) from systemd-boot-efi into the cache. */
export function ensureSystemdBoot(): string {
  const dir = path.join(CACHE, "systemd-boot");
  const binary = path.join(dir, "tree", "usr", "lib", "systemd", "boot", "efi", "systemd-bootx64.efi");
  if (!fs.existsSync(binary)) {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    run(["apt-get", "download", "systemd-boot-efi"], { cwd: dir });
    const deb = fs.readdirSync(dir).find((f) => f.endsWith(".deb"))!;
    run(["dpkg-deb", "-x", deb, "tree"], { cwd: dir });
    fs.rmSync(path.join(dir, deb));
  }
  return binary;
}

/** The ELF inside a bzImage (its payload, xz or zstd or gzip), which QEMU boots through PVH. */
function extractVmlinux(bzImage: string, out: string): void {
  const image = fs.readFileSync(bzImage);
  const formats: [Buffer, string[]][] = [
    [Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), ["unxz", "-c"]],
    [Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), ["zstd", "-dc"]],
    [Buffer.from([0x1f, 0x8b, 0x08]), ["gzip", "-dc"]],
  ];
  for (const [magic, decode] of formats) {
    for (let at = image.indexOf(magic); at >= 0; at = image.indexOf(magic, at + 1)) {
      const result = spawnSync(decode[0]!, decode.slice(1), { input: image.subarray(at), maxBuffer: 512 << 20 });
      const elf = result.stdout;
      if (elf && elf.length > 4 && elf.subarray(0, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]))) {
        fs.writeFileSync(out, elf);
        return;
      }
    }
  }
  throw new Error(`no kernel payload found in ${bzImage}`);
}

/** What an initramfs is made from: the binary, the module's files, the kernel and how dracut is run. */
function initramfsInputs(kernel: Kernel, moss: string, dracutArgs: string[]): string {
  const hash = createHash("sha256").update(fs.readFileSync(moss)).update(kernel.version).update(dracutArgs.join("\0"));
  for (const file of ["90moss/module-setup.sh", "moss-fstx.service", "moss-fstx.sh"]) hash.update(fs.readFileSync(path.join(ROOT, "initramfs", file)));
  hash.update(fs.readFileSync(path.join(ROOT, "scripts", "install-dracut-module.sh")));
  return hash.digest("hex");
}

/**
 * dracut's module tree, copied once with the moss module linked in, and the module's files
 * installed by scripts/install-dracut-module.sh into a DESTDIR (dracut takes them from there
 * through MOSS_DRACUT_SOURCE), with a fresh copy of the binary.
 */
function prepareDracut(moss: string): { base: string; source: string } {
  const base = path.join(CACHE, "dracut-base");
  if (!fs.existsSync(path.join(base, "dracut-functions.sh"))) {
    fs.rmSync(base, { recursive: true, force: true });
    run(["cp", "-a", "/usr/lib/dracut", base]);
  }
  fs.rmSync(path.join(base, "modules.d", "90moss"), { recursive: true, force: true });
  fs.symlinkSync(path.join(ROOT, "initramfs", "90moss"), path.join(base, "modules.d", "90moss"));
  const source = path.join(CACHE, "moss-files");
  fs.rmSync(source, { recursive: true, force: true });
  run(["sh", path.join(ROOT, "scripts", "install-dracut-module.sh")], { env: { DESTDIR: source, MOSS_BINARY: moss } });
  return { base, source };
}

export interface InitramfsVariant {
  out: string;
  /** dracut's arguments beyond the common ones (e.g. `--nostrip`, `--no-compress`). */
  args: string[];
  /** Without the moss module: the baseline its size is measured against. */
  withoutMoss?: boolean;
}

/**
 * dracut+systemd initramfs images with the moss module, built side by side. An image is rebuilt
 * only when what it is made from changed (binary, module, kernel, arguments); `seconds` is
 * undefined for one taken from the cache.
 */
export async function buildInitramfs(kernel: Kernel, moss: string, variants: InitramfsVariant[]): Promise<{ out: string; bytes: number; seconds?: number }[]> {
  const common = [
    "--conf", "/dev/null", "--no-hostonly", "--no-hostonly-cmdline", "--no-early-microcode", "--kmoddir", kernel.modules, "--kver", kernel.version,
    "--drivers", "virtio_blk virtio_pci ext4", "--compress", "zstd", "--force",
  ];
  const modules = "systemd systemd-initrd base rootfs-block fs-lib";
  let prepared: { base: string; source: string } | undefined;
  const pool = taskPool();
  return Promise.all(variants.map(async ({ out, args: extra, withoutMoss }) => {
    const args = ["--modules", withoutMoss ? modules : `${modules} moss`, ...extra];
    const key = initramfsInputs(kernel, moss, [...common, ...args]);
    const keyFile = `${out}.inputs`;
    if (fs.existsSync(out) && fs.existsSync(keyFile) && fs.readFileSync(keyFile, "utf8") === key) return { out, bytes: fs.statSync(out).size };
    // An image whose build is cut short must not pass for the one built before from the same inputs.
    fs.rmSync(keyFile, { force: true });
    prepared ??= prepareDracut(moss);
    const { base, source } = prepared;
    // Each build has its own (empty) conf dir: dracut reads *.conf from it.
    const confdir = fs.mkdtempSync(path.join(CACHE, "dracut-conf-"));
    return pool(async () => {
      const started = performance.now();
      const result = await runAsync(["dracut", ...common, "--confdir", confdir, ...args, out], { env: { dracutbasedir: base, MOSS_DRACUT_SOURCE: source } });
      fs.rmSync(confdir, { recursive: true, force: true });
      if (result.status !== 0) throw new Error(`dracut ${args.join(" ")} ${out}: exit ${result.status}\n${result.stderr}`);
      fs.writeFileSync(keyFile, key);
      return { out, bytes: fs.statSync(out).size, seconds: (performance.now() - started) / 1000 };
    });
  }));
}

/** The guest's init: says what it booted into, leaves a mark on the root, and powers off. */
const GUEST_INIT = `#!/vm-test/busybox sh
export PATH=/vm-test
/vm-test/busybox mount -t proc proc /proc 2>/dev/null
/vm-test/busybox mount -o remount,rw / 2>/dev/null
id=$(/vm-test/busybox cat /usr/.stateID 2>/dev/null)
echo "MOSS-VM-INIT: root is on state [$id]"
echo "$id" > /vm-test/booted-state
/vm-test/busybox sync
echo o > /proc/sysrq-trigger
/vm-test/busybox sleep 30
`;

/** Turn a moss root into an ext4 image (no journal: debugfs reads it as the guest left it). */
export function rootImage(rootDir: string, out: string, size = "256M"): void {
  const vmDir = path.join(rootDir, "vm-test");
  fs.mkdirSync(vmDir, { recursive: true });
  fs.copyFileSync(Bun.which("busybox")!, path.join(vmDir, "busybox"));
  fs.chmodSync(path.join(vmDir, "busybox"), 0o755);
  fs.writeFileSync(path.join(vmDir, "init"), GUEST_INIT, { mode: 0o755 });
  for (const dir of ["proc", "sys", "dev", "run", "tmp", "etc"]) fs.mkdirSync(path.join(rootDir, dir), { recursive: true });
  // systemd's switch-root refuses a root without an os-release.
  if (!fs.existsSync(path.join(rootDir, "etc", "os-release"))) fs.symlinkSync("../usr/lib/os-release", path.join(rootDir, "etc", "os-release"));
  run(["mkfs.ext4", "-q", "-F", "-O", "^has_journal", "-d", rootDir, out, size]);
}

export interface Boot {
  seconds: number;
  console: string;
}

/** Boot `image` under TCG with `append` added to the command line; the guest powers itself off. */
export async function boot(kernel: Kernel, initramfs: string, image: string, append: string): Promise<Boot> {
  const log = `${image}.console`;
  const started = performance.now();
  const result = await runAsync([
    "timeout", "150", "qemu-system-x86_64", "-accel", "tcg", "-cpu", "max", "-smp", "1", "-m", "768", "-nodefaults", "-display", "none",
    "-serial", `file:${log}`, "-no-reboot", "-kernel", kernel.vmlinux, "-initrd", initramfs,
    "-append", `console=ttyS0 root=/dev/vda panic=-1 quiet init=/vm-test/init ${append}`,
    "-drive", `file=${image},format=raw,if=virtio`,
  ], { timeout: 170_000 });
  const seconds = (performance.now() - started) / 1000;
  const console = fs.existsSync(log) ? fs.readFileSync(log, "utf8") : "";
  if (result.status !== 0) throw new Error(`qemu exited ${result.status} after ${seconds.toFixed(1)} s\n${result.stderr}${console.slice(-4000)}`);
  return { seconds, console };
}

/** A file of the image, read without mounting it; undefined when it does not exist. */
export function imageFile(image: string, file: string): string | undefined {
  const result = spawnSync("debugfs", ["-R", `cat ${file}`, image], { encoding: "utf8" });
  if (result.status !== 0 || /File not found|not found by ext2_lookup/.test(result.stderr)) return undefined;
  return result.stdout;
}

/**
 * Boot `disk` through UEFI firmware (OVMF) under TCG: whatever the disk's ESP holds (systemd-boot,
 * its entries and kernels) decides what starts. `vars` is the firmware's variable store, kept
 * between boots like NVRAM. The guest powers itself off.
 */
export async function bootUefi(disk: string, vars: string, opts: { timeout?: number } = {}): Promise<Boot> {
  const log = `${disk}.console-${Date.now()}`;
  const started = performance.now();
  const seconds = opts.timeout ?? 300;
  const result = await runAsync([
    "timeout", String(seconds), "qemu-system-x86_64", "-machine", "q35", "-accel", "tcg", "-cpu", "max", "-smp", "1", "-m", "1024",
    "-nodefaults", "-display", "none", "-serial", `file:${log}`, "-no-reboot",
    "-drive", `if=pflash,format=raw,unit=0,readonly=on,file=${OVMF.code}`,
    "-drive", `if=pflash,format=raw,unit=1,file=${vars}`,
    "-drive", `file=${disk},format=raw,if=virtio`,
  ], { timeout: (seconds + 20) * 1000 });
  const elapsed = (performance.now() - started) / 1000;
  const console = fs.existsSync(log) ? fs.readFileSync(log, "utf8") : "";
  if (result.status !== 0) throw new Error(`qemu exited ${result.status} after ${elapsed.toFixed(1)} s\n${result.stderr}${console.slice(-4000)}`);
  return { seconds: elapsed, console };
}

const AUTHENTICATED_VARIABLE_STORE = "aaf32c78-947b-439a-a180-2e144ec37792";

/**
 * Sets a UEFI variable in an OVMF variable store file (EDK2's authenticated store inside its
 * firmware volume), as if the OS had set it before rebooting: appended after the variables there,
 * in the state "added".
 */
export function setOvmfVariable(varsFile: string, name: string, guidBytesLE: Buffer, value: Buffer, attributes = 0x7): void {
  const fd = fs.readFileSync(varsFile);
  if (fd.toString("latin1", 0x28, 0x2c) !== "_FVH") throw new Error(`${varsFile}: no firmware volume header`);
  const store = fd.readUInt16LE(0x30);
  const storeGuid = guidText(fd.subarray(store, store + 16));
  if (storeGuid !== AUTHENTICATED_VARIABLE_STORE) throw new Error(`${varsFile}: variable store ${storeGuid} is not EDK2's authenticated store`);
  const HEADER = 60;
  let at = store + 28;
  while (fd.readUInt16LE(at) === 0x55aa) {
    const nameSize = fd.readUInt32LE(at + 36);
    const dataSize = fd.readUInt32LE(at + 40);
    at = (at + HEADER + nameSize + dataSize + 3) & ~3;
  }
  const nameBytes = Buffer.alloc((name.length + 1) * 2);
  for (let i = 0; i < name.length; i++) nameBytes.writeUInt16LE(name.charCodeAt(i), i * 2);
  const header = Buffer.alloc(HEADER);
  header.writeUInt16LE(0x55aa, 0);
  header[2] = 0x3f; // VAR_ADDED
  header.writeUInt32LE(attributes, 4);
  header.writeUInt32LE(nameBytes.length, 36);
  header.writeUInt32LE(value.length, 40);
  guidBytesLE.copy(header, 44);
  Buffer.concat([header, nameBytes, value]).copy(fd, at);
  fs.writeFileSync(varsFile, fd);
}
