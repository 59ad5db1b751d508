/**
 * Boot synchronisation through the real binary on a directory ESP (`--esp`): the entries of the
 * current state and the four before it, every kernel, pruning, live and offline activation,
 * loader.conf edits kept, a second sync writing nothing, a wiped ESP rebuilt byte for byte, and
 * the GC that makes room on a nearly full ESP before anything is copied.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { BootHost } from "../helpers/boot-host.ts";
import { bootPackages, systemdBootBinary } from "../helpers/boot-root.ts";
import { moss as runMoss, tempDir } from "../helpers/moss.ts";

const work = tempDir("moss-boot-sync-");
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));
// Every run probes this empty UEFI machine, not the one the tests run on: no root device is known
// (entries carry only `rw`), and the ESP is the directory --esp names.
const machine = new BootHost(path.join(work, "machine")).uefi().dir;
const moss = (args: string[], opts: { env?: Record<string, string> } = {}) => runMoss(args, { env: { MOSS_BOOT_HOST: machine, ...opts.env } });
let pkgs: Awaited<ReturnType<typeof bootPackages>>;
const files: Record<string, string> = {};
let serial = 0;

const KA = "6.1.10-1.desktop";
const KB = "6.2.3-5.lts";

beforeAll(async () => {
  const dir = path.join(work, "packages");
  fs.mkdirSync(dir);
  pkgs = await bootPackages(dir);
  files.os = await pkgs.os();
  files.sdboot = await pkgs.systemdBoot("257.1");
  files.kernelA = await pkgs.kernel({ name: "linux-desktop", version: "6.1.10", kver: KA, variant: "desktop" });
  files.kernelB = await pkgs.kernel({ name: "linux-lts", version: "6.2.3", kver: KB, variant: "lts", cmdline: "nvidia-drm.modeset=1" });
  files.quiet = await pkgs.vendorCmdline("# the vendor's\nquiet\n\nsplash\n");
  files.ucode = await pkgs.microcode();
  for (const name of ["p2", "p3", "p4", "p5", "p6", "p7"]) files[name] = await pkgs.plain(name);
});

function bootRoot() {
  const dir = path.join(work, `r${serial++}`);
  const root = path.join(dir, "root");
  const esp = path.join(dir, "esp");
  fs.mkdirSync(root, { recursive: true });
  fs.mkdirSync(esp);
  const run = (...args: string[]) => {
    const result = moss(["-D", root, "--esp", esp, "-y", ...args]);
    if (result.status !== 0) throw new Error(`moss ${args.join(" ")}: exit ${result.status}\n${result.stdout}${result.stderr}`);
    return result;
  };
  return { root, esp, run };
}

/** Every file below `dir`, relative path → bytes. */
function snapshot(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (at: string) => {
    for (const name of fs.readdirSync(at).sort()) {
      const full = path.join(at, name);
      if (fs.statSync(full).isDirectory()) walk(full);
      else out.set(path.relative(dir, full), fs.readFileSync(full));
    }
  };
  walk(dir);
  return out;
}

function entries(esp: string): string[] {
  return fs.readdirSync(path.join(esp, "loader", "entries")).sort();
}

function kernelDirs(esp: string): string[] {
  return fs.readdirSync(path.join(esp, "EFI", "aerynos")).sort();
}

