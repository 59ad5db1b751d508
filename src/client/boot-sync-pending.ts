/**
 * An activation that does not sync the boot entries, because `--skip-boot` said so or because it
 * runs inside an initramfs, where a sync would delete the entries of the newer states and with
 * them the way back (spec boot-management §6.6), leaves `/.moss/boot-sync-pending` naming the
 * state it activated. Until a transaction or a live activation settles it, boot syncs keep the
 * newer states' entries (client/boot.ts), sorted after the state rolled back to.
 */
import fs from "node:fs";
import path from "node:path";
import { writeFileAtomic } from "../installation/index.ts";

export const BOOT_SYNC_PENDING_FILE = "boot-sync-pending";
/** systemd's mark of an initramfs (os-release(5)); never present on a booted system. */
export const INITRD_RELEASE = "/etc/initrd-release";

export function inInitramfs(): boolean {
  return fs.existsSync(INITRD_RELEASE);
}

/** Record that the entries still describe the states as they were before `stateId` was activated. */
export function markBootSyncPending(mossDir: string, stateId: number): void {
  // Durable before switch-root: the machine may be powered off right after the rollback.
  writeFileAtomic(path.join(mossDir, BOOT_SYNC_PENDING_FILE), `${stateId}\n`);
}
