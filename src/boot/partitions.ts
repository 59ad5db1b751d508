/**
 * Finding the ESP and XBOOTLDR (boot-management §1.7, §1.8 "Ours"): the partition systemd-boot
 * says it was started from (native mode, and only when it is on a disk the root lives on: in a
 * chroot the EFI variables describe the host's boot), else the ESP type GUID on the disks under
 * the root's whole backing chain, else the only ESP of the machine. XBOOTLDR is looked for on the
 * ESP's disk. A GPT entry maps to its device through sysfs partition numbers, so nothing depends
 * on udev's by-partuuid links.
 */
import path from "node:path";
import type { BlockDevice, BlockDevices } from "./block-devices.ts";
import { readEfiString } from "./efivars.ts";
import { ESP_TYPE_GUID, readGpt, XBOOTLDR_TYPE_GUID, type GptPartition } from "./gpt.ts";
import { canonical } from "./mounts.ts";
import type { RootDevice } from "./root-device.ts";

export interface FoundPartition {
  device: BlockDevice;
  partUuid: string;
  /** How it was found, for `boot status` and the debug log. */
  via: "loader-variable" | "root-disk" | "only-esp";
}

/** The disks holding the root's physical partitions (through LUKS, LVM and md layers). */
export function rootDisks(root: RootDevice | undefined, devices: BlockDevices): BlockDevice[] {
  if (!root) return [];
  const disks = new Map<string, BlockDevice>();
  for (const device of [root.device, ...root.chain.map((c) => c.device)]) {
    const disk = devices.parentDisk(device);
    if (disk) disks.set(disk.name, disk);
  }
  return [...disks.values()];
}

/** The GPT partitions of `disk` that have a device, by number, each with it. */
function partitionsWithDevices(disk: BlockDevice, devices: BlockDevices): { partition: GptPartition; device: BlockDevice }[] {
  const gpt = readGpt(disk.node, devices.logicalBlockSize(disk));
  if (!gpt) return [];
  const byNumber = new Map(devices.partitions(disk).map((device) => [devices.partitionNumber(device)!, device]));
  return gpt.partitions.flatMap((partition) => {
    const device = byNumber.get(partition.number);
    return device ? [{ partition, device }] : [];
  });
}

/** The partitions of `disk` of a GPT type, by number, each with its device. */
function typedPartitions(disk: BlockDevice, devices: BlockDevices, typeGuid: string): { partition: GptPartition; device: BlockDevice }[] {
  return partitionsWithDevices(disk, devices).filter((p) => p.partition.typeGuid === typeGuid);
}

/** The partition with this GPT unique GUID on one of `disks`. */
function partitionWithGuid(disks: BlockDevice[], devices: BlockDevices, guid: string): FoundPartition | undefined {
  for (const disk of disks) {
    const found = partitionsWithDevices(disk, devices).find((p) => p.partition.uniqueGuid === guid);
    if (found) return { device: found.device, partUuid: guid, via: "loader-variable" };
  }
  return undefined;
}

export interface EspSearch {
  devices: BlockDevices;
  root: RootDevice | undefined;
  /** Native mode on UEFI: the loader's variables describe this machine's boot. */
  trustLoaderVariables: boolean;
}

export function findEsp({ devices, root, trustLoaderVariables }: EspSearch): FoundPartition | undefined {
  const disks = rootDisks(root, devices);
  if (trustLoaderVariables && readEfiString(devices.paths.efivars, "LoaderInfo") !== undefined) {
    const guid = readEfiString(devices.paths.efivars, "LoaderDevicePartUUID")?.toLowerCase();
    if (guid) {
      const onRootDisk = partitionWithGuid(disks, devices, guid);
      if (onRootDisk) return onRootDisk;
      // Not on the root's disks (a chroot into another machine's root): only udev's link could say, and it names the host's ESP.
      const linked = canonical(path.join(devices.paths.dev, "disk", "by-partuuid", guid));
      const device = linked ? devices.fromNode(linked) : undefined;
      const disk = device ? devices.parentDisk(device) : undefined;
      if (device && disk && disks.some((d) => d.name === disk.name)) return { device, partUuid: guid, via: "loader-variable" };
    }
  }
  for (const disk of disks) {
    const [first] = typedPartitions(disk, devices, ESP_TYPE_GUID);
    if (first) return { device: first.device, partUuid: first.partition.uniqueGuid, via: "root-disk" };
  }
  const everywhere = devices.disks().flatMap((disk) => typedPartitions(disk, devices, ESP_TYPE_GUID));
  if (everywhere.length === 1) return { device: everywhere[0]!.device, partUuid: everywhere[0]!.partition.uniqueGuid, via: "only-esp" };
  return undefined;
}

/** XBOOTLDR: the first partition of its type on the ESP's disk. */
export function findXbootldr(esp: FoundPartition, devices: BlockDevices): FoundPartition | undefined {
  const disk = devices.parentDisk(esp.device);
  if (!disk) return undefined;
  const [first] = typedPartitions(disk, devices, XBOOTLDR_TYPE_GUID);
  return first ? { device: first.device, partUuid: first.partition.uniqueGuid, via: esp.via } : undefined;
}
