/**
 * Discovery on fixture machines (boot-management §1, §3.1): for each layout the ESP, XBOOTLDR and
 * the root descriptor come out of the same sysfs walks, GPT tables and superblocks a real
 * machine would give.
 */
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { BOOT_MODE_ENV, discoverBoot } from "../../src/boot/discovery.ts";
import { BootError } from "../../src/boot/errors.ts";
import { hostPaths } from "../../src/boot/host-paths.ts";
import { BootHost, ESP_TYPE, LINUX_FS_TYPE, superblocks, XBOOTLDR_TYPE } from "../helpers/boot-host.ts";
import { thrownBy } from "../helpers/errors.ts";

const work = fs.mkdtempSync(path.join(os.tmpdir(), "moss-boot-discovery-"));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));
afterEach(() => {
  delete process.env[BOOT_MODE_ENV];
});
let serial = 0;

const ESP_GUID = "0698393a-b99a-4919-9770-64f56d1c0177";
const XBOOT_GUID = "5d3a4c1e-8b2f-4e6a-9c7d-1f2e3d4c5b6a";
const ROOT_GUID = "6ca59a0c-e8c9-4ec4-b331-351d120fbb32";
const EXT4_UUID = "c2d9a1b0-7e55-4b8f-a3f3-0d9c8e6b1a22";
const BTRFS_UUID = "2a78a4da-f110-4441-8839-dbd97ab87cda";
const LUKS_UUID = "b6b31f26-39f4-48f7-bed5-6faaff96cca4";
const XFS_UUID = "0b7f1c32-91de-4c0a-8f0e-5a9b3c2d1e0f";

/** A root directory, its ESP directory and a fixture host, fresh for each test. */
function machine() {
  const dir = path.join(work, `m${serial++}`);
  const root = path.join(dir, "root");
  const esp = path.join(root, "efi");
  fs.mkdirSync(esp, { recursive: true });
  return { root, esp, host: new BootHost(path.join(dir, "host")) };
}

const NVME = "pci0000:00/0000:00:1d.0/0000:3d:00.0/nvme/nvme0";

