/**
 * Fixture machines for the boot probes (boot-management §8.2): a host root with `sys/class/block`
 * links into `sys/devices`, partition numbers, dm slaves and names, device files holding real GPT
 * tables and filesystem superblocks at the offsets the formats define, a mount table and EFI
 * variables. Built here byte by byte rather than copied from blsforme's binaries.
 */
import fs from "node:fs";
import path from "node:path";
import { crc32, guidBytes } from "../../src/boot/gpt.ts";
import { encodeEfiString, LOADER_GUID } from "../../src/boot/efivars.ts";

export const ESP_TYPE = "c12a7328-f81f-11d2-ba4b-00a0c93ec93b";
export const XBOOTLDR_TYPE = "bc13c2ff-59e6-4262-a352-b275fd6f7172";
export const LINUX_FS_TYPE = "0fc63daf-8483-4772-8e79-3d69d8477de4";

export interface GptPartitionSpec {
  number: number;
  type: string;
  guid: string;
  firstLba: number;
  lastLba: number;
  name?: string;
}

/** A disk image holding a protective MBR and a primary GPT (header and 128 entries), CRCs correct. */
export function gptDiskBytes(partitions: GptPartitionSpec[], opts: { sectorSize?: number; diskGuid?: string; sectors?: number } = {}): Buffer {
  const sector = opts.sectorSize ?? 512;
  const sectors = opts.sectors ?? 2048;
  const entrySize = 128;
  const count = 128;
  const entriesSectors = Math.ceil((count * entrySize) / sector);
  const bytes = Buffer.alloc(sector * (2 + entriesSectors));
  // Protective MBR: one partition of type 0xEE covering the disk.
  bytes[446 + 4] = 0xee;
  bytes.writeUInt32LE(1, 446 + 8);
  bytes.writeUInt32LE(Math.min(sectors - 1, 0xffffffff), 446 + 12);
  bytes[510] = 0x55;
  bytes[511] = 0xaa;
  const entries = Buffer.alloc(count * entrySize);
  for (const p of partitions) {
    const at = (p.number - 1) * entrySize;
    guidBytes(p.type).copy(entries, at);
    guidBytes(p.guid).copy(entries, at + 16);
    entries.writeBigUInt64LE(BigInt(p.firstLba), at + 32);
    entries.writeBigUInt64LE(BigInt(p.lastLba), at + 40);
    const name = p.name ?? "";
    for (let i = 0; i < name.length && i < 36; i++) entries.writeUInt16LE(name.charCodeAt(i), at + 56 + i * 2);
  }
  const header = bytes.subarray(sector, sector + 92);
  header.write("EFI PART", 0, "latin1");
  header.writeUInt32LE(0x00010000, 8);
  header.writeUInt32LE(92, 12);
  header.writeBigUInt64LE(1n, 24);
  header.writeBigUInt64LE(BigInt(sectors - 1), 32);
  header.writeBigUInt64LE(BigInt(2 + entriesSectors), 40);
  header.writeBigUInt64LE(BigInt(sectors - 2 - entriesSectors), 48);
  guidBytes(opts.diskGuid ?? "11111111-2222-3333-4444-555555555555").copy(header, 56);
  header.writeBigUInt64LE(2n, 72);
  header.writeUInt32LE(count, 80);
  header.writeUInt32LE(entrySize, 84);
  header.writeUInt32LE(crc32(entries), 88);
  header.writeUInt32LE(crc32(header), 16);
  entries.copy(bytes, sector * 2);
  return bytes;
}

/**
 * A whole disk image of `sectors` 512-byte sectors: the primary GPT at the start and the backup
 * (entries, then header) at the end, as firmware and kernel expect them. Partition contents are
 * written separately.
 */
