/**
 * Whether a boot plan fits (boot-management §5.7 "Ours"), per filesystem: the bytes its writes
 * need, in blocks, beyond what the files they replace take — plus the largest replaced file, whose
 * old copy stays while its temporary one is written, and a margin — against what is free and what
 * the plan's removals free first.
 */
import path from "node:path";
import { onDisk, spaceOf } from "./esp-files.ts";
import type { PlannedWrite } from "./plan.ts";
import type { PlannedRemoval } from "./stale.ts";

/** Room kept free beyond what the files need: FAT's own metadata and rounding. */
export const SPACE_MARGIN_BYTES = 1 << 20;

export interface SpaceNeed {
  dir: string;
  needed: number;
  available: number;
}

export function spaceNeeds(boot: string, esp: string, writes: readonly PlannedWrite[], removals: readonly PlannedRemoval[]): SpaceNeed[] {
  const filesystems = new Map<number, SpaceNeed & { largest: number; blockSize: number }>();
  const fsOf = (target: string) => {
    const base = [boot, esp].find((b) => target === b || target.startsWith(`${b}${path.sep}`)) ?? esp;
    const space = spaceOf(base);
    let entry = filesystems.get(space.dev);
    if (!entry) {
      entry = { dir: base, needed: SPACE_MARGIN_BYTES, available: space.free, largest: 0, blockSize: space.blockSize };
      filesystems.set(space.dev, entry);
    }
    return entry;
  };
  for (const write of writes) {
    const entry = fsOf(write.dest);
    const replaced = write.replaces > 0 ? onDisk(write.replaces, entry.blockSize) : 0;
    entry.needed += onDisk(write.size, entry.blockSize) - replaced;
    entry.largest = Math.max(entry.largest, replaced);
  }
  for (const removal of removals) fsOf(removal.target).available += removal.bytes;
  return [...filesystems.values()].map((e) => ({ dir: e.dir, needed: Math.max(0, e.needed + e.largest), available: e.available }));
}
