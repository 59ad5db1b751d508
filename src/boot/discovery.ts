/**
 * Where a root's boot files go (boot-management §1): the mode (native for the running system's
 * own root, image for a `-D` root, a chroot or an initramfs), the firmware, the root device and
 * the command line that finds it, and the mounted ESP and XBOOTLDR, found or declared with
 * `--esp`/`--xbootldr`. In native mode a partition nobody mounted is mounted here (and unmounted
 * by `release`); in image mode it must be mounted already.
 */
import fs from "node:fs";
import path from "node:path";
import { errnoOf, mount, unmount } from "../linux/index.ts";
import { BlockDevices } from "./block-devices.ts";
import { readEfiString } from "./efivars.ts";
import { BootError } from "./errors.ts";
import { hostPaths, type HostPaths } from "./host-paths.ts";
import { canonical, MountTable } from "./mounts.ts";
import { findEsp, findXbootldr, type FoundPartition } from "./partitions.ts";
import { findRootDevice, rootDescriptor, type RootDevice } from "./root-device.ts";
import { probeDevice } from "./superblock.ts";

/** Overrides the mode discovery picks (`native` or `image`): for tests, and for unusual setups. */
export const BOOT_MODE_ENV = "MOSS_BOOT_MODE";
export const ESP_ENV = "MOSS_ESP";
export const XBOOTLDR_ENV = "MOSS_XBOOTLDR";

export type BootMode = "native" | "image";

export interface BootPartition {
  /** Where it is mounted (or the directory `--esp`/`--xbootldr` declared). */
  dir: string;
  /** `/dev/…` as the machine names it; undefined when declared by an override. */
  device?: string;
  partUuid?: string;
  via: FoundPartition["via"] | "override" | "mount-table";
  /** Mounted by this run, and unmounted by `release`. */
  mountedHere: boolean;
}

export interface BootEnvironment {
  mode: BootMode;
  firmware: "uefi" | "bios";
  root: RootDevice | undefined;
  /** The root descriptor's words, `rw` last; only `rw` when the root device is unknown. */
  rootWords: string[];
  esp: BootPartition | undefined;
  xbootldr: BootPartition | undefined;
  /** What systemd-boot says it is (`LoaderInfo`), native mode only. */
  loaderInfo: string | undefined;
  /** Unmounts what this run mounted, XBOOTLDR first. */
  release(): void;
}

export interface DiscoverOptions {
  /** The installation root. */
  root: string;
  esp?: string;
  xbootldr?: string;
  host?: HostPaths;
  warn?: (message: string) => void;
}

/** Native when the root is this system's own `/` (not inside a chroot); `MOSS_BOOT_MODE` overrides. */
export function bootMode(root: string, host: HostPaths): BootMode {
  const forced = process.env[BOOT_MODE_ENV];
  if (forced === "native" || forced === "image") return forced;
  if (fs.realpathSync(root) !== "/") return "image";
  try {
    const self = fs.statSync("/");
    const init = fs.statSync(path.join(host.proc, "1", "root"));
    // In a chroot, / is not pid 1's root: the EFI variables describe the host's boot, not this root's.
    if (self.dev !== init.dev || self.ino !== init.ino) return "image";
  } catch {
    // No /proc/1/root to compare with: assume the root we were given.
  }
  return "native";
}

