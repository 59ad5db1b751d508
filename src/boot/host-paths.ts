/**
 * Where the boot probes read the machine from (boot-management §1.1 "Ours"): `sys`, `dev`, `proc`
 * and the EFI variables, all below one "host root". It is `/` on a real machine; tests point it
 * at fixture trees of sysfs, device images and a mount table, so that every probe runs on them.
 */
import path from "node:path";

/** A host root other than `/`: for tests, and for probing a machine's tree copied elsewhere. */
export const BOOT_HOST_ENV = "MOSS_BOOT_HOST";

export interface HostPaths {
  /** The host root itself: device paths written in a fixture's mount table live below it. */
  root: string;
  sys: string;
  dev: string;
  proc: string;
  efivars: string;
}

export function hostPaths(root: string = process.env[BOOT_HOST_ENV] || "/"): HostPaths {
  const at = path.resolve(root);
  const sys = path.join(at, "sys");
  return { root: at, sys, dev: path.join(at, "dev"), proc: path.join(at, "proc"), efivars: path.join(sys, "firmware", "efi", "efivars") };
}
