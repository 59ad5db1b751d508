/**
 * Block devices as sysfs describes them (boot-management §1.5): every question is answered from
 * `<sys>/class/block/<name>` and the device's bytes from `<dev>/<name>`, both below the host
 * root, so fixture trees stand in for real hardware.
 */
import fs from "node:fs";
import path from "node:path";
import type { HostPaths } from "./host-paths.ts";
import { canonical } from "./mounts.ts";
import { listNames, readTextIfAny } from "./tolerant-fs.ts";

export interface BlockDevice {
  /** The kernel's name: `nvme0n1p2`, `dm-1`, `sda`. */
  name: string;
  /** Its node below the host's `dev`: what is read for superblocks and partition tables. */
  node: string;
}

export class BlockDevices {
  constructor(readonly paths: HostPaths) {}

  /** The device a node path (or a symlink to one, such as `/dev/mapper/root`) stands for. */
  fromNode(node: string): BlockDevice | undefined {
    const real = canonical(node) ?? node;
    const name = path.basename(real);
    return this.exists(name) ? { name, node: real } : undefined;
  }

  byName(name: string): BlockDevice | undefined {
    return this.exists(name) ? { name, node: path.join(this.paths.dev, name) } : undefined;
  }

  /** `/dev/<name>` as the machine names it (for `root=` and messages), whatever the host root is. */
  hostNode(device: BlockDevice): string {
    return `/dev/${device.name}`;
  }

  private classDir(name: string): string {
    return path.join(this.paths.sys, "class", "block", name);
  }

  private exists(name: string): boolean {
    return fs.existsSync(this.classDir(name));
  }

  /** The device's own sysfs directory (the class entry is a symlink into `devices/…`). */
  private sysDir(name: string): string | undefined {
    return canonical(this.classDir(name));
  }

  /** The partition number, for a partition. */
  partitionNumber(device: BlockDevice): number | undefined {
    const dir = this.sysDir(device.name);
    if (!dir) return undefined;
    const text = readTextIfAny(path.join(dir, "partition"))?.trim();
    const number = text === undefined ? Number.NaN : Number.parseInt(text, 10);
    return Number.isInteger(number) && number > 0 ? number : undefined;
  }

  /** The whole disk a partition is on; undefined for whole disks, dm and md devices. */
  parentDisk(device: BlockDevice): BlockDevice | undefined {
    const dir = this.sysDir(device.name);
    if (!dir || this.partitionNumber(device) === undefined) return undefined;
    // A partition's sysfs directory sits inside its disk's; an NVMe disk's parent is a controller, not a block device.
    return this.byName(path.basename(path.dirname(dir)));
  }

  /** The partitions of a disk, by number. */
  partitions(disk: BlockDevice): BlockDevice[] {
    const dir = this.sysDir(disk.name);
    if (!dir) return [];
    const found: { device: BlockDevice; number: number }[] = [];
    for (const entry of listNames(dir)) {
      const device = this.byName(entry);
      const number = device ? this.partitionNumber(device) : undefined;
      if (device && number !== undefined) found.push({ device, number });
    }
    return found.sort((a, b) => a.number - b.number).map((f) => f.device);
  }

  /** Every whole disk of the machine (a device that is not a partition). */
  disks(): BlockDevice[] {
    return listNames(path.join(this.paths.sys, "class", "block"))
      .flatMap((name) => this.byName(name) ?? [])
      .filter((device) => this.partitionNumber(device) === undefined);
  }

  /** The devices this one is built on (`slaves/`), e.g. an LV's PV or a LUKS mapping's partition. */
  slaves(device: BlockDevice): BlockDevice[] {
    const dir = this.sysDir(device.name);
    if (!dir) return [];
    return listNames(path.join(dir, "slaves")).flatMap((name) => this.byName(name) ?? []);
  }

  /** Every device below this one, depth first (LV → LUKS mapping → partition). */
  backingChain(device: BlockDevice, seen = new Set<string>()): BlockDevice[] {
    const chain: BlockDevice[] = [];
    for (const slave of this.slaves(device)) {
      if (seen.has(slave.name)) continue;
      seen.add(slave.name);
      chain.push(slave, ...this.backingChain(slave, seen));
    }
    return chain;
  }

  /** device-mapper name and uuid (`vg-lv`, `LVM-…`; `CRYPT-LUKS2-…`), for a dm device. */
  deviceMapper(device: BlockDevice): { name: string; uuid: string } | undefined {
    const dir = this.sysDir(device.name);
    if (!dir) return undefined;
    const name = readTextIfAny(path.join(dir, "dm", "name"))?.trim();
    if (name === undefined) return undefined;
    return { name, uuid: readTextIfAny(path.join(dir, "dm", "uuid"))?.trim() ?? "" };
  }

  /** The disk's logical block size, as its partition table is laid out in. */
  logicalBlockSize(disk: BlockDevice): number | undefined {
    const dir = this.sysDir(disk.name);
    const text = dir ? readTextIfAny(path.join(dir, "queue", "logical_block_size"))?.trim() : undefined;
    const size = text === undefined ? Number.NaN : Number.parseInt(text, 10);
    return Number.isInteger(size) && size >= 512 ? size : undefined;
  }
}