export function writeGptDisk(file: string, sectors: number, partitions: GptPartitionSpec[]): void {
  const primary = gptDiskBytes(partitions, { sectors });
  const fd = fs.openSync(file, "w");
  try {
    fs.ftruncateSync(fd, sectors * 512);
    fs.writeSync(fd, primary, 0, primary.length, 0);
    // The backup header: its own LBA and the primary's swapped, its entries just before it.
    const entries = primary.subarray(1024, 1024 + 128 * 128);
    const backup = Buffer.from(primary.subarray(512, 512 + 92));
    const entriesLba = sectors - 1 - 32;
    backup.writeBigUInt64LE(BigInt(sectors - 1), 24);
    backup.writeBigUInt64LE(1n, 32);
    backup.writeBigUInt64LE(BigInt(entriesLba), 72);
    backup.writeUInt32LE(0, 16);
    backup.writeUInt32LE(crc32(backup), 16);
    fs.writeSync(fd, entries, 0, entries.length, entriesLba * 512);
    fs.writeSync(fd, backup, 0, backup.length, (sectors - 1) * 512);
  } finally {
    fs.closeSync(fd);
  }
}

/** 16 bytes of an RFC 4122 UUID in text order. */
function uuidBytes(uuid: string): Buffer {
  return Buffer.from(uuid.replace(/-/g, ""), "hex");
}

/** The first bytes of a device holding each kind of superblock, at the offsets the formats define. */
export const superblocks = {
  ext4(uuid: string): Buffer {
    const b = Buffer.alloc(4096);
    b.writeUInt16LE(0xef53, 1024 + 0x38);
    uuidBytes(uuid).copy(b, 1024 + 0x68);
    return b;
  },
  btrfs(uuid: string): Buffer {
    const b = Buffer.alloc(0x10000 + 4096);
    uuidBytes(uuid).copy(b, 0x10000 + 0x20);
    b.write("_BHRfS_M", 0x10000 + 0x40, "latin1");
    return b;
  },
  xfs(uuid: string): Buffer {
    const b = Buffer.alloc(4096);
    b.write("XFSB", 0, "latin1");
    uuidBytes(uuid).copy(b, 32);
    return b;
  },
  luks2(uuid: string): Buffer {
    const b = Buffer.alloc(4096);
    Buffer.from([0x4c, 0x55, 0x4b, 0x53, 0xba, 0xbe]).copy(b, 0);
    b.writeUInt16BE(2, 6);
    b.write(uuid, 0xa8, "latin1");
    return b;
  },
  lvm2(pvUuid: string): Buffer {
    const b = Buffer.alloc(4096);
    b.write("LABELONE", 512, "latin1");
    b.write("LVM2 001", 512 + 24, "latin1");
    b.write(pvUuid.replace(/-/g, "").padEnd(32, "x"), 512 + 32, "latin1");
    return b;
  },
  fat32(volumeId: number): Buffer {
    const b = Buffer.alloc(4096);
    b.writeUInt16LE(512, 0x0b);
    b[0x0d] = 8;
    b.writeUInt16LE(32, 0x0e);
    b[0x10] = 2;
    b.writeUInt32LE(volumeId, 0x43);
    b[0x1fe] = 0x55;
    b[0x1ff] = 0xaa;
    return b;
  },
};

export interface DiskSpec {
  /** `sda`, `nvme0n1`, `vda`. */
  name: string;
  /** Where its sysfs directory sits under `sys/devices`. */
  sysParent: string;
  sectorSize?: number;
  partitions: (GptPartitionSpec & { device: string; content?: Buffer })[];
}

export interface MapperSpec {
  /** `dm-0`. */
  name: string;
  dmName: string;
  dmUuid: string;
  slaves: string[];
  content?: Buffer;
}

/** A machine's tree below `dir`: sysfs, device files, `dev/mapper` and `dev/disk/by-partuuid` links. */
export class BootHost {
  constructor(readonly dir: string) {
    fs.mkdirSync(path.join(dir, "sys", "class", "block"), { recursive: true });
    fs.mkdirSync(path.join(dir, "dev", "disk", "by-partuuid"), { recursive: true });
    fs.mkdirSync(path.join(dir, "proc", "self"), { recursive: true });
    fs.writeFileSync(path.join(dir, "proc", "self", "mounts"), "");
  }

