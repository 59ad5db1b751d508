/**
 * Packages that make a root bootable, for the boot sync tests: an os-info.json, a systemd-boot
 * binary (any bytes carrying systemd-boot's version marker), kernels with initrds, `boot.json` and
 * command-line snippets, in the layout AerynOS's kernel packages use.
 */
import { randomBytes } from "node:crypto";
import path from "node:path";
import { tinyStone } from "./packages.ts";

export const OS_INFO = JSON.stringify({
  metadata: {
    identity: { id: "aerynos", name: "AerynOS", display: "AerynOS Test", former_identities: [{ id: "serpentos" }] },
    version: { short: "2026.12", full: "2026.12.0" },
  },
});

/** Bytes of a fake EFI binary that systemd-boot's marker names as `version`. */
export function systemdBootBinary(version: string, size = 4096): string {
  const marker = `#### LoaderInfo: systemd-boot ${version} ####`;
  return `MZ${"\0".repeat(62)}${marker}${"\0".repeat(Math.max(0, size - 64 - marker.length))}`;
}

/** Incompressible text of `bytes` bytes (hex of random bytes), so a stone holds it at full size. */
export function filler(bytes: number, seed = ""): string {
  return (seed + randomBytes(Math.ceil(bytes / 2)).toString("hex")).slice(0, bytes);
}

export interface KernelPackage {
  name: string;
  version: string;
  kver: string;
  variant?: string;
  /** Bytes of vmlinuz (and of the initrd). */
  size?: number;
  cmdline?: string;
  release?: number;
}

export async function bootPackages(dir: string) {
  return {
    os: () => tinyStone(dir, { name: "os-info", files: { "lib/os-info.json": OS_INFO } }),
    systemdBoot: (version: string, release = 1) =>
      tinyStone(dir, { name: "systemd-boot", version, release, files: { "lib/systemd/boot/efi/systemd-bootx64.efi": systemdBootBinary(version) } }),
    kernel: (k: KernelPackage) => {
      const size = k.size ?? 8192;
      const files: Record<string, string> = {
        [`lib/kernel/${k.kver}/vmlinuz`]: filler(size, `kernel ${k.kver} `),
        [`lib/kernel/${k.kver}/50-default.initrd`]: filler(size, `initrd ${k.kver} `),
        [`lib/kernel/${k.kver}/boot.json`]: JSON.stringify({ name: k.name, version: k.kver, variant: k.variant ?? "desktop" }),
        [`lib/kernel/${k.kver}/System.map`]: "map",
      };
      if (k.cmdline) files[`lib/kernel/${k.kver}/90-${k.name}.cmdline`] = k.cmdline;
      return tinyStone(dir, { name: k.name, version: k.version, release: k.release ?? 1, files }, `${k.name}-${k.version}-${k.release ?? 1}.stone`);
    },
    vendorCmdline: (text: string) => tinyStone(dir, { name: "cmdline-quiet", files: { "lib/kernel/cmdline.d/00-quiet.cmdline": text } }),
    microcode: () => tinyStone(dir, { name: "ucode", files: { "lib/kernel/initrd.d/00-ucode.initrd": filler(1024, "ucode ") } }),
    plain: (name: string) => tinyStone(dir, { name, files: { [`share/${name}/README`]: name } }),
    path: (name: string) => path.join(dir, name),
  };
}
