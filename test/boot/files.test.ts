/** The text formats of boot management: entry names, loader.conf, command-line snippets, os identity, EFI strings, GPT and superblocks. */
import { afterAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { entryOptions, parseSnippet, readAdminSnippets, readVendorSnippets } from "../../src/boot/cmdline.ts";
import { decodeUtf16, encodeEfiString } from "../../src/boot/efivars.ts";
import { entryFileName, isOwnedEntry, parseEntryFileName } from "../../src/boot/entries.ts";
import { readGpt } from "../../src/boot/gpt.ts";
import { parseOsRelease, readIdentity } from "../../src/boot/identity.ts";
import { findKernels, resolveInTree } from "../../src/boot/kernels.ts";
import { defaultOf, withDefault } from "../../src/boot/loader-conf.ts";
import { decodeMountField, parseMounts } from "../../src/boot/mounts.ts";
import { probeSuperblock } from "../../src/boot/superblock.ts";
import { ESP_TYPE, gptDiskBytes, superblocks } from "../helpers/boot-host.ts";

const work = fs.mkdtempSync(path.join(os.tmpdir(), "moss-boot-files-"));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe("entry file names", () => {
  test("the id, the boot counter and which names are moss's", () => {
    expect(parseEntryFileName("aerynos-6.1-7+2-1.conf")).toEqual({ id: "aerynos-6.1-7", counter: { left: 2, done: 1 } });
    expect(parseEntryFileName("aerynos-6.1-7+3.conf")).toEqual({ id: "aerynos-6.1-7", counter: { left: 3, done: 0 } });
    expect(parseEntryFileName("aerynos-6.1-7.conf")).toEqual({ id: "aerynos-6.1-7" });
    expect(parseEntryFileName("notes.txt")).toBeUndefined();
    expect(entryFileName("a-1-2", { left: 0, done: 3 })).toBe("a-1-2+0-3.conf");
    expect(entryFileName("a-1-2", { left: 3, done: 0 })).toBe("a-1-2+3.conf");
    const owned = ["aerynos", "serpentos"];
    expect(isOwnedEntry("aerynos-6.18.13-130.desktop-57.conf", owned)).toBe(true);
    expect(isOwnedEntry("aerynos-6.18.13-130.desktop+0-3.conf", owned)).toBe(true);
    expect(isOwnedEntry("serpentos-6.0-1.conf", owned)).toBe(true);
    expect(isOwnedEntry("aerynos-custom.conf", owned)).toBe(false);
    expect(isOwnedEntry("aerynosfoo-6.1.conf", owned)).toBe(false);
    expect(isOwnedEntry("fedora-6.1.conf", owned)).toBe(false);
  });
});

describe("loader.conf", () => {
  test("only the default line changes; a duplicate default goes; a missing file gets one line", () => {
    expect(withDefault(undefined, "aerynos-*")).toBe("default aerynos-*\n");
    expect(withDefault("timeout 3\n#default x\ndefault old\neditor no\ndefault other\n", "aerynos-*")).toBe("timeout 3\n#default x\ndefault aerynos-*\neditor no\n");
    expect(withDefault("timeout 3", "a")).toBe("timeout 3\ndefault a\n");
    expect(defaultOf('timeout 1\ndefault "aerynos*"\n')).toBe("aerynos*");
  });
});

describe("kernel command line", () => {
  test("snippets lose comments and empty lines; vendor, kernel, admin, then the state, in that order; masks hide vendor snippets", () => {
    expect(parseSnippet("# comment\n  quiet  \n\nsplash # inline stays\n")).toBe("quiet splash # inline stays");
    const root = path.join(work, "cmdline");
    const vendor = path.join(root, "usr", "lib", "kernel", "cmdline.d");
    const admin = path.join(root, "etc", "kernel", "cmdline.d");
    fs.mkdirSync(vendor, { recursive: true });
    fs.mkdirSync(admin, { recursive: true });
    fs.writeFileSync(path.join(vendor, "10-b.cmdline"), "b=1");
    fs.writeFileSync(path.join(vendor, "00-quiet.cmdline"), "quiet");
    fs.writeFileSync(path.join(vendor, "20-masked.cmdline"), "nomodeset");
    fs.writeFileSync(path.join(vendor, "30-rel.cmdline"), "relmasked");
    fs.writeFileSync(path.join(vendor, "README"), "not a snippet");
    fs.writeFileSync(path.join(admin, "50-gpu.cmdline"), "amdgpu.dc=1");
    fs.writeFileSync(path.join(admin, "40-empty.cmdline"), "# nothing\n");
    fs.symlinkSync("/dev/null", path.join(admin, "20-masked.cmdline"));
    fs.symlinkSync("../../../dev/null", path.join(admin, "30-rel.cmdline"));
    const adminSnippets = readAdminSnippets(root);
    expect(adminSnippets).toEqual({ snippets: ["amdgpu.dc=1"], masks: new Set(["20-masked.cmdline", "30-rel.cmdline"]) });
    const vendorSnippets = readVendorSnippets(root, adminSnippets.masks);
    expect(vendorSnippets).toEqual(["quiet", "b=1"]);
    const kernelFile = path.join(work, "k.cmdline");
    fs.writeFileSync(kernelFile, "nvidia-drm.modeset=1");
    expect(entryOptions({ rootWords: ["root=PARTUUID=x", "rw"], vendor: vendorSnippets, kernelFiles: [kernelFile], admin: adminSnippets.snippets, stateId: 57 }))
      .toBe("root=PARTUUID=x rw quiet b=1 nvidia-drm.modeset=1 amdgpu.dc=1 moss.fstx=57");
  });
});

describe("OS identity", () => {
  test("os-info.json first (with both spellings of a former id), else os-release", () => {
    const usr = path.join(work, "id1", "usr");
    fs.mkdirSync(path.join(usr, "lib"), { recursive: true });
    fs.writeFileSync(path.join(usr, "lib", "os-release"), 'NAME="Other"\nID=other\n');
    fs.writeFileSync(path.join(usr, "lib", "os-info.json"), JSON.stringify({ metadata: { identity: { id: "aerynos", name: "AerynOS", display: "AerynOS 0.25", former_identities: [{ id: "serpentos" }] } } }));
    expect(readIdentity(usr)).toEqual({ id: "aerynos", display: "AerynOS 0.25", name: "AerynOS", formerIds: ["serpentos", "serpent-os"] });
    fs.rmSync(path.join(usr, "lib", "os-info.json"));
    expect(readIdentity(usr)).toEqual({ id: "other", display: "Other", name: "Other", formerIds: [] });
    expect(parseOsRelease("# c\nID='x'\nPRETTY_NAME=\"A \\\"B\\\"\"\nBAD\n")).toEqual(new Map([["ID", "x"], ["PRETTY_NAME", 'A "B"']]));
  });
});

describe("kernels in a state's tree", () => {
  test("vmlinuz through symlinks inside the tree, initrds by name with the shared ones, boot.json's variant, oldest first", () => {
    const tree = path.join(work, "tree");
    const k1 = path.join(tree, "usr", "lib", "kernel", "6.10.2-1.desktop");
    const k2 = path.join(tree, "usr", "lib", "kernel", "6.9.0-3.desktop");
    const shared = path.join(tree, "usr", "lib", "kernel", "initrd.d");
    for (const dir of [k1, k2, shared, path.join(tree, "usr", "lib", "modules", "6.9.0-3.desktop")]) fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(k1, "vmlinuz"), "k1");
    fs.writeFileSync(path.join(k1, "50-default.initrd"), "i");
    fs.writeFileSync(path.join(k1, "10-Early.initrd"), "e");
    fs.writeFileSync(path.join(k1, "boot.json"), JSON.stringify({ name: "linux-desktop", version: "6.10.2-1.desktop", variant: "desktop" }));
    fs.writeFileSync(path.join(tree, "usr", "lib", "modules", "6.9.0-3.desktop", "vmlinuz"), "k2");
    fs.symlinkSync("/usr/lib/modules/6.9.0-3.desktop/vmlinuz", path.join(k2, "vmlinuz"));
    fs.writeFileSync(path.join(shared, "00-ucode.initrd"), "u");
    fs.writeFileSync(path.join(tree, "usr", "lib", "kernel", "current.desktop.kernel"), "ignored");
    const kernels = findKernels(tree);
    expect(kernels.map((k) => k.version)).toEqual(["6.9.0-3.desktop", "6.10.2-1.desktop"]);
    expect(kernels[0]!.vmlinuz.source).toBe(path.join(tree, "usr", "lib", "modules", "6.9.0-3.desktop", "vmlinuz"));
    expect(kernels[1]!.initrds.map((f) => f.name)).toEqual(["00-ucode.initrd", "10-Early.initrd", "50-default.initrd"]);
    expect(kernels[1]!.variant).toBe("desktop");
    // A link that climbs out of the tree leads nowhere, never to the host's files.
    fs.symlinkSync("../../../../../../../../etc/passwd", path.join(tree, "usr", "escape"));
    expect(resolveInTree(tree, path.join(tree, "usr", "escape"))).toBeUndefined();
  });
});