describe("discovery on fixture machines", () => {
  test("plain GPT ext4 root on NVMe: the ESP beside it on the root's disk, root=PARTUUID", () => {
    const { root, esp, host } = machine();
    host.uefi().addDisk({
      name: "nvme0n1", sysParent: NVME, partitions: [
        { number: 1, type: ESP_TYPE, guid: ESP_GUID, firstLba: 2048, lastLba: 4095, device: "nvme0n1p1", content: superblocks.fat32(0x1234abcd) },
        { number: 2, type: LINUX_FS_TYPE, guid: ROOT_GUID, firstLba: 4096, lastLba: 8191, device: "nvme0n1p2", content: superblocks.ext4(EXT4_UUID) },
      ],
    }).mount("nvme0n1p2", root, "ext4").mount("nvme0n1p1", esp, "vfat");
    const env = discoverBoot({ root, host: hostPaths(host.dir) });
    expect(env.mode).toBe("image");
    expect(env.firmware).toBe("uefi");
    expect(env.rootWords).toEqual([`root=PARTUUID=${ROOT_GUID}`, "rw"]);
    expect(env.root?.superblock).toEqual({ kind: "ext4", uuid: EXT4_UUID });
    expect(env.esp).toEqual({ dir: esp, device: "/dev/nvme0n1p1", partUuid: ESP_GUID, via: "root-disk", mountedHere: false });
    expect(env.xbootldr).toBeUndefined();
  });

  test("native mode trusts systemd-boot's LoaderDevicePartUUID (upper-case in the variable) when it is on the root's disk", () => {
    const { root, esp, host } = machine();
    const second = "9f0e8d7c-6b5a-4948-8736-251403f2e1d0";
    host.uefi({ info: "systemd-boot 254", partUuid: second }).addDisk({
      name: "sda", sysParent: "pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0/block", partitions: [
        { number: 1, type: ESP_TYPE, guid: ESP_GUID, firstLba: 2048, lastLba: 4095, device: "sda1" },
        { number: 2, type: ESP_TYPE, guid: second, firstLba: 4096, lastLba: 6143, device: "sda2" },
        { number: 3, type: LINUX_FS_TYPE, guid: ROOT_GUID, firstLba: 6144, lastLba: 8191, device: "sda3", content: superblocks.ext4(EXT4_UUID) },
      ],
    }).mount("sda3", root, "ext4").mount("sda2", esp, "vfat").mount("sda1", path.join(root, "other-esp"), "vfat");
    process.env[BOOT_MODE_ENV] = "native";
    const env = discoverBoot({ root, host: hostPaths(host.dir) });
    expect(env.loaderInfo).toBe("systemd-boot 254");
    expect(env.esp).toMatchObject({ dir: esp, device: "/dev/sda2", via: "loader-variable" });
    // In image mode the variables describe another boot: the first ESP of the root's disk.
    process.env[BOOT_MODE_ENV] = "image";
    expect(discoverBoot({ root, host: hostPaths(host.dir) }).esp).toMatchObject({ device: "/dev/sda1", via: "root-disk" });
  });

  test("a chroot's loader variable naming a partition on another disk is not trusted: the root's own disk decides", () => {
    const { root, esp, host } = machine();
    const hostEsp = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
    host.uefi({ info: "systemd-boot 254", partUuid: hostEsp })
      .addDisk({ name: "sdb", sysParent: "platform/usb/block", partitions: [{ number: 1, type: ESP_TYPE, guid: hostEsp, firstLba: 2048, lastLba: 4095, device: "sdb1" }] })
      .addDisk({ name: "sda", sysParent: "platform/sata/block", partitions: [
        { number: 1, type: ESP_TYPE, guid: ESP_GUID, firstLba: 2048, lastLba: 4095, device: "sda1" },
        { number: 2, type: LINUX_FS_TYPE, guid: ROOT_GUID, firstLba: 4096, lastLba: 8191, device: "sda2", content: superblocks.ext4(EXT4_UUID) },
      ] })
      .mount("sda2", root, "ext4").mount("sda1", esp, "vfat").mount("sdb1", path.join(work, "host-esp"), "vfat");
    process.env[BOOT_MODE_ENV] = "native";
    expect(discoverBoot({ root, host: hostPaths(host.dir) }).esp).toMatchObject({ device: "/dev/sda1", via: "root-disk" });
  });

  test("XBOOTLDR beside the ESP: both found on the ESP's disk, each at its mount point", () => {
    const { root, esp, host } = machine();
    const boot = path.join(root, "boot");
    fs.mkdirSync(boot);
    host.uefi().addDisk({
      name: "vda", sysParent: "pci0000:00/0000:00:04.0/virtio1/block", partitions: [
        { number: 1, type: ESP_TYPE, guid: ESP_GUID, firstLba: 2048, lastLba: 4095, device: "vda1", content: superblocks.fat32(1) },
        { number: 2, type: XBOOTLDR_TYPE, guid: XBOOT_GUID, firstLba: 4096, lastLba: 6143, device: "vda2", content: superblocks.fat32(2) },
        { number: 3, type: LINUX_FS_TYPE, guid: ROOT_GUID, firstLba: 6144, lastLba: 8191, device: "vda3", content: superblocks.xfs(XFS_UUID) },
      ],
    }).mount("vda3", root, "xfs").mount("vda1", esp, "vfat").mount("vda2", boot, "vfat");
    const env = discoverBoot({ root, host: hostPaths(host.dir) });
    expect(env.esp).toMatchObject({ dir: esp, device: "/dev/vda1", partUuid: ESP_GUID });
    expect(env.xbootldr).toMatchObject({ dir: boot, device: "/dev/vda2", partUuid: XBOOT_GUID });
    expect(env.rootWords).toEqual([`root=PARTUUID=${ROOT_GUID}`, "rw"]);
  });

  test("btrfs on LVM on LUKS2: one rd.luks.uuid, the LV named, root=UUID of the filesystem, and the ESP through the backing chain", () => {
    const { root, esp, host } = machine();
    host.uefi().addDisk({
      name: "sda", sysParent: "pci0000:00/0000:00:14.0/usb2/2-1/2-1:1.0/host0/target0:0:0/0:0:0:0/block", partitions: [
        { number: 1, type: ESP_TYPE, guid: ESP_GUID, firstLba: 2048, lastLba: 4095, device: "sda1", content: superblocks.fat32(3) },
        { number: 2, type: LINUX_FS_TYPE, guid: ROOT_GUID, firstLba: 4096, lastLba: 8191, device: "sda2", content: superblocks.luks2(LUKS_UUID) },
      ],
    })
      .addMapper({ name: "dm-0", dmName: `luks-${LUKS_UUID}`, dmUuid: `CRYPT-LUKS2-${LUKS_UUID.replace(/-/g, "")}-luks-${LUKS_UUID}`, slaves: ["sda2"], content: superblocks.lvm2("Q1w2E3r4T5y6U7i8O9p0A1s2D3f4G5h6") })
      .addMapper({ name: "dm-1", dmName: "Bogus--Install-root", dmUuid: "LVM-abcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdefabcd", slaves: ["dm-0"], content: superblocks.btrfs(BTRFS_UUID) })
      .mount(path.join(host.dir, "dev", "mapper", "Bogus--Install-root"), root, "btrfs", "rw,relatime,space_cache=v2,subvolid=5,subvol=/")
      .mount("sda1", esp, "vfat");
    const env = discoverBoot({ root, host: hostPaths(host.dir) });
    expect(env.rootWords).toEqual([`rd.luks.uuid=${LUKS_UUID}`, "rd.lvm.lv=Bogus-Install/root", `root=UUID=${BTRFS_UUID}`, "rw"]);
    expect(env.root?.chain.map((c) => [c.device.name, c.superblock.kind])).toEqual([["dm-0", "lvm2"], ["sda2", "luks"]]);
    expect(env.esp).toMatchObject({ dir: esp, device: "/dev/sda1", via: "root-disk" });
  });

  test("a btrfs subvolume root directly on a partition keeps its subvolume: rootflags=subvol= (Rust loses it, and misspells it rootfsflags)", () => {
    const { root, esp, host } = machine();
    host.uefi().addDisk({
      name: "nvme0n1", sysParent: NVME, partitions: [
        { number: 1, type: ESP_TYPE, guid: ESP_GUID, firstLba: 2048, lastLba: 4095, device: "nvme0n1p1" },
        { number: 2, type: LINUX_FS_TYPE, guid: ROOT_GUID, firstLba: 4096, lastLba: 8191, device: "nvme0n1p2", content: superblocks.btrfs(BTRFS_UUID) },
      ],
    }).mount("nvme0n1p2", root, "btrfs", "rw,relatime,ssd,subvolid=256,subvol=/@").mount("nvme0n1p1", esp, "vfat");
    expect(discoverBoot({ root, host: hostPaths(host.dir) }).rootWords).toEqual([`root=UUID=${BTRFS_UUID}`, "rootflags=subvol=/@", "rw"]);
  });

  test("BIOS (no sys/firmware/efi, no ESP on the disk): no ESP, and nothing is an error", () => {
    const { root, host } = machine();
    host.addDisk({
      name: "sda", sysParent: "platform/sata/block", partitions: [
        { number: 1, type: LINUX_FS_TYPE, guid: ROOT_GUID, firstLba: 2048, lastLba: 8191, device: "sda1", content: superblocks.ext4(EXT4_UUID) },
      ],
    }).mount("sda1", root, "ext4");
    const env = discoverBoot({ root, host: hostPaths(host.dir) });
    expect(env.firmware).toBe("bios");
    expect(env.esp).toBeUndefined();
    expect(env.rootWords).toEqual([`root=PARTUUID=${ROOT_GUID}`, "rw"]);
  });

  test("a 4Kn disk's partition table is read in 4096-byte sectors", () => {
    const { root, esp, host } = machine();
    host.uefi().addDisk({
      name: "sda", sysParent: "platform/sata/block", sectorSize: 4096, partitions: [
        { number: 1, type: ESP_TYPE, guid: ESP_GUID, firstLba: 256, lastLba: 511, device: "sda1" },
        { number: 2, type: LINUX_FS_TYPE, guid: ROOT_GUID, firstLba: 512, lastLba: 1023, device: "sda2", content: superblocks.ext4(EXT4_UUID) },
      ],
    }).mount("sda2", root, "ext4").mount("sda1", esp, "vfat");
    const env = discoverBoot({ root, host: hostPaths(host.dir) });
    expect(env.esp?.partUuid).toBe(ESP_GUID);
    expect(env.rootWords[0]).toBe(`root=PARTUUID=${ROOT_GUID}`);
  });

  test("a mount point with a space is found (the kernel writes it as \\040)", () => {
    const { host } = machine();
    const root = path.join(work, `with space ${serial++}`);
    const esp = path.join(root, "efi");
    fs.mkdirSync(esp, { recursive: true });
    host.uefi().addDisk({
      name: "sda", sysParent: "platform/sata/block", partitions: [
        { number: 1, type: ESP_TYPE, guid: ESP_GUID, firstLba: 2048, lastLba: 4095, device: "sda1" },
        { number: 2, type: LINUX_FS_TYPE, guid: ROOT_GUID, firstLba: 4096, lastLba: 8191, device: "sda2", content: superblocks.ext4(EXT4_UUID) },
      ],
    }).mount("sda2", root, "ext4").mount("sda1", esp, "vfat");
    expect(discoverBoot({ root, host: hostPaths(host.dir) }).esp?.dir).toBe(esp);
  });

  test("image mode refuses an ESP that is not mounted, naming it; --esp declares the directory instead", () => {
    const { root, host } = machine();
    host.uefi().addDisk({
      name: "sda", sysParent: "platform/sata/block", partitions: [
        { number: 1, type: ESP_TYPE, guid: ESP_GUID, firstLba: 2048, lastLba: 4095, device: "sda1" },
        { number: 2, type: LINUX_FS_TYPE, guid: ROOT_GUID, firstLba: 4096, lastLba: 8191, device: "sda2", content: superblocks.ext4(EXT4_UUID) },
      ],
    }).mount("sda2", root, "ext4");
    const error = thrownBy(BootError, () => discoverBoot({ root, host: hostPaths(host.dir) }));
    expect(error.message).toBe("the ESP of this root is /dev/sda1, and it is not mounted: mount it (or give --esp DIR) and run `moss boot sync`");
    const declared = path.join(work, `declared-${serial++}`);
    fs.mkdirSync(declared);
    const env = discoverBoot({ root, esp: declared, host: hostPaths(host.dir) });
    expect(env.esp).toEqual({ dir: declared, via: "override", mountedHere: false });
    expect(env.rootWords).toEqual([`root=PARTUUID=${ROOT_GUID}`, "rw"]);
  });

  test("without a partition table that names it, a FAT filesystem mounted at <root>/boot/efi is the ESP", () => {
    const { root, host } = machine();
    const esp = path.join(root, "boot", "efi");
    fs.mkdirSync(esp, { recursive: true });
    host.uefi().addMapper({ name: "md0", dmName: "raid", dmUuid: "mdraid", slaves: [], content: superblocks.ext4(EXT4_UUID) })
      .mount("md0", root, "ext4").mount(path.join(host.dir, "dev", "usbstick"), esp, "vfat");
    const env = discoverBoot({ root, host: hostPaths(host.dir) });
    expect(env.esp).toMatchObject({ dir: esp, via: "mount-table", mountedHere: false });
    expect(env.rootWords).toEqual([`root=UUID=${EXT4_UUID}`, "rw"]);
  });

  test("a root whose device cannot be found (an overlay, a plain directory) gets no root= at all, only rw", () => {
    const { root, esp, host } = machine();
    host.uefi();
    expect(discoverBoot({ root, esp, host: hostPaths(host.dir) }).rootWords).toEqual(["rw"]);
  });
});
