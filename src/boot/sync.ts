/**
 * Carrying out a boot plan (boot-management §5.8 "Ours"): first what nothing references any more
 * (stale entries, then their kernels, then leftovers of interrupted writes), so that a nearly
 * full ESP has room; then the bootloader, the kernels and initrds, the entries that name them, and
 * last loader.conf. Each write replaces its file through a temporary copy, so the entries kept
 * from before stay bootable at every instant, and a sync with nothing to change writes nothing.
 */
import { removePath, replaceFile } from "./esp-files.ts";
import type { BootPlan, PlannedWrite } from "./plan.ts";

const WRITE_ORDER: Record<PlannedWrite["kind"], number> = { bootloader: 0, kernel: 1, entry: 2, "loader.conf": 3 };
const REMOVAL_ORDER = { entry: 0, "kernel-directory": 1, leftover: 2 } as const;

export interface ApplyHooks {
  onRemove?: (target: string) => void;
  onWrite?: (dest: string) => void;
}

export function applyBootPlan(plan: BootPlan, hooks: ApplyHooks = {}): void {
  for (const removal of [...plan.removals].sort((a, b) => REMOVAL_ORDER[a.kind] - REMOVAL_ORDER[b.kind])) {
    removePath(removal.target);
    hooks.onRemove?.(removal.target);
  }
  for (const write of [...plan.writes].sort((a, b) => WRITE_ORDER[a.kind] - WRITE_ORDER[b.kind])) {
    replaceFile(write.dest, write.content);
    hooks.onWrite?.(write.dest);
  }
}
