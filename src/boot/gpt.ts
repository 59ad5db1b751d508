/**
 * GUID partition tables (boot-management §1.5, §1.7, §1.8): the header at LBA 1 and its entries,
 * checked by their CRC32s, in the disk's logical block size (Rust assumes 512 bytes, so 4Kn disks
 * have no ESP for it).
 */
import fs from "node:fs";

export const ESP_TYPE_GUID = "c12a7328-f81f-11d2-ba4b-00a0c93ec93b";
export const XBOOTLDR_TYPE_GUID = "bc13c2ff-59e6-4262-a352-b275fd6f7172";
const SIGNATURE = "EFI PART";
/** More entries than any real table has: a bound on what a corrupt header can make us read. */
const MAX_ENTRIES = 1024;

export interface GptPartition {
  /** 1-based, as the kernel numbers partitions (`/sys/class/block/sda1/partition`). */
  number: number;
  typeGuid: string;
  uniqueGuid: string;
  firstLba: bigint;
  lastLba: bigint;
  name: string;
}

export interface Gpt {
  diskGuid: string;
  sectorSize: number;
  partitions: GptPartition[];
}

/** A GUID's 16 bytes as text: the first three fields are little-endian, the rest as stored. */
export function guidText(bytes: Uint8Array): string {
  const hex = (from: number, to: number, reverse: boolean) => {
    const part = [...bytes.subarray(from, to)];
    return (reverse ? part.reverse() : part).map((b) => b.toString(16).padStart(2, "0")).join("");
  };
  return `${hex(0, 4, true)}-${hex(4, 6, true)}-${hex(6, 8, true)}-${hex(8, 10, false)}-${hex(10, 16, false)}`;
}

/** The inverse of guidText. */
export function guidBytes(text: string): Buffer {
  const hex = text.replace(/-/g, "");
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new Error(`not a GUID: ${text}`);
  const raw = Buffer.from(hex, "hex");
  return Buffer.concat([Buffer.from(raw.subarray(0, 4)).reverse(), Buffer.from(raw.subarray(4, 6)).reverse(), Buffer.from(raw.subarray(6, 8)).reverse(), raw.subarray(8)]);
}

function readAt(fd: number, offset: number, length: number): Buffer {
  const buffer = Buffer.alloc(length);
  const got = fs.readSync(fd, buffer, 0, length, offset);
  return buffer.subarray(0, got);
}

/**
 * The partition table of a disk (its device node or an image file), or undefined when it has none
 * that checks out. `sectorSize` is the disk's logical block size when known; otherwise 512 and
 * 4096 are tried.
 */
export function readGpt(device: string, sectorSize?: number): Gpt | undefined {
  let fd: number;
  try {
    fd = fs.openSync(device, "r");
  } catch {
    return undefined;
  }
  try {
    for (const size of sectorSize ? [sectorSize] : [512, 4096]) {
      const gpt = parseAt(fd, size);
      if (gpt) return gpt;
    }
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}

function parseAt(fd: number, sectorSize: number): Gpt | undefined {
  const header = readAt(fd, sectorSize, sectorSize);
  if (header.length < 92 || header.toString("latin1", 0, 8) !== SIGNATURE) return undefined;
  const headerSize = header.readUInt32LE(12);
  if (headerSize < 92 || headerSize > sectorSize) return undefined;
  const headerCopy = Buffer.from(header.subarray(0, headerSize));
  headerCopy.writeUInt32LE(0, 16);
  if (crc32(headerCopy) !== header.readUInt32LE(16)) return undefined;
  const entriesLba = header.readBigUInt64LE(72);
  const count = header.readUInt32LE(80);
  const entrySize = header.readUInt32LE(84);
  if (count > MAX_ENTRIES || entrySize < 128 || entrySize > 4096) return undefined;
  const entries = readAt(fd, Number(entriesLba) * sectorSize, count * entrySize);
  if (entries.length !== count * entrySize || crc32(entries) !== header.readUInt32LE(88)) return undefined;
  const partitions: GptPartition[] = [];
  for (let i = 0; i < count; i++) {
    const entry = entries.subarray(i * entrySize, (i + 1) * entrySize);
    if (entry.subarray(0, 16).every((b) => b === 0)) continue;
    const nameUnits: number[] = [];
    for (let at = 56; at + 1 < 128; at += 2) {
      const unit = entry.readUInt16LE(at);
      if (unit === 0) break;
      nameUnits.push(unit);
    }
    partitions.push({
      number: i + 1,
      typeGuid: guidText(entry.subarray(0, 16)),
      uniqueGuid: guidText(entry.subarray(16, 32)),
      firstLba: entry.readBigUInt64LE(32),
      lastLba: entry.readBigUInt64LE(40),
      name: String.fromCharCode(...nameUnits),
    });
  }
  return { diskGuid: guidText(header.subarray(56, 72)), sectorSize, partitions };
}

/** CRC-32 (IEEE), as GPT uses it. */
export function crc32(bytes: Uint8Array): number {
  return Bun.hash.crc32(bytes) >>> 0;
}
