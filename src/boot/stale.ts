/**
 * What of ours on the ESP and XBOOTLDR no kept entry references (boot-management §5.4 "Ours"):
 * entries of our OS ids (in the shapes Rust and moss-ts write, not a user's `aerynos-custom.conf`),
 * kernel directories under `EFI/<id>/` no entry uses, files a kept directory's kernel no longer
 * ships, and `..TmpWrite` leftovers of interrupted writes. On `$BOOT` and, when the XBOOTLDR is
 * `$BOOT`, on the ESP too (what was ours there before the XBOOTLDR existed).
 */
import fs from "node:fs";
import path from "node:path";
import { isOwnedEntry } from "./entries.ts";
import { isTempName, resolveCase, sizeOnDisk, spaceOf } from "./esp-files.ts";
import { listNames } from "./tolerant-fs.ts";

export interface PlannedRemoval {
  kind: "entry" | "kernel-directory" | "leftover";
  target: string;
  bytes: number;
}

export interface KeptFiles {
  boot: string;
  esp: string;
  ownedIds: readonly string[];
  /** Entry file names kept in `$BOOT/loader/entries`. */
  keptEntries: ReadonlySet<string>;
  /** Kernel directories kept on `$BOOT` (absolute), each with the file names it keeps. */
  keptDirs: ReadonlyMap<string, ReadonlySet<string>>;
}

export function staleFiles({ boot, esp, ownedIds, keptEntries, keptDirs }: KeptFiles): PlannedRemoval[] {
  const removals: PlannedRemoval[] = [];
  for (const base of [...new Set([boot, esp])]) {
    const { blockSize } = spaceOf(base);
    const remove = (kind: PlannedRemoval["kind"], target: string) => removals.push({ kind, target, bytes: sizeOnDisk(target, blockSize) });
    const entries = resolveCase(base, "loader/entries");
    for (const name of listNames(entries)) {
      if (isTempName(name)) remove("leftover", path.join(entries, name));
      else if (isOwnedEntry(name, ownedIds) && !(base === boot && keptEntries.has(name))) remove("entry", path.join(entries, name));
    }
    for (const osId of ownedIds) {
      const idDir = resolveCase(base, `EFI/${osId}`);
      for (const name of listNames(idDir)) {
        const target = path.join(idDir, name);
        if (!fs.lstatSync(target).isDirectory()) {
          if (isTempName(name)) remove("leftover", target);
          continue;
        }
        const keep = keptDirs.get(target);
        if (!keep) remove("kernel-directory", target);
        // A kept directory loses what its kernel no longer ships (an initrd dropped) and interrupted writes.
        else for (const inner of listNames(target).filter((n) => !keep.has(n))) remove("leftover", path.join(target, inner));
      }
    }
    for (const relative of ["EFI/systemd", "EFI/Boot", "loader"]) {
      const dir = resolveCase(base, relative);
      for (const name of listNames(dir).filter(isTempName)) remove("leftover", path.join(dir, name));
    }
  }
  return removals;
}
