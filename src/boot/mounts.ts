/**
 * The mount table (boot-management §1.3): `<proc>/self/mounts`, with the octal escapes the kernel
 * writes for spaces, tabs, newlines and backslashes decoded (Rust keeps them, so a mount point
 * with a space is never found).
 */
import fs from "node:fs";
import path from "node:path";
import { readTextIfAny } from "./tolerant-fs.ts";

export interface Mount {
  /** As written: a device path, or a name such as `tmpfs`. */
  device: string;
  mountPoint: string;
  fsType: string;
  /** `rw`, `relatime`: flags; `subvol=/@`: key and value. */
  options: Map<string, string | true>;
}

/** `\040` → space, and the other three-digit octal escapes the kernel uses. */
export function decodeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

export function parseMounts(text: string): Mount[] {
  const mounts: Mount[] = [];
  for (const line of text.split("\n")) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 4) continue;
    const options = new Map<string, string | true>();
    for (const option of fields[3]!.split(",")) {
      if (option === "") continue;
      const at = option.indexOf("=");
      if (at < 0) options.set(decodeMountField(option), true);
      else options.set(decodeMountField(option.slice(0, at)), decodeMountField(option.slice(at + 1)));
    }
    mounts.push({ device: decodeMountField(fields[0]!), mountPoint: decodeMountField(fields[1]!), fsType: decodeMountField(fields[2]!), options });
  }
  return mounts;
}

export class MountTable {
  constructor(readonly mounts: readonly Mount[]) {}

  static read(procDir: string): MountTable {
    // No /proc (a bare chroot): nothing is known to be mounted.
    return new MountTable(parseMounts(readTextIfAny(path.join(procDir, "self", "mounts")) ?? ""));
  }

  /** The mount at exactly this path; the last one wins, as it hides those before it. */
  at(mountPoint: string): Mount | undefined {
    for (let i = this.mounts.length - 1; i >= 0; i--) if (this.mounts[i]!.mountPoint === mountPoint) return this.mounts[i];
    return undefined;
  }

  /** Where a block device (its canonical path) is mounted; the last line wins. */
  ofDevice(canonicalDevice: string): Mount | undefined {
    for (let i = this.mounts.length - 1; i >= 0; i--) {
      const mount = this.mounts[i]!;
      if (!mount.device.startsWith("/")) continue;
      if (canonical(mount.device) === canonicalDevice) return mount;
    }
    return undefined;
  }
}

/** The real path of `file`, or undefined when it does not resolve. */
export function canonical(file: string): string | undefined {
  try {
    return fs.realpathSync(file);
  } catch {
    return undefined;
  }
}
