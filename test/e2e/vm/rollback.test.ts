/**
 * The offline rollback proven by booting: a Debian kernel and a dracut+systemd initramfs with the
 * moss module boot, under QEMU TCG, an ext4 image whose states 1, 2 and 3 the real `dist/moss`
 * made, with `moss.fstx=N` on the command line. Every outcome is read from the image's bytes
 * afterwards (debugfs, no mount): `/usr/.stateID`, the whole `/usr` tree, the archive of the
 * state left, and the mark the guest's init leaves on the root it was started on.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { ensureBinary, tempDir } from "../../helpers/moss.ts";
import { distro, snapshot, threeStateRoot } from "../../helpers/roots.ts";
import { boot, buildInitramfs, CACHE, ensureKernel, ensureVmTools, imageFile, rootImage, type Kernel } from "./vm.ts";

const unavailable = ensureVmTools();
if (unavailable) console.log(`VM tests skipped: ${unavailable}`);

describe.skipIf(unavailable !== undefined)("offline rollback at early boot", () => {
  const work = tempDir("moss-vm-");
  let kernel: Kernel;
  const initramfs = { stripped: path.join(CACHE, "initramfs-default.img"), nostrip: path.join(CACHE, "initramfs-nostrip.img") };
  const images = { base: path.join(work, "base.img"), noArchive2: path.join(work, "no-archive-2.img") };
  const trees = new Map<string, Map<string, string>>();

  beforeAll(async () => {
    kernel = ensureKernel();
    const binary = ensureBinary();
    for (const [variant, out] of Object.entries(initramfs)) {
      const built = buildInitramfs(kernel, binary, { nostrip: variant === "nostrip", out });
      console.log(`initramfs (${variant}): ${built.bytes} bytes in ${built.seconds.toFixed(1)} s`);
    }
    const packages = await distro(path.join(work, "repo"));
    const root = path.join(work, "root");
    for (const [id, tree] of threeStateRoot(root, packages)) trees.set(id, tree);
    rootImage(root, images.base);
    fs.rmSync(path.join(root, ".moss", "root", "2"), { recursive: true });
    rootImage(root, images.noArchive2);
  }, 600_000);
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  /** A fresh copy of `image`, booted with `append`. */
  function bootCopy(image: string, name: string, append: string, variant: keyof typeof initramfs = "stripped") {
    const copy = path.join(work, `${name}.img`);
    spawnSync("cp", ["--sparse=always", image, copy]);
    const result = boot(kernel, initramfs[variant], copy, append);
    console.log(`boot ${name}: ${result.seconds.toFixed(1)} s`);
    return { image: copy, ...result };
  }

  /** `/usr` of the image, dumped out of it and snapshotted like a tree on the host. */
  function usrOf(image: string): Map<string, string> {
    const out = fs.mkdtempSync(path.join(work, "dump-"));
    spawnSync("debugfs", ["-R", `rdump /usr ${out}`, image], { encoding: "utf8" });
    return snapshot(path.join(out, "usr"));
  }

  function expectOnState(image: string, id: string) {
    expect(imageFile(image, "/usr/.stateID")).toBe(id);
    // The guest's own init ran, on the root holding that state.
    expect(imageFile(image, "/vm-test/booted-state")).toBe(`${id}\n`);
  }

  test("moss.fstx=1 rolls the root back from state 3 before switch-root, with dracut's default stripping", () => {
    const run = bootCopy(images.base, "back-to-1", "rw moss.fstx=1");
    expectOnState(run.image, "1");
    expect(usrOf(run.image)).toEqual(trees.get("1")!);
    expect(imageFile(run.image, "/.moss/root/3/usr/.stateID")).toBe("3");
    expect(imageFile(run.image, "/.moss/boot-sync-pending")).toBe("1\n");
    expect(run.console).toContain("moss-fstx: state 1 is active");

    // And forward again from there.
    const forward = bootCopy(run.image, "forward-to-3", "rw moss.fstx=3");
    expectOnState(forward.image, "3");
    expect(usrOf(forward.image)).toEqual(trees.get("3")!);
    expect(imageFile(forward.image, "/.moss/root/1/usr/.stateID")).toBe("1");
  }, 300_000);

  test("without moss.fstx, or with the current state, the root is untouched", () => {
    for (const [name, append] of [["no-fstx", "rw"], ["same-state", "rw moss.fstx=3"]] as const) {
      const run = bootCopy(images.base, name, append);
      expectOnState(run.image, "3");
      expect(imageFile(run.image, "/.moss/boot-sync-pending")).toBeUndefined();
      expect(run.console).not.toContain("moss-fstx: activating");
    }
  }, 300_000);

  test("a state that does not exist, or whose archive is gone, boots the current state and says why", () => {
    const missing = bootCopy(images.base, "missing-state", "rw moss.fstx=9");
    expectOnState(missing.image, "3");
    expect(missing.console).toContain("state 9 doesn't exist");
    expect(missing.console).toContain("booting state 3");

    const gone = bootCopy(images.noArchive2, "archive-gone", "rw moss.fstx=2");
    expectOnState(gone.image, "3");
    expect(gone.console).toContain("state 2 has no archived tree");
    expect(usrOf(gone.image)).toEqual(trees.get("3")!);
  }, 300_000);

  test("a root mounted read-only (ro) is rolled back too, here from an initramfs built with --nostrip", () => {
    const run = bootCopy(images.base, "read-only", "ro moss.fstx=1", "nostrip");
    expectOnState(run.image, "1");
    expect(usrOf(run.image)).toEqual(trees.get("1")!);
    expect(imageFile(run.image, "/.moss/root/3/usr/.stateID")).toBe("3");
  }, 300_000);

  // npm run test:vm:soak: the main case again and again (MOSS_VM_SOAK times), every boot checked.
  const soakRuns = Number(process.env.MOSS_VM_SOAK ?? 0);
  test.skipIf(!(soakRuns > 0))(`soak: ${soakRuns} rollbacks from state 3 to 1 in a row`, () => {
    let passed = 0;
    for (let i = 1; i <= soakRuns; i++) {
      const run = bootCopy(images.base, `soak-${i}`, "rw moss.fstx=1");
      expectOnState(run.image, "1");
      expect(usrOf(run.image)).toEqual(trees.get("1")!);
      expect(imageFile(run.image, "/.moss/root/3/usr/.stateID")).toBe("3");
      fs.rmSync(run.image);
      passed++;
      console.log(`soak: ${passed}/${soakRuns} passed`);
    }
    expect(passed).toBe(soakRuns);
  }, 3_600_000);
});