describe("moss boot sync", () => {
  test("a transaction writes systemd-boot, the kernel with its initrds, a counted entry and loader.conf", () => {
    const { esp, run } = bootRoot();
    run("install", files.os!, files.sdboot!, files.kernelA!, files.quiet!, files.ucode!);
    expect([...snapshot(esp).keys()]).toEqual([
      "EFI/Boot/BOOTX64.EFI",
      `EFI/aerynos/${KA}/00-ucode.initrd`,
      `EFI/aerynos/${KA}/50-default.initrd`,
      `EFI/aerynos/${KA}/vmlinuz`,
      "EFI/systemd/systemd-bootx64.efi",
      `loader/entries/aerynos-${KA}-1+3.conf`,
      "loader/loader.conf",
    ]);
    expect(fs.readFileSync(path.join(esp, "EFI", "systemd", "systemd-bootx64.efi"), "latin1")).toBe(systemdBootBinary("257.1"));
    expect(fs.readFileSync(path.join(esp, "loader", "entries", `aerynos-${KA}-1+3.conf`), "utf8")).toBe([
      `title AerynOS Test (${KA}, state 1)`,
      "sort-key aerynos",
      `version 1.1.1.${KA}`,
      `linux /EFI/aerynos/${KA}/vmlinuz`,
      `initrd /EFI/aerynos/${KA}/00-ucode.initrd`,
      `initrd /EFI/aerynos/${KA}/50-default.initrd`,
      // No root device is known for a directory root: `rw`, then vendor, kernel and admin snippets, the state last.
      "options rw quiet splash moss.fstx=1",
      "",
    ].join("\n"));
    expect(fs.readFileSync(path.join(esp, "loader", "loader.conf"), "utf8")).toBe("default aerynos-*\n");
  });

  test("the current state and the four before it get entries, every kernel of each; prune removes entries and kernels no entry needs", () => {
    const { esp, run } = bootRoot();
    run("install", files.os!, files.sdboot!, files.kernelA!);
    run("install", files.p2!);
    run("install", files.kernelB!);
    for (const name of ["p4", "p5", "p6"]) run("install", files[name]!);
    const expected = [];
    for (const state of [2, 3, 4, 5, 6]) {
      expected.push(`aerynos-${KA}-${state}+3.conf`);
      if (state >= 3) expected.push(`aerynos-${KB}-${state}+3.conf`);
    }
    expect(entries(esp)).toEqual(expected.sort());
    expect(kernelDirs(esp)).toEqual([KA, KB]);
    const lts = fs.readFileSync(path.join(esp, "loader", "entries", `aerynos-${KB}-6+3.conf`), "utf8");
    expect(lts).toContain("options rw nvidia-drm.modeset=1 moss.fstx=6\n");
    // The lts kernel is the newer version, so the current state's preferred kernel is it.
    expect(lts).toContain(`version 1.6.1.${KB}\n`);

    // Without kernel A from state 7 on, A is needed only by the states before; pruning them frees it.
    run("remove", "linux-desktop");
    expect(entries(esp)).toContain(`aerynos-${KB}-7+3.conf`);
    expect(kernelDirs(esp)).toEqual([KA, KB]);
    run("state", "prune", "-k", "1");
    expect(entries(esp)).toEqual([`aerynos-${KB}-7+3.conf`]);
    expect(kernelDirs(esp)).toEqual([KB]);
  });

  test("live activation of an older state drops the newer states' entries; an offline one keeps them, behind the state rolled back to", () => {
    const { root, esp, run } = bootRoot();
    run("install", files.os!, files.sdboot!, files.kernelA!);
    for (const name of ["p2", "p3", "p4"]) run("install", files[name]!);
    expect(entries(esp)).toEqual([1, 2, 3, 4].map((s) => `aerynos-${KA}-${s}+3.conf`));

    // Offline (as the initramfs runs it): nothing on the ESP changes until the next live run.
    run("state", "activate", "--skip-boot", "2");
    expect(fs.existsSync(path.join(root, ".moss", "boot-sync-pending"))).toBe(true);
    expect(entries(esp)).toEqual([1, 2, 3, 4].map((s) => `aerynos-${KA}-${s}+3.conf`));
    run("boot", "sync");
    expect(entries(esp)).toEqual([1, 2, 3, 4].map((s) => `aerynos-${KA}-${s}+3.conf`));
    // The kept newer states sort after the current one and the ones before it.
    const version = (state: number) => /version (\S+)/.exec(fs.readFileSync(path.join(esp, "loader", "entries", `aerynos-${KA}-${state}+3.conf`), "utf8"))![1];
    expect([version(2), version(1), version(4), version(3)]).toEqual([`1.2.1.${KA}`, `1.1.0.${KA}`, `0.4.0.${KA}`, `0.3.0.${KA}`]);
    expect(fs.existsSync(path.join(root, ".moss", "boot-sync-pending"))).toBe(true);

    // Live: the states after the activated one lose their entries, and the pending rollback is settled.
    run("state", "activate", "1");
    expect(entries(esp)).toEqual([`aerynos-${KA}-1+3.conf`]);
    expect(fs.existsSync(path.join(root, ".moss", "boot-sync-pending"))).toBe(false);
  });

  test("loader.conf keeps the admin's settings; a second sync writes nothing; bless removes the counter", () => {
    const { esp, run } = bootRoot();
    run("install", files.os!, files.sdboot!, files.kernelA!);
    const loaderConf = path.join(esp, "loader", "loader.conf");
    fs.writeFileSync(loaderConf, "# mine\ntimeout 7\ndefault other.conf\nconsole-mode max\neditor no\n");
    run("boot", "sync");
    expect(fs.readFileSync(loaderConf, "utf8")).toBe("# mine\ntimeout 7\ndefault aerynos-*\nconsole-mode max\neditor no\n");

    const before = new Map([...snapshot(esp).keys()].map((f) => [f, fs.statSync(path.join(esp, f), { bigint: true })]));
    const again = moss(["-D", path.dirname(esp) + "/root", "--esp", esp, "boot", "sync", "--json"]);
    expect(again.status).toBe(0);
    const report = JSON.parse(again.stdout);
    expect(report.writes).toEqual([]);
    expect(report.removals).toEqual([]);
    for (const [file, stat] of before) {
      const now = fs.statSync(path.join(esp, file), { bigint: true });
      expect({ file, ino: now.ino, mtime: now.mtimeNs }).toEqual({ file, ino: stat.ino, mtime: stat.mtimeNs });
    }

    const blessed = run("boot", "bless");
    expect(blessed.stdout).toContain(`Blessed ${path.join(esp, "loader", "entries", `aerynos-${KA}-1.conf`)}`);
    expect(entries(esp)).toEqual([`aerynos-${KA}-1.conf`]);
    // A later sync keeps the blessed name.
    run("install", files.p2!);
    expect(entries(esp)).toEqual([`aerynos-${KA}-1.conf`, `aerynos-${KA}-2+3.conf`]);
  });

  test("a copy seen equal to its source is not read again while neither side changes; a changed copy is written again", () => {
    const { root, esp, run } = bootRoot();
    run("install", files.os!, files.sdboot!, files.kernelA!);
    const vmlinuz = path.join(esp, "EFI", "aerynos", KA, "vmlinuz");
    const source = path.join(root, "usr", "lib", "kernel", KA, "vmlinuz");
    const good = fs.readFileSync(vmlinuz);
    expect(good.equals(fs.readFileSync(source))).toBe(true);
    // The sync recorded each copy it wrote with both sides' identity.
    const list = fs.readFileSync(path.join(root, ".moss", "boot-verified-copies"), "utf8");
    expect(list).toContain(`${vmlinuz}\t${good.length}\t`);
    expect(list).toContain(`${path.join(esp, "EFI", "systemd", "systemd-bootx64.efi")}\t`);

    // Other bytes of the same size under the recorded time: trusted, so not compared (and not
    // rewritten). This is the whole trust model: size and time on the ESP's side.
    const recorded = fs.statSync(vmlinuz, { bigint: true }).mtimeNs;
    const setTime = (ns: bigint) => spawnSync("touch", ["-m", "-d", `@${ns / 1_000_000_000n}.${String(ns % 1_000_000_000n).padStart(9, "0")}`, vmlinuz]);
    const other = Buffer.alloc(good.length, 0x5a);
    fs.writeFileSync(vmlinuz, other);
    setTime(recorded);
    expect(fs.statSync(vmlinuz, { bigint: true }).mtimeNs).toBe(recorded);
    run("boot", "sync");
    expect(fs.readFileSync(vmlinuz).equals(other)).toBe(true);

    // Written to since (a new time): compared again, found different, replaced by the kernel.
    setTime(recorded + 5_000_000_000n);
    run("boot", "sync");
    expect(fs.readFileSync(vmlinuz).equals(good)).toBe(true);
  });

  test("a kernel directory loses the initrd its kernel no longer has; a state whose files differ gets a directory of its own", () => {
    const { root, esp, run } = bootRoot();
    run("install", files.os!, files.sdboot!, files.kernelA!, files.ucode!);
    expect(fs.readdirSync(path.join(esp, "EFI", "aerynos", KA)).sort()).toEqual(["00-ucode.initrd", "50-default.initrd", "vmlinuz"]);
    run("remove", "ucode");
    // State 2 (current) keeps the shared directory; state 1, whose files now differ, gets its own.
    expect(kernelDirs(esp)).toEqual([KA, `${KA}-1`]);
    expect(fs.readdirSync(path.join(esp, "EFI", "aerynos", KA)).sort()).toEqual(["50-default.initrd", "vmlinuz"]);
    expect(fs.readFileSync(path.join(esp, "loader", "entries", `aerynos-${KA}-1+3.conf`), "utf8")).toContain(`initrd /EFI/aerynos/${KA}-1/00-ucode.initrd\n`);
    // With one state kept, the other directory goes too.
    fs.mkdirSync(path.join(root, "etc", "moss"), { recursive: true });
    fs.writeFileSync(path.join(root, "etc", "moss", "boot.kdl"), "states 1\n");
    run("boot", "sync");
    expect(kernelDirs(esp)).toEqual([KA]);
    expect(entries(esp)).toEqual([`aerynos-${KA}-2+3.conf`]);
  });

  test("a wiped ESP is rebuilt byte for byte from the root alone", () => {
    const { esp, run } = bootRoot();
    run("install", files.os!, files.sdboot!, files.kernelA!, files.quiet!);
    run("install", files.kernelB!);
    run("install", files.p2!);
    const before = snapshot(esp);
    for (const name of fs.readdirSync(esp)) fs.rmSync(path.join(esp, name), { recursive: true });
    run("boot", "sync");
    const after = snapshot(esp);
    expect([...after.keys()]).toEqual([...before.keys()]);
    for (const [file, bytes] of before) expect({ file, same: after.get(file)!.equals(bytes) }).toEqual({ file, same: true });
  });

  test("a user's entry, another OS's entries and a foreign fallback loader are left alone; stale moss entries of former ids go", () => {
    const { esp, run } = bootRoot();
    const entriesDir = path.join(esp, "loader", "entries");
    fs.mkdirSync(entriesDir, { recursive: true });
    fs.mkdirSync(path.join(esp, "EFI", "Boot"), { recursive: true });
    fs.writeFileSync(path.join(entriesDir, "aerynos-custom.conf"), "title mine\n");
    fs.writeFileSync(path.join(entriesDir, "fedora-6.5.conf"), "title fedora\n");
    fs.writeFileSync(path.join(entriesDir, "serpentos-6.0.1-9.conf"), "title old\n");
    fs.mkdirSync(path.join(esp, "EFI", "serpentos", "6.0.1"), { recursive: true });
    fs.writeFileSync(path.join(esp, "EFI", "serpentos", "6.0.1", "vmlinuz"), "old");
    fs.writeFileSync(path.join(esp, "EFI", "Boot", "BOOTX64.EFI"), "shim from another distribution");
    run("install", files.os!, files.sdboot!, files.kernelA!);
    expect(entries(esp)).toEqual([`aerynos-${KA}-1+3.conf`, "aerynos-custom.conf", "fedora-6.5.conf"]);
    expect(fs.existsSync(path.join(esp, "EFI", "serpentos", "6.0.1"))).toBe(false);
    expect(fs.readFileSync(path.join(esp, "EFI", "Boot", "BOOTX64.EFI"), "utf8")).toBe("shim from another distribution");
    expect(fs.existsSync(path.join(esp, "EFI", "systemd", "systemd-bootx64.efi"))).toBe(true);
  });

  test("an older systemd-boot never replaces a newer one", async () => {
    const { esp, run } = bootRoot();
    run("install", files.os!, files.sdboot!, files.kernelA!);
    const older = await pkgs.systemdBoot("256.4", 0);
    const newer = await pkgs.systemdBoot("258.0", 2);
    // A state without systemd-boot has nothing to boot with: the ESP is left as it is.
    run("remove", "systemd-boot");
    run("install", older);
    expect(fs.readFileSync(path.join(esp, "EFI", "systemd", "systemd-bootx64.efi"), "latin1")).toBe(systemdBootBinary("257.1"));
    run("remove", "systemd-boot");
    run("install", newer);
    expect(fs.readFileSync(path.join(esp, "EFI", "systemd", "systemd-bootx64.efi"), "latin1")).toBe(systemdBootBinary("258.0"));
    expect(fs.readFileSync(path.join(esp, "EFI", "Boot", "BOOTX64.EFI"), "latin1")).toBe(systemdBootBinary("258.0"));
  });
});

