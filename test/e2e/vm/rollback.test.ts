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
import { boot, buildInitramfs, CACHE, ensureKernel, ensureVmTools, imageFile, rootImage, taskPool, type Boot, type Kernel } from "./vm.ts";

const unavailable = ensureVmTools();
if (unavailable) console.log(`VM tests skipped: ${unavailable}`);

describe.skipIf(unavailable !== undefined)("offline rollback at early boot", () => {
  const work = tempDir("moss-vm-");
  let kernel: Kernel;
  const initramfs = { stripped: path.join(CACHE, "initramfs-default.img"), nostrip: path.join(CACHE, "initramfs-nostrip.img") };
  const images = { base: path.join(work, "base.img"), noArchive2: path.join(work, "no-archive-2.img") };
  const trees = new Map<string, Map<string, string>>();

  // npm run test:vm:soak: the main case again and again (MOSS_VM_SOAK times), every boot checked.
  const soakRuns = Number(process.env.MOSS_VM_SOAK ?? 0);

  /**
   * Every boot of the suite, started as soon as the images exist and run two at a time in the
   * background (a TCG guest keeps one core busy); each test awaits the boots it checks. A boot
   * that continues from another's image waits for that one first.
   */
  const boots = new Map<string, Promise<Boot & { image: string }>>();
  const pool = taskPool();
  function schedule(name: string, from: string | (() => Promise<{ image: string }>), append: string, variant: keyof typeof initramfs = "stripped") {
    const started = (async () => {
      const image = typeof from === "string" ? from : (await from()).image;
      return pool(() => bootCopy(image, name, append, variant));
    })();
    started.catch(() => {}); // reported by the test that awaits it
    boots.set(name, started);
  }
  const booted = (name: string) => boots.get(name)!;

  beforeAll(async () => {
    kernel = ensureKernel();
    const binary = ensureBinary();
    const packages = distro(path.join(work, "repo"));
    const built = await buildInitramfs(kernel, binary, [
      { out: initramfs.stripped, args: [] },
      { out: initramfs.nostrip, args: ["--nostrip"] },
    ]);
    for (const { out, bytes, seconds } of built) console.log(`initramfs ${path.basename(out)}: ${bytes} bytes${seconds === undefined ? " (cached)" : ` in ${seconds.toFixed(1)} s`}`);
    const root = path.join(work, "root");
    for (const [id, tree] of threeStateRoot(root, await packages)) trees.set(id, tree);
    rootImage(root, images.base);
    fs.rmSync(path.join(root, ".moss", "root", "2"), { recursive: true });
    rootImage(root, images.noArchive2);
    if (soakRuns > 0) return;
    schedule("back-to-1", images.base, "rw moss.fstx=1");
    schedule("exchange-killed", images.base, "rw moss.fstx=1 systemd.setenv=MOSS_FAULT_KILL=activate-moved rd.shell=0 rd.emergency=poweroff");
    schedule("forward-to-3", () => booted("back-to-1"), "rw moss.fstx=3");
    schedule("after-exchange-killed", () => booted("exchange-killed"), "rw moss.fstx=1");
    schedule("no-fstx", images.base, "rw");
    schedule("same-state", images.base, "rw moss.fstx=3");
    schedule("missing-state", images.base, "rw moss.fstx=9");
    schedule("archive-gone", images.noArchive2, "rw moss.fstx=2");
    schedule("read-only", images.base, "ro moss.fstx=1", "nostrip");
  }, 600_000);
  afterAll(async () => {
    // Boots no test awaited (a run filtered with -t) finish before their images go.
    await Promise.allSettled(boots.values());
    fs.rmSync(work, { recursive: true, force: true });
  }, 600_000);

  /** A fresh copy of `image`, booted with `append`. */
  async function bootCopy(image: string, name: string, append: string, variant: keyof typeof initramfs = "stripped") {
    const copy = path.join(work, `${name}.img`);
    spawnSync("cp", ["--sparse=always", image, copy]);
    const result = await boot(kernel, initramfs[variant], copy, append);
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

  test("moss.fstx=1 rolls the root back from state 3 before switch-root, with dracut's default stripping", async () => {
    const run = await booted("back-to-1");
    expectOnState(run.image, "1");
    expect(usrOf(run.image)).toEqual(trees.get("1")!);
    expect(imageFile(run.image, "/.moss/root/3/usr/.stateID")).toBe("3");
    expect(imageFile(run.image, "/.moss/boot-sync-pending")).toBe("1\n");
    expect(run.console).toContain("moss-fstx: state 1 is active");

    // And forward again from there.
    const forward = await booted("forward-to-3");
    expectOnState(forward.image, "3");
    expect(usrOf(forward.image)).toEqual(trees.get("3")!);
    expect(imageFile(forward.image, "/.moss/root/1/usr/.stateID")).toBe("1");
  }, 600_000);

  test("without moss.fstx, or with the current state, the root is untouched", async () => {
    for (const name of ["no-fstx", "same-state"]) {
      const run = await booted(name);
      expectOnState(run.image, "3");
      expect(imageFile(run.image, "/.moss/boot-sync-pending")).toBeUndefined();
      expect(run.console).not.toContain("moss-fstx: activating");
    }
  }, 600_000);

  test("a state that does not exist, or whose archive is gone, boots the current state and says why", async () => {
    const missing = await booted("missing-state");
    expectOnState(missing.image, "3");
    expect(missing.console).toContain("state 9 doesn't exist");
    expect(missing.console).toContain("booting state 3");

    const gone = await booted("archive-gone");
    expectOnState(gone.image, "3");
    expect(gone.console).toContain("state 2 has no archived tree");
    expect(usrOf(gone.image)).toEqual(trees.get("3")!);
  }, 600_000);

  test("moss stopped during the /usr exchange fails the boot into dracut's emergency target; the next boot recovers and rolls back", async () => {
    // MOSS_FAULT_KILL: the kill lands after state 1's tree was moved into staging and before the
    // exchange. The emergency target powers the guest off instead of waiting for a shell (rd.shell=0).
    const failed = await booted("exchange-killed");
    expect(imageFile(failed.image, "/usr/.stateID")).toBe("3");
    expect(usrOf(failed.image)).toEqual(trees.get("3")!);
    // The guest's init never ran: the boot stopped in the initramfs.
    expect(imageFile(failed.image, "/vm-test/booted-state")).toBeUndefined();
    expect(JSON.parse(imageFile(failed.image, "/.moss/root/.moss-transaction")!)).toMatchObject({ kind: "activate", stateId: 1, previous: 3 });
    expect(failed.console).toContain("failed during the /usr exchange");
    expect(failed.console).toContain("Boot has failed");

    const recovered = await booted("after-exchange-killed");
    expectOnState(recovered.image, "1");
    expect(usrOf(recovered.image)).toEqual(trees.get("1")!);
    expect(imageFile(recovered.image, "/.moss/root/3/usr/.stateID")).toBe("3");
    expect(imageFile(recovered.image, "/.moss/root/.moss-transaction")).toBeUndefined();
  }, 600_000);

  test("a root mounted read-only (ro) is rolled back too, here from an initramfs built with --nostrip", async () => {
    const run = await booted("read-only");
    expectOnState(run.image, "1");
    expect(usrOf(run.image)).toEqual(trees.get("1")!);
    expect(imageFile(run.image, "/.moss/root/3/usr/.stateID")).toBe("3");
  }, 600_000);

  test.skipIf(!(soakRuns > 0))(`soak: ${soakRuns} rollbacks from state 3 to 1 in a row`, async () => {
    let passed = 0;
    for (let i = 1; i <= soakRuns; i++) {
      const run = await bootCopy(images.base, `soak-${i}`, "rw moss.fstx=1");
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