export function discoverBoot(opts: DiscoverOptions): BootEnvironment {
  const host = opts.host ?? hostPaths();
  const mode = bootMode(opts.root, host);
  const firmware = fs.existsSync(path.join(host.sys, "firmware", "efi")) ? "uefi" : "bios";
  const devices = new BlockDevices(host);
  let mounts = MountTable.read(host.proc);
  const root = findRootDevice(opts.root, devices, mounts);
  const rootWords = root ? rootDescriptor(root, devices) : ["rw"];
  const loaderInfo = mode === "native" && firmware === "uefi" ? readEfiString(host.efivars, "LoaderInfo") : undefined;
  const mountedHere: string[] = [];
  const release = () => {
    for (const dir of mountedHere.reverse()) {
      try {
        unmount(dir);
      } catch (error) {
        opts.warn?.(`could not unmount ${dir}: ${(error as Error).message}`);
      }
    }
    mountedHere.length = 0;
  };
  const env: BootEnvironment = { mode, firmware, root, rootWords, esp: undefined, xbootldr: undefined, loaderInfo, release };

  const espOverride = opts.esp ?? process.env[ESP_ENV];
  const xbootldrOverride = opts.xbootldr ?? process.env[XBOOTLDR_ENV];
  if (espOverride) {
    env.esp = declared(espOverride, "--esp");
    if (xbootldrOverride) env.xbootldr = declared(xbootldrOverride, "--xbootldr");
    return env;
  }
  if (firmware === "bios") return env;

  const esp = findEsp({ devices, root, trustLoaderVariables: mode === "native" });
  if (!esp) {
    // No partition table says where it is (a disk without GPT, devices sysfs does not show): a FAT
    // filesystem mounted where ESPs are mounted is taken for it.
    const mounted = ["efi", "boot/efi", "boot"].map((dir) => mounts.at(path.join(opts.root === "/" ? "/" : fs.realpathSync(opts.root), dir))).find((m) => m?.fsType === "vfat");
    if (mounted) env.esp = { dir: mounted.mountPoint, ...(mounted.device.startsWith("/") ? { device: mounted.device } : {}), via: "mount-table", mountedHere: false };
    return env;
  }
  const xbootldr = findXbootldr(esp, devices);
  try {
    env.esp = placed(esp, path.join(opts.root, "efi"), "vfat", "ESP");
    if (xbootldrOverride) env.xbootldr = declared(xbootldrOverride, "--xbootldr");
    else if (xbootldr) {
      const { kind } = probeDevice(xbootldr.device.node);
      env.xbootldr = placed(xbootldr, path.join(opts.root, "boot"), kind === "fat" ? "vfat" : kind, "XBOOTLDR");
    }
  } catch (error) {
    release();
    throw error;
  }
  return env;

  /** The partition's mount point, mounting it in native mode when nothing has. */
  function placed(found: FoundPartition, target: string, fsType: string, label: string): BootPartition {
    const node = canonical(found.device.node) ?? found.device.node;
    const device = devices.hostNode(found.device);
    // An automount point (systemd's, when it is on) mounts the partition when it is touched.
    if (mounts.at(target)?.fsType === "autofs") {
      fs.existsSync(path.join(target, "."));
      mounts = MountTable.read(host.proc);
    }
    const existing = mounts.ofDevice(node);
    if (existing) return { dir: existing.mountPoint, device, partUuid: found.partUuid, via: found.via, mountedHere: false };
    if (mode === "image") {
      throw new BootError("BOOT_NOT_MOUNTED", `the ${label} of this root is ${device}, and it is not mounted: mount it (or give --${label === "ESP" ? "esp" : "xbootldr"} DIR) and run \`moss boot sync\``);
    }
    prepareMountPoint(target, label);
    mountPartition(node, target, fsType, opts.warn);
    mountedHere.push(target);
    mounts = MountTable.read(host.proc);
    return { dir: target, device, partUuid: found.partUuid, via: found.via, mountedHere: true };
  }
}

function declared(dir: string, option: string): BootPartition {
  const resolved = path.resolve(dir);
  if (!fs.statSync(resolved, { throwIfNoEntry: false })?.isDirectory()) {
    throw new BootError("BOOT_NOT_MOUNTED", `${option} ${dir}: not a directory`);
  }
  return { dir: resolved, via: "override", mountedHere: false };
}

/** An empty directory that is not itself a mount point: never hide what is already there. */
function prepareMountPoint(target: string, label: string): void {
  fs.mkdirSync(target, { recursive: true, mode: 0o700 });
  const entries = fs.readdirSync(target);
  if (entries.length > 0) throw new BootError("BOOT_MOUNT", `cannot mount the ${label} on ${target}: the directory is not empty (${entries.slice(0, 3).join(", ")}${entries.length > 3 ? ", …" : ""})`);
}

/** FAT with private permissions first; some kernels refuse those options (Rust saw EINVAL), then plain. */
function mountPartition(node: string, target: string, fsType: string, warn: ((message: string) => void) | undefined): void {
  if (fsType !== "vfat") {
    mount(node, target, fsType);
    return;
  }
  try {
    mount(node, target, "vfat", "umask=0077,shortname=mixed,utf8");
  } catch (error) {
    if (errnoOf(error) !== "EINVAL") throw error;
    warn?.(`mounting ${node} with umask=0077,shortname=mixed,utf8 failed (EINVAL); mounted with the defaults`);
    mount(node, target, "vfat");
  }
}
