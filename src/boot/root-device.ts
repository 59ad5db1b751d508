/**
 * The device a root lives on and the kernel command line that finds it again at boot
 * (boot-management §1.4, §3.1 "Ours"): `rd.luks.uuid=` for every LUKS layer (outermost first),
 * `rd.lvm.lv=` for a logical volume, `root=` (the partition's PARTUUID when the root is directly
 * on a GPT partition, else the filesystem's UUID), `rootflags=subvol=` for a btrfs subvolume,
 * then `rw`.
 */
import fs from "node:fs";
import path from "node:path";
import { BlockDevices, type BlockDevice } from "./block-devices.ts";
import { readGpt } from "./gpt.ts";
import type { MountTable } from "./mounts.ts";
import { probeDevice, type Superblock } from "./superblock.ts";

export interface RootDevice {
  device: BlockDevice;
  superblock: Superblock;
  /** LUKS mappings, LVM volumes and partitions under it, top down. */
  chain: { device: BlockDevice; superblock: Superblock }[];
  /** The root's GPT partition GUID, when it sits directly on a GPT partition. */
  partUuid?: string;
  /** The btrfs subvolume it is mounted from, when not the top level. */
  subvolume?: string;
  /** `vg/lv`, when it is a logical volume. */
  logicalVolume?: string;
}

/** st_dev as major:minor (glibc's gnu_dev_major/minor encoding). */
function majorMinor(dev: bigint): string {
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  return `${major}:${minor}`;
}

/**
 * The block device holding `root`: through `<dev>/block/<major:minor>` of its st_dev, else (a
 * btrfs subvolume, a fixture without `dev/block`) through the mount table entry for it.
 */
export function findRootDevice(root: string, devices: BlockDevices, mounts: MountTable): RootDevice | undefined {
  const realRoot = fs.realpathSync(root);
  let device: BlockDevice | undefined;
  const st = fs.statSync(realRoot, { bigint: true });
  const byNumber = path.join(devices.paths.dev, "block", majorMinor(st.dev));
  if (fs.existsSync(byNumber)) device = devices.fromNode(byNumber);
  const mount = mounts.at(realRoot);
  if (!device && mount?.device.startsWith("/")) device = devices.fromNode(mount.device);
  if (!device) return undefined;

  const superblock = probeDevice(device.node);
  const chain = devices.backingChain(device).map((d) => ({ device: d, superblock: probeDevice(d.node) }));
  const result: RootDevice = { device, superblock, chain };
  const disk = devices.parentDisk(device);
  const number = devices.partitionNumber(device);
  if (disk && number !== undefined) {
    const partition = readGpt(disk.node, devices.logicalBlockSize(disk))?.partitions.find((p) => p.number === number);
    if (partition) result.partUuid = partition.uniqueGuid;
  }
  const subvol = mount?.options.get("subvol");
  if (superblock.kind === "btrfs" && typeof subvol === "string" && subvol !== "/" && subvol !== "") result.subvolume = subvol;
  const mapper = devices.deviceMapper(device);
  if (mapper?.uuid.startsWith("LVM-")) result.logicalVolume = lvmVolumeName(mapper.name);
  return result;
}

/** `vg-lv` as device-mapper names it (a `-` inside a name doubled) → `vg/lv`. */
export function lvmVolumeName(dmName: string): string | undefined {
  const match = /^((?:[^-]|--)+)-((?:[^-]|--)+)$/.exec(dmName);
  if (!match) return undefined;
  return `${match[1]!.replace(/--/g, "-")}/${match[2]!.replace(/--/g, "-")}`;
}

/** The command-line words that find this root at boot, ending in `rw`. */
export function rootDescriptor(root: RootDevice, devices: BlockDevices): string[] {
  const words: string[] = [];
  // The chain runs from the root down to the disk: the outermost layer is the one nearest the disk.
  for (const { superblock } of [...root.chain].reverse()) {
    if (superblock.kind === "luks" && superblock.uuid) words.push(`rd.luks.uuid=${superblock.uuid}`);
  }
  if (root.logicalVolume) words.push(`rd.lvm.lv=${root.logicalVolume}`);
  if (root.partUuid && root.superblock.kind !== "btrfs") words.push(`root=PARTUUID=${root.partUuid}`);
  else if (root.superblock.uuid && root.superblock.kind !== "unknown") words.push(`root=UUID=${root.superblock.uuid}`);
  else words.push(`root=${devices.hostNode(root.device)}`);
  if (root.subvolume) words.push(`rootflags=subvol=${root.subvolume}`);
  words.push("rw");
  return words;
}
