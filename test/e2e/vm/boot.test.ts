/**
 * Boot entries proven by booting them: a GPT disk whose ESP `moss boot sync` rebuilt from the root (Debian's
 * systemd-boot, a Debian kernel with the dracut+systemd initramfs that holds the moss module, an
 * entry per state) and whose root partition holds states 1–3, started by OVMF under QEMU TCG.
 * What systemd-boot picked and what the initramfs did are read from the disk afterwards: the
 * root's `/usr/.stateID` and the guest's mark (debugfs at the partition's offset), and the
 * entries' boot-counting names on the ESP (mtools).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { encodeEfiString, LOADER_GUID } from "../../../src/boot/efivars.ts";
import { guidBytes } from "../../../src/boot/gpt.ts";
import { BootHost, ESP_TYPE, LINUX_FS_TYPE, superblocks, writeGptDisk } from "../../helpers/boot-host.ts";
import { OS_INFO } from "../../helpers/boot-root.ts";
import { ensureBinary, moss, tempDir } from "../../helpers/moss.ts";
import { tinyStone } from "../../helpers/packages.ts";
import { bootUefi, buildInitramfs, CACHE, ensureKernel, ensureSystemdBoot, ensureVmTools, imageFile, OVMF, rootImage, setOvmfVariable, taskPool, type Boot } from "./vm.ts";

const unavailable = ensureVmTools();
if (unavailable) console.log(`UEFI boot tests skipped: ${unavailable}`);

const ESP_GUID = "a8c2f3e1-1d4b-4f6a-9e2c-3b5d7f9a1c2e";
const ROOT_GUID = "4d3c2b1a-6f5e-4a9b-8c7d-0e1f2a3b4c5d";
const MIB = 1 << 20;
const ESP_START = 1 * MIB;
const ESP_SIZE = 160 * MIB;
const ROOT_START = ESP_START + ESP_SIZE;
const ROOT_SIZE = 640 * MIB;

describe.skipIf(unavailable !== undefined)("UEFI boot through the entries moss writes", () => {
  const work = tempDir("moss-vm-boot-");
  let kernelVersion: string;
  const disks = new Map<string, string>();
  const pool = taskPool();
  const boots = new Map<string, Promise<Boot[]>>();
  let initramfsBuild: ReturnType<typeof buildInitramfs> | undefined;

  /**
   * A root with states 1–3 installed by the real binary, whose every transaction synced the ESP,
   * both described to moss by a fixture machine matching the disk they become: moss finds the ESP
   * by its GPT type and names the root by its PARTUUID, as on the real disk.
   */
  async function makeDisk(name: string, bootConfig: string): Promise<string> {
    const dir = path.join(work, name);
    const root = path.join(dir, "root");
    const esp = path.join(dir, "esp");
    fs.mkdirSync(esp, { recursive: true });
    fs.mkdirSync(path.join(root, "etc", "kernel", "cmdline.d"), { recursive: true });
    fs.mkdirSync(path.join(root, "etc", "moss"), { recursive: true });
    fs.writeFileSync(path.join(root, "etc", "moss", "boot.kdl"), bootConfig);
    // What the test guest needs on every entry's command line, as an admin would put it there.
    fs.writeFileSync(path.join(root, "etc", "kernel", "cmdline.d", "90-vm.cmdline"), "console=ttyS0 panic=-1 init=/vm-test/init\n");
    const sectors = (ROOT_START + ROOT_SIZE + MIB) / 512;
    const host = new BootHost(path.join(dir, "host")).uefi();
    host.addDisk({
      name: "vda", sysParent: "pci0000:00/0000:00:04.0/virtio1/block", partitions: [
        { number: 1, type: ESP_TYPE, guid: ESP_GUID, firstLba: ESP_START / 512, lastLba: ROOT_START / 512 - 1, device: "vda1", content: superblocks.fat32(0x5eed) },
        { number: 2, type: LINUX_FS_TYPE, guid: ROOT_GUID, firstLba: ROOT_START / 512, lastLba: sectors - 35, device: "vda2", content: superblocks.ext4("9e8d7c6b-5a49-4382-9170-6f5e4d3c2b1a") },
      ],
    }).mount("vda2", root, "ext4").mount("vda1", esp, "vfat");

    const packages = path.join(dir, "packages");
    fs.mkdirSync(packages);
    const kernel = ensureKernel();
    kernelVersion = kernel.version;
    // One build for both disks (the same image the rollback tests boot, cached with them).
    initramfsBuild ??= buildInitramfs(kernel, ensureBinary(), [{ out: path.join(CACHE, "initramfs-default.img"), args: [] }]);
    const [initramfs] = await initramfsBuild;
    const stones = {
      os: await tinyStone(packages, { name: "os-info", files: { "lib/os-info.json": OS_INFO } }),
      sdboot: await stoneOf(packages, "systemd-boot", { "lib/systemd/boot/efi/systemd-bootx64.efi": ensureSystemdBoot() }),
      linux: await stoneOf(packages, "linux", { [`lib/kernel/${kernel.version}/vmlinuz`]: kernel.bzImage, [`lib/kernel/${kernel.version}/50-default.initrd`]: initramfs!.out }),
      two: await tinyStone(packages, { name: "two", files: { "share/two/README": "state 2" } }),
      three: await tinyStone(packages, { name: "three", files: { "share/three/README": "state 3" } }),
    };
    const env = { MOSS_BOOT_HOST: host.dir };
    for (const step of [[stones.os, stones.sdboot, stones.linux], [stones.two], [stones.three]]) {
      const result = moss(["-D", root, "-y", "install", ...step], { env });
      if (result.status !== 0 || result.stderr.includes("Warning")) throw new Error(`install: ${result.stdout}${result.stderr}`);
    }
    // The ESP the disk gets is the one `moss boot sync` rebuilds from the root alone, after a wipe.
    for (const name of fs.readdirSync(esp)) fs.rmSync(path.join(esp, name), { recursive: true });
    const synced = moss(["-D", root, "boot", "sync"], { env });
    if (synced.status !== 0) throw new Error(`boot sync: ${synced.stdout}${synced.stderr}`);

    // The disk: GPT, the ESP as FAT32 filled from the directory, the root as ext4.
    const disk = path.join(dir, "disk.img");
    writeGptDisk(disk, sectors, [
      { number: 1, type: ESP_TYPE, guid: ESP_GUID, firstLba: ESP_START / 512, lastLba: ROOT_START / 512 - 1, name: "ESP" },
      { number: 2, type: LINUX_FS_TYPE, guid: ROOT_GUID, firstLba: ROOT_START / 512, lastLba: sectors - 35, name: "root" },
    ]);
    const espImage = path.join(dir, "esp.img");
    run(["mkfs.vfat", "-F", "32", "-C", espImage, String(ESP_SIZE / 1024)]);
    run(["mcopy", "-s", "-i", espImage, ...fs.readdirSync(esp).map((f) => path.join(esp, f)), "::/"]);
    const rootPart = path.join(dir, "root.img");
    rootImage(root, rootPart, `${ROOT_SIZE / MIB}M`);
    run(["dd", `if=${espImage}`, `of=${disk}`, "bs=1M", `seek=${ESP_START / MIB}`, "conv=notrunc,sparse", "status=none"]);
    run(["dd", `if=${rootPart}`, `of=${disk}`, "bs=1M", `seek=${ROOT_START / MIB}`, "conv=notrunc,sparse", "status=none"]);
    fs.rmSync(espImage);
    fs.rmSync(rootPart);
    return disk;
  }

  async function stoneOf(dir: string, name: string, files: Record<string, string>): Promise<string> {
    const tree = path.join(dir, `tree-${name}`);
    for (const [target, source] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(tree, target)), { recursive: true });
      fs.copyFileSync(source, path.join(tree, target));
    }
    const out = path.join(dir, `${name}.stone`);
    run([process.execPath, path.join(import.meta.dir, "..", "..", "..", "scripts", "pack-stone.ts"), tree, "--name", name, "--version", "1", "--release", "1", "-o", out]);
    return out;
  }

  /** Boots in a row from one disk and one variable store, each after `before` (if any) set its variables. */
  function scheduleBoots(name: string, disk: () => Promise<string>, count: number, oneShot?: string) {
    const started = (async () => {
      const image = await disk();
      const vars = path.join(path.dirname(image), "vars.fd");
      fs.copyFileSync(OVMF.vars, vars);
      if (oneShot) setOvmfVariable(vars, "LoaderEntryOneShot", guidBytes(LOADER_GUID), encodeEfiString(oneShot).subarray(4));
      const results: Boot[] = [];
      for (let i = 0; i < count; i++) {
        const result = await pool(() => bootUefi(image, vars));
        console.log(`boot ${name} #${i + 1}: ${result.seconds.toFixed(1)} s`);
        results.push(result);
      }
      return results;
    })();
    started.catch(() => {});
    boots.set(name, started);
  }

  beforeAll(() => {
    scheduleBoots("one-shot", () => makeDisk("one-shot", "tries 0\n"), 1, "aerynos-*-1.conf");
    scheduleBoots("fallback", () => makeDisk("fallback", "tries 1\n"), 2);
  });
  afterAll(async () => {
    await Promise.allSettled(boots.values());
    fs.rmSync(work, { recursive: true, force: true });
  }, 600_000);

  const rootFile = (disk: string, file: string) => imageFile(`${disk}?offset=${ROOT_START}`, file);
  const espEntries = (disk: string) =>
    run(["mdir", "-b", "-i", `${disk}@@${ESP_START}`, "::/loader/entries"]).split("\n").filter(Boolean).map((line) => path.posix.basename(line)).sort();

  test("LoaderEntryOneShot picks state 1's entry: systemd-boot boots it and the initramfs rolls the root back to state 1", async () => {
    const [first] = await boots.get("one-shot")!;
    const disk = path.join(work, "one-shot", "disk.img");
    expect(rootFile(disk, "/usr/.stateID")).toBe("1");
    expect(rootFile(disk, "/vm-test/booted-state")).toBe("1\n");
    expect(rootFile(disk, "/.moss/root/3/usr/.stateID")).toBe("3");
    expect(first!.console).toContain("moss-fstx: state 1 is active");
    expect(espEntries(disk)).toEqual([1, 2, 3].map((s) => `aerynos-${kernelVersion}-${s}.conf`));
  }, 1_200_000);

  test("boot counting: the newest state never blesses itself, its one try runs out, and systemd-boot falls back to state 2", async () => {
    const [first, second] = await boots.get("fallback")!;
    const disk = path.join(work, "fallback", "disk.img");
    // First boot: state 3, the default, counting its try down; it never reaches `moss boot bless`.
    expect(first!.console).toContain("MOSS-VM-INIT: root is on state [3]");
    // Second boot: state 3's entry is bad, so the state before it boots and the initramfs rolls back.
    expect(second!.console).toContain("moss-fstx: state 2 is active");
    expect(rootFile(disk, "/usr/.stateID")).toBe("2");
    expect(rootFile(disk, "/vm-test/booted-state")).toBe("2\n");
    expect(espEntries(disk)).toEqual([`aerynos-${kernelVersion}-1+1.conf`, `aerynos-${kernelVersion}-2+0-1.conf`, `aerynos-${kernelVersion}-3+0-1.conf`]);
  }, 1_200_000);
});

function run(argv: string[]): string {
  const result = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8", maxBuffer: 64 << 20 });
  if (result.status !== 0) throw new Error(`${argv.join(" ")}: exit ${result.status}\n${result.stderr}`);
  return result.stdout;
}
