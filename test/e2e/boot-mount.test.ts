/**
 * Native mode mounts what nobody mounted (boot-management §1.9, os-tools #284): the real binary
 * finds an XBOOTLDR through a fixture machine whose partition node is a real block device (a loop
 * device over an ext4 image), mounts it at `<root>/boot` with its probed type, writes the kernels
 * and entries into it, and unmounts it again.
 */
import { afterAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { bootPackages } from "../helpers/boot-root.ts";
import { BootHost, ESP_TYPE, LINUX_FS_TYPE, superblocks, XBOOTLDR_TYPE } from "../helpers/boot-host.ts";
import { moss, tempDir } from "../helpers/moss.ts";

const work = tempDir("moss-boot-mount-");
const cleanups: (() => void)[] = [];
afterAll(() => {
  for (const cleanup of cleanups.reverse()) cleanup();
  fs.rmSync(work, { recursive: true, force: true });
});

function run(argv: string[]): string {
  const result = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`${argv.join(" ")}: exit ${result.status}\n${result.stderr}`);
  return result.stdout;
}

test("an unmounted XBOOTLDR is mounted at <root>/boot for the sync, receives the kernels and entries, and is unmounted after", async () => {
  const image = path.join(work, "xbootldr.img");
  run(["truncate", "-s", "32M", image]);
  run(["mkfs.ext4", "-q", "-F", image]);
  const loop = run(["losetup", "-f", "--show", image]).trim();
  cleanups.push(() => spawnSync("losetup", ["-d", loop]));

  const root = path.join(work, "root");
  const esp = path.join(root, "efi");
  fs.mkdirSync(esp, { recursive: true });
  const host = new BootHost(path.join(work, "host")).uefi();
  host.addDisk({
    name: "vda", sysParent: "pci0000:00/0000:00:04.0/virtio1/block", partitions: [
      { number: 1, type: ESP_TYPE, guid: "0698393a-b99a-4919-9770-64f56d1c0177", firstLba: 2048, lastLba: 4095, device: "vda1", content: superblocks.fat32(7) },
      { number: 2, type: XBOOTLDR_TYPE, guid: "5d3a4c1e-8b2f-4e6a-9c7d-1f2e3d4c5b6a", firstLba: 4096, lastLba: 6143, device: "vda2" },
      { number: 3, type: LINUX_FS_TYPE, guid: "6ca59a0c-e8c9-4ec4-b331-351d120fbb32", firstLba: 6144, lastLba: 8191, device: "vda3", content: superblocks.ext4("c2d9a1b0-7e55-4b8f-a3f3-0d9c8e6b1a22") },
    ],
  }).mount("vda3", root, "ext4").mount("vda1", esp, "vfat");
  // The XBOOTLDR's node is the loop device itself: what moss mounts is real.
  const [major, minor] = run(["stat", "-c", "%t %T", loop]).trim().split(" ").map((hex) => Number.parseInt(hex, 16));
  fs.rmSync(host.dev("vda2"));
  run(["mknod", host.dev("vda2"), "b", String(major), String(minor)]);

  const pkgs = await bootPackages(path.join(work, "packages"));
  fs.mkdirSync(path.join(work, "packages"), { recursive: true });
  const files = [await pkgs.os(), await pkgs.systemdBoot("257.1"), await pkgs.kernel({ name: "linux-desktop", version: "6.1.10", kver: "6.1.10-1.desktop" })];
  const env = { MOSS_BOOT_HOST: host.dir, MOSS_BOOT_MODE: "native" };
  const installed = moss(["-D", root, "-y", "install", ...files], { env });
  expect(installed.status).toBe(0);
  expect(installed.stderr).not.toContain("Warning");

  // Unmounted again, and nothing was written into the directory it was mounted on.
  expect(fs.readFileSync("/proc/self/mounts", "utf8")).not.toContain(path.join(root, "boot"));
  expect(fs.readdirSync(path.join(root, "boot"))).toEqual([]);
  // The ESP holds the loader and loader.conf; the XBOOTLDR the kernel and the entry.
  expect(fs.existsSync(path.join(esp, "EFI", "systemd", "systemd-bootx64.efi"))).toBe(true);
  expect(fs.readFileSync(path.join(esp, "loader", "loader.conf"), "utf8")).toBe("default aerynos-*\n");
  expect(fs.existsSync(path.join(esp, "loader", "entries"))).toBe(false);
  const listing = (dir: string) => run(["debugfs", "-R", `ls -p ${dir}`, image]).split("\n").map((line) => line.split("/")[5]).filter((name) => name && name !== "." && name !== "..");
  expect(listing("/loader/entries")).toEqual(["aerynos-6.1.10-1.desktop-1+3.conf"]);
  expect(listing("/EFI/aerynos/6.1.10-1.desktop").sort()).toEqual(["50-default.initrd", "vmlinuz"]);
  const entry = run(["debugfs", "-R", "cat /loader/entries/aerynos-6.1.10-1.desktop-1+3.conf", image]);
  expect(entry).toContain("options root=PARTUUID=6ca59a0c-e8c9-4ec4-b331-351d120fbb32 rw moss.fstx=1\n");

  // boot status (native) reports both partitions, mounting and unmounting the XBOOTLDR again.
  const status = moss(["-D", root, "boot", "status", "--json"], { env });
  expect(status.status).toBe(0);
  const report = JSON.parse(status.stdout);
  expect(report.esp).toMatchObject({ dir: esp, device: "/dev/vda1", via: "root-disk", mountedHere: false });
  expect(report.xbootldr).toMatchObject({ dir: path.join(root, "boot"), device: "/dev/vda2", mountedHere: true });
  expect(report.entries.map((e: { stateId: number }) => e.stateId)).toEqual([1]);
  expect(fs.readFileSync("/proc/self/mounts", "utf8")).not.toContain(path.join(root, "boot"));

  // moss boot sync prints the status from the discovery it synced with: one mount, not two
  // (ext4 counts its mounts in the superblock).
  const mounts = () => Number(/Mount count:\s+(\d+)/.exec(run(["dumpe2fs", "-h", image]))![1]);
  const before = mounts();
  const synced = moss(["-D", root, "boot", "sync"], { env });
  expect(synced.status).toBe(0);
  expect(synced.stdout).toContain(`XBOOTLDR       : ${path.join(root, "boot")}\n`);
  expect(mounts()).toBe(before + 1);
  expect(fs.readFileSync("/proc/self/mounts", "utf8")).not.toContain(path.join(root, "boot"));
});
