/**
 * systemd-boot's binaries (boot-management §2.5, §4.6 "Ours"): found in a state's
 * `usr/lib/systemd/boot/efi/` (or another `usr/lib…` directory), and recognised (with their version) by the marker every build
 * carries: `#### LoaderInfo: systemd-boot <version> ####`.
 */
import fs from "node:fs";
import path from "node:path";
import { regularIn } from "./kernels.ts";
import { listNames } from "./tolerant-fs.ts";

export const SYSTEMD_BOOT_FILE = "systemd-bootx64.efi";
const MARKER = Buffer.from("#### LoaderInfo: systemd-boot ", "latin1");
const MARKER_END = Buffer.from(" ####", "latin1");

/** The systemd-boot binary of a state's tree, if it ships one. */
export function findSystemdBoot(treeRoot: string): string | undefined {
  const usr = path.join(treeRoot, "usr");
  for (const lib of listNames(usr).filter((name) => name.startsWith("lib"))) {
    const real = regularIn(treeRoot, path.join(usr, lib, "systemd", "boot", "efi", SYSTEMD_BOOT_FILE));
    if (real) return real;
  }
  return undefined;
}

/** The systemd-boot version a binary's marker names; undefined for any other EFI binary (or none). */
export function systemdBootVersion(file: string): string | undefined {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch {
    return undefined;
  }
  const at = bytes.indexOf(MARKER);
  if (at < 0) return undefined;
  const end = bytes.indexOf(MARKER_END, at + MARKER.length);
  if (end < 0 || end - at > 256) return undefined;
  return bytes.toString("latin1", at + MARKER.length, end);
}