describe("low-level formats", () => {
  test("EFI strings: attributes, UTF-16LE, the terminator; an odd byte or a missing NUL is not fatal", () => {
    const bytes = encodeEfiString("systemd-boot 254", 6);
    expect([...bytes.subarray(0, 4)]).toEqual([6, 0, 0, 0]);
    expect(decodeUtf16(bytes.subarray(4))).toBe("systemd-boot 254");
    expect(decodeUtf16(Buffer.from([0x61, 0, 0x62, 0, 0x63]))).toBe("ab");
  });

  test("mount table: octal escapes decoded, options split", () => {
    const [mount] = parseMounts("/dev/sda1 /mnt/my\\040disk vfat rw,umask=0077 0 0\n");
    expect(decodeMountField("a\\011b")).toBe("a\tb");
    expect(mount).toEqual({ device: "/dev/sda1", mountPoint: "/mnt/my disk", fsType: "vfat", options: new Map<string, string | true>([["rw", true], ["umask", "0077"]]) });
  });

  test("a GPT with a wrong CRC is no GPT; a good one gives its partitions", () => {
    const disk = path.join(work, "disk.img");
    const bytes = gptDiskBytes([{ number: 2, type: ESP_TYPE, guid: "0698393a-b99a-4919-9770-64f56d1c0177", firstLba: 2048, lastLba: 4095, name: "EFI" }]);
    fs.writeFileSync(disk, bytes);
    expect(readGpt(disk)?.partitions).toEqual([{ number: 2, typeGuid: ESP_TYPE, uniqueGuid: "0698393a-b99a-4919-9770-64f56d1c0177", firstLba: 2048n, lastLba: 4095n, name: "EFI" }]);
    bytes[512 * 2 + 40] = bytes[512 * 2 + 40]! ^ 1;
    fs.writeFileSync(disk, bytes);
    expect(readGpt(disk)).toBeUndefined();
  });

  test("superblocks of each kind give their UUID; an MBR boot sector is not FAT", () => {
    expect(probeSuperblock(superblocks.ext4("c2d9a1b0-7e55-4b8f-a3f3-0d9c8e6b1a22"))).toEqual({ kind: "ext4", uuid: "c2d9a1b0-7e55-4b8f-a3f3-0d9c8e6b1a22" });
    expect(probeSuperblock(superblocks.btrfs("2a78a4da-f110-4441-8839-dbd97ab87cda")).uuid).toBe("2a78a4da-f110-4441-8839-dbd97ab87cda");
    expect(probeSuperblock(superblocks.xfs("0b7f1c32-91de-4c0a-8f0e-5a9b3c2d1e0f")).kind).toBe("xfs");
    expect(probeSuperblock(superblocks.luks2("b6b31f26-39f4-48f7-bed5-6faaff96cca4"))).toEqual({ kind: "luks", uuid: "b6b31f26-39f4-48f7-bed5-6faaff96cca4", version: 2 });
    expect(probeSuperblock(superblocks.lvm2("abc")).kind).toBe("lvm2");
    expect(probeSuperblock(superblocks.fat32(0x1234abcd))).toEqual({ kind: "fat", uuid: "1234-ABCD" });
    expect(probeSuperblock(gptDiskBytes([])).kind).toBe("unknown");
    expect(probeSuperblock(Buffer.alloc(0)).kind).toBe("unknown");
  });
});
