/**
 * What a block device holds, from its first 128 KiB (boot-management §1.6): the filesystem or
 * container kind and its UUID. A fact table about on-disk formats; LVM2 physical volumes are
 * recognised too, so that an LV's backing device is known for what it is.
 */
import fs from "node:fs";

export type SuperblockKind = "ext4" | "btrfs" | "f2fs" | "xfs" | "luks" | "fat" | "lvm2" | "unknown";

export interface Superblock {
  kind: SuperblockKind;
  /** As the kernel command line names it (`root=UUID=…`, `rd.luks.uuid=…`). */
  uuid?: string;
  /** LUKS only: 1 or 2. */
  version?: number;
}

const PROBE_BYTES = 128 * 1024;

/** RFC 4122 text of 16 bytes in stored order (ext4, btrfs, f2fs, xfs store them big-endian). */
function uuidText(bytes: Uint8Array): string {
  const hex = Buffer.from(bytes).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function probeSuperblock(head: Buffer): Superblock {
  const has = (offset: number, magic: Buffer | string) => {
    const bytes = typeof magic === "string" ? Buffer.from(magic, "latin1") : magic;
    return head.length >= offset + bytes.length && head.subarray(offset, offset + bytes.length).equals(bytes);
  };
  if (head.length >= 1024 + 0x78 && head.readUInt16LE(1024 + 0x38) === 0xef53) return { kind: "ext4", uuid: uuidText(head.subarray(1024 + 0x68, 1024 + 0x78)) };
  if (has(0x10000 + 0x40, "_BHRfS_M")) return { kind: "btrfs", uuid: uuidText(head.subarray(0x10000 + 0x20, 0x10000 + 0x30)) };
  if (head.length >= 1024 + 0x7c && head.readUInt32LE(1024) === 0xf2f52010) return { kind: "f2fs", uuid: uuidText(head.subarray(1024 + 0x6c, 1024 + 0x7c)) };
  if (has(0, "XFSB")) return { kind: "xfs", uuid: uuidText(head.subarray(32, 48)) };
  if (has(0, Buffer.from([0x4c, 0x55, 0x4b, 0x53, 0xba, 0xbe])) || has(0, Buffer.from([0x53, 0x4b, 0x55, 0x4c, 0xba, 0xbe]))) {
    const uuid = head.toString("latin1", 0xa8, 0xa8 + 40).replace(/\0.*$/s, "");
    return { kind: "luks", uuid, version: head.readUInt16BE(6) };
  }
  // LVM2: the label may be in any of the first four sectors.
  for (let sector = 0; sector < 4; sector++) {
    const at = sector * 512;
    if (has(at, "LABELONE") && has(at + 24, "LVM2 001")) return { kind: "lvm2", uuid: head.toString("latin1", at + 32, at + 64) };
  }
  if (has(0x1fe, Buffer.from([0x55, 0xaa])) && isFat(head)) {
    const fat32 = head.readUInt16LE(0x16) === 0;
    const id = head.readUInt32LE(fat32 ? 0x43 : 0x27);
    const hex = id.toString(16).toUpperCase().padStart(8, "0");
    return { kind: "fat", uuid: `${hex.slice(0, 4)}-${hex.slice(4)}` };
  }
  return { kind: "unknown" };
}

/** A boot sector that is a FAT BIOS parameter block, not an MBR or another boot record. */
function isFat(head: Buffer): boolean {
  const bytesPerSector = head.readUInt16LE(0x0b);
  const sectorsPerCluster = head[0x0d]!;
  return [512, 1024, 2048, 4096].includes(bytesPerSector) && sectorsPerCluster > 0 && (sectorsPerCluster & (sectorsPerCluster - 1)) === 0 && head[0x10]! > 0;
}

/** Probe a device node or image file; a device that cannot be read is "unknown". */
export function probeDevice(device: string): Superblock {
  let fd: number;
  try {
    fd = fs.openSync(device, "r");
  } catch {
    return { kind: "unknown" };
  }
  try {
    const head = Buffer.alloc(PROBE_BYTES);
    const got = fs.readSync(fd, head, 0, PROBE_BYTES, 0);
    return probeSuperblock(head.subarray(0, got));
  } catch {
    return { kind: "unknown" };
  } finally {
    fs.closeSync(fd);
  }
}