  dev(name: string): string {
    return path.join(this.dir, "dev", name);
  }

  private sysDevice(relative: string, name: string): string {
    const sysDir = path.join(this.dir, "sys", "devices", relative);
    fs.mkdirSync(sysDir, { recursive: true });
    fs.symlinkSync(path.relative(path.join(this.dir, "sys", "class", "block"), sysDir), path.join(this.dir, "sys", "class", "block", name));
    return sysDir;
  }

  addDisk(disk: DiskSpec): this {
    const diskDir = this.sysDevice(path.join(disk.sysParent, disk.name), disk.name);
    fs.mkdirSync(path.join(diskDir, "queue"), { recursive: true });
    fs.writeFileSync(path.join(diskDir, "queue", "logical_block_size"), `${disk.sectorSize ?? 512}\n`);
    fs.writeFileSync(this.dev(disk.name), gptDiskBytes(disk.partitions, { sectorSize: disk.sectorSize }));
    for (const p of disk.partitions) {
      const partDir = this.sysDevice(path.join(disk.sysParent, disk.name, p.device), p.device);
      fs.writeFileSync(path.join(partDir, "partition"), `${p.number}\n`);
      fs.writeFileSync(this.dev(p.device), p.content ?? Buffer.alloc(0));
      fs.symlinkSync(`../../${p.device}`, path.join(this.dir, "dev", "disk", "by-partuuid", p.guid));
    }
    return this;
  }

  addMapper(mapper: MapperSpec): this {
    const dir = this.sysDevice(path.join("virtual", "block", mapper.name), mapper.name);
    fs.mkdirSync(path.join(dir, "dm"), { recursive: true });
    fs.writeFileSync(path.join(dir, "dm", "name"), `${mapper.dmName}\n`);
    fs.writeFileSync(path.join(dir, "dm", "uuid"), `${mapper.dmUuid}\n`);
    fs.mkdirSync(path.join(dir, "slaves"), { recursive: true });
    for (const slave of mapper.slaves) {
      const target = fs.realpathSync(path.join(this.dir, "sys", "class", "block", slave));
      fs.symlinkSync(path.relative(path.join(dir, "slaves"), target), path.join(dir, "slaves", slave));
    }
    fs.writeFileSync(this.dev(mapper.name), mapper.content ?? Buffer.alloc(0));
    fs.mkdirSync(path.join(this.dir, "dev", "mapper"), { recursive: true });
    fs.symlinkSync(`../${mapper.name}`, path.join(this.dir, "dev", "mapper", mapper.dmName));
    return this;
  }

  /** A line of the mount table: `device` is a node below this host's `dev`. */
  mount(device: string, mountPoint: string, fsType: string, options = "rw,relatime"): this {
    const line = `${device.startsWith("/") ? device : this.dev(device)} ${mountPoint.replace(/ /g, "\\040")} ${fsType} ${options} 0 0\n`;
    fs.appendFileSync(path.join(this.dir, "proc", "self", "mounts"), line);
    return this;
  }

  /** A UEFI machine (`sys/firmware/efi`), optionally booted by systemd-boot from a partition. */
  uefi(loader?: { info: string; partUuid: string }): this {
    const vars = path.join(this.dir, "sys", "firmware", "efi", "efivars");
    fs.mkdirSync(vars, { recursive: true });
    if (loader) {
      fs.writeFileSync(path.join(vars, `LoaderInfo-${LOADER_GUID}`), encodeEfiString(loader.info, 6));
      fs.writeFileSync(path.join(vars, `LoaderDevicePartUUID-${LOADER_GUID}`), encodeEfiString(loader.partUuid.toUpperCase(), 6));
    }
    return this;
  }
}