describe("moss boot sync --dry-run, boot status, MOSS_ESP", () => {
  test("--dry-run says what would change and changes nothing; MOSS_ESP stands for --esp; status prints the environment", () => {
    const dir = path.join(work, `env-${serial++}`);
    const root = path.join(dir, "root");
    const esp = path.join(dir, "esp");
    fs.mkdirSync(root, { recursive: true });
    fs.mkdirSync(esp);
    const env = { MOSS_ESP: esp };
    // On a UEFI machine where no ESP can be found for the root: a warning, not a failure.
    const uefi = new BootHost(path.join(dir, "host")).uefi();
    const installed = moss(["-D", root, "-y", "install", files.os!, files.sdboot!, files.kernelA!], { env: { MOSS_BOOT_HOST: uefi.dir } });
    expect(installed.status).toBe(0);
    expect(installed.stderr).toContain("Warning: boot entries not updated: no EFI system partition found for");
    expect(installed.stderr).toContain("give --esp DIR (the mounted ESP) to say where it is");
    expect(fs.readdirSync(esp)).toEqual([]);
    // On a BIOS machine it is not applicable at all: nothing said unless asked (-v).
    const bios = new BootHost(path.join(dir, "bios"));
    const quiet = moss(["-D", root, "-y", "-v", "install", files.p2!], { env: { MOSS_BOOT_HOST: bios.dir } });
    expect(quiet.stderr).toContain("boot entries not updated: legacy BIOS is not supported");
    expect(quiet.stderr).not.toContain("Warning");

    const dry = moss(["-D", root, "boot", "sync", "--dry-run"], { env });
    expect(dry.status).toBe(0);
    expect(dry.stdout).toContain(`would write ${path.join(esp, "EFI", "aerynos", KA, "vmlinuz")}\n`);
    expect(dry.stdout).toContain(`would write ${path.join(esp, "loader", "entries", `aerynos-${KA}-2+3.conf`)}\n`);
    expect(fs.readdirSync(esp)).toEqual([]);

    const synced = moss(["-D", root, "boot", "sync"], { env });
    expect(synced.status).toBe(0);
    expect(synced.stdout).toBe(`Boot updated\n\nESP            : ${esp}\nXBOOTLDR       : none\nGlobal cmdline : ["rw"]\n`);
    expect(entries(esp)).toEqual([`aerynos-${KA}-1+3.conf`, `aerynos-${KA}-2+3.conf`]);
    const status = moss(["-D", root, "boot", "status", "--json"], { env });
    expect(JSON.parse(status.stdout)).toMatchObject({
      mode: "image", esp: { dir: esp, via: "override" }, xbootldr: null, cmdline: ["rw"], default: "aerynos-*",
      entries: [1, 2].map((stateId) => ({ file: path.join(esp, "loader", "entries", `aerynos-${KA}-${stateId}+3.conf`), stateId, counter: { left: 3, done: 0 } })),
    });
  });

  test("a root with nothing to boot is left alone, and boot sync says why", () => {
    const { root, esp, run } = bootRoot();
    run("install", files.p2!);
    const sync = moss(["-D", root, "--esp", esp, "boot", "sync"]);
    expect(sync.status).toBe(0);
    expect(sync.stdout).toBe("Boot not updated: the active state ships no systemd-boot\n");
    expect(fs.readdirSync(esp)).toEqual([]);
  });
});

describe("a nearly full ESP", () => {
  /** A tmpfs of `mib` MiB as the ESP: statfs reports its real free space. */
  function smallEsp(mib: number): string {
    const dir = path.join(work, `tmpfs-${serial++}`);
    fs.mkdirSync(dir);
    const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", `size=${mib}m`, "tmpfs", dir]);
    if (mounted.status !== 0) throw new Error(`mounting a tmpfs failed: ${mounted.stderr}`);
    return dir;
  }

  test("filled to 1 MiB short of a new kernel, a sync first removes the kernel no entry needs and then fits", async () => {
    const esp = smallEsp(24);
    try {
      const dir = path.join(work, `full-${serial++}`);
      const root = path.join(dir, "root");
      fs.mkdirSync(root, { recursive: true });
      const big = (n: number) => pkgs.kernel({ name: `linux-${n}`, version: `6.${n}.0`, kver: `6.${n}.0-1.desktop`, size: 3 << 20 });
      const run = (...args: string[]) => {
        const result = moss(["-D", root, "--esp", esp, "-y", ...args]);
        if (result.status !== 0 || result.stderr.includes("Warning")) throw new Error(`moss ${args.join(" ")}: exit ${result.status}\n${result.stdout}${result.stderr}`);
        return result;
      };
      // Kernel 1 is in state 1 only (state 2 removes it, and has nothing to boot); state 3 brings kernel 2.
      fs.mkdirSync(path.join(root, "etc", "moss"), { recursive: true });
      fs.writeFileSync(path.join(root, "etc", "moss", "boot.kdl"), "states 3\n");
      run("install", files.os!, files.sdboot!, await big(1));
      run("remove", "linux-1");
      run("install", await big(2));
      expect(kernelDirs(esp)).toEqual(["6.1.0-1.desktop", "6.2.0-1.desktop"]);
      // Leave 1 MiB less than kernel 3's vmlinuz and initrd need.
      const free = () => fs.statfsSync(esp).bavail * fs.statfsSync(esp).bsize;
      fs.writeFileSync(path.join(esp, "filler"), Buffer.alloc(free() - (6 << 20) + (1 << 20)));
      run("install", await big(3));
      // States 4, 3 and 2 are kept, so kernel 1 is needed by none: it went first, and kernel 3 fits.
      expect(kernelDirs(esp)).toEqual(["6.2.0-1.desktop", "6.3.0-1.desktop"]);
      expect(entries(esp)).toEqual(["aerynos-6.2.0-1.desktop-3+3.conf", "aerynos-6.2.0-1.desktop-4+3.conf", "aerynos-6.3.0-1.desktop-4+3.conf"]);
    } finally {
      spawnSync("umount", [esp]);
    }
  });

  test("when even the current state cannot fit, boot sync fails naming the space needed and writes nothing", async () => {
    const esp = smallEsp(8);
    try {
      const dir = path.join(work, `tiny-${serial++}`);
      const root = path.join(dir, "root");
      fs.mkdirSync(root, { recursive: true });
      const kernel = await pkgs.kernel({ name: "linux-huge", version: "6.9.0", kver: "6.9.0-1.desktop", size: 5 << 20 });
      const installed = moss(["-D", root, "--esp", esp, "-y", "install", files.os!, files.sdboot!, kernel]);
      // The state is live; the boot sync's failure is a warning naming the way to retry.
      expect(installed.status).toBe(0);
      expect(installed.stderr).toContain("Warning: boot entries not updated:");
      expect(installed.stderr).toContain("run `moss boot sync` once this is fixed");
      expect(fs.readdirSync(esp)).toEqual([]);
      const sync = moss(["-D", root, "--esp", esp, "boot", "sync"]);
      expect(sync.status).toBe(1);
      expect(sync.stdout).toMatch(/^Error: .* has [\d.]+ MiB free \(after removing what no entry needs\), but the current state's boot files need [\d.]+ MiB: free [\d.]+ MiB there, then run `moss boot sync`\n$/);
      expect(fs.readdirSync(esp)).toEqual([]);
    } finally {
      spawnSync("umount", [esp]);
    }
  });
});
