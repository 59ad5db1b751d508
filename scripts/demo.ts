/**
 * The README's first command: what moss-ts does today, end to end, on an embedded default.
 *
 *   bun scripts/demo.ts [--keep]
 *
 * Builds `dist/moss` when it is stale, generates a small seeded distribution of `.stone`
 * packages, packs one package by hand from a directory tree, then runs the real binary on them:
 * `inspect`, `inspect --check` of every package, `extract` with the files verified on disk; then
 * publishes them as a `file://` repository and installs from it into a throwaway root, removes,
 * publishes a new release and syncs to it, lists the states and rolls back; every change of
 * state also writes the boot entries into a directory standing for the ESP (`--esp`). Last, the
 * active state's system model is exported and a second root is synced to it.
 * Everything lives in one temporary directory, removed at the end unless `--keep`.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { freshBinary, ROOT } from "./bench/binary.ts";
import { makeDistro } from "./lib/distro.ts";

const { values: args } = parseArgs({ options: { keep: { type: "boolean", default: false } } });
const color = process.stdout.isTTY && !process.env.NO_COLOR;
const bold = (text: string) => (color ? `\x1b[1m${text}\x1b[0m` : text);
const step = (title: string) => console.log(`\n${bold(`== ${title}`)}`);

const moss = freshBinary((line) => console.log(line));
const work = fs.mkdtempSync(path.join(os.tmpdir(), "moss-demo-"));

/** Paths under the demo directory, shortened for reading. */
const shown = (text: string) => text.replaceAll(work, "$DEMO");

/** Run the binary as a user would, echoing the command (or `echo` for a long one) and its output. */
function run(argv: string[], opts: { quiet?: boolean; head?: number; echo?: string } = {}): string {
  console.log(`$ moss ${opts.echo ?? shown(argv.join(" "))}`);
  const result = spawnSync(moss, argv, { encoding: "utf8", cwd: work });
  const out = `${result.stdout}${result.stderr}`.trimEnd();
  if (!opts.quiet) {
    const lines = shown(out).split("\n");
    console.log(lines.slice(0, opts.head ?? lines.length).join("\n"));
    if (opts.head && lines.length > opts.head) console.log(`… (${lines.length - opts.head} more lines)`);
  }
  if (result.status !== 0) throw new Error(`moss ${argv[0]} exited ${result.status}:\n${out}`);
  return result.stdout;
}

/** scripts/pack-stone.ts makes the hand-made `hello` package from `tree`; what it printed. */
function packHello(tree: string, version: string, release: number, out: string): string {
  const pack = spawnSync(process.execPath, [
    path.join(ROOT, "scripts", "pack-stone.ts"), tree, "--name", "hello", "--version", version, "--release", String(release),
    "--summary", "Says hello", "--license", "MPL-2.0", "--provides", "binary(hello)", "--depends", "binary(sh)", "-o", out,
  ], { encoding: "utf8" });
  if (pack.status !== 0) throw new Error(`pack-stone failed:\n${pack.stderr}`);
  return pack.stdout.trimEnd();
}

try {
  console.log(`moss-ts demo in ${work} (shown as $DEMO)`);
  run(["--version"]);

  step("1. Generate a small seeded distribution of .stone packages");
  const started = performance.now();
  const distro = await makeDistro({ out: path.join(work, "repo"), seed: 1 });
  const { totals } = distro;
  console.log(
    `${totals.packages} packages, ${totals.files} files (${totals.symlinks} symlinks), ` +
      `${(totals.plainBytes / 2 ** 20).toFixed(1)} MiB plain → ${(totals.stoneBytes / 2 ** 20).toFixed(1)} MiB of .stone ` +
      `in ${((performance.now() - started) / 1000).toFixed(1)} s; kernel ${distro.kernel.version} in ${distro.kernel.package}`,
  );

  step("2. Pack a package by hand from a directory tree");
  const tree = path.join(work, "hello-tree");
  fs.mkdirSync(path.join(tree, "bin"), { recursive: true });
  fs.mkdirSync(path.join(tree, "share", "doc", "hello"), { recursive: true });
  fs.writeFileSync(path.join(tree, "bin", "hello"), "#!/bin/sh\necho 'Hello from moss-ts'\n", { mode: 0o755 });
  fs.writeFileSync(path.join(tree, "share", "doc", "hello", "README"), "A package packed by scripts/pack-stone.ts.\n");
  fs.symlinkSync("hello", path.join(tree, "bin", "hi"));
  const hello = path.join(work, "hello-1.0-1-1-x86_64.stone");
  console.log(shown(packHello(tree, "1.0", 1, hello)));

  step("3. Inspect it (the same text as Rust moss)");
  run(["inspect", hello]);

  step("4. Verify every payload, checksum and file digest of every package");
  const stones = fs.readdirSync(path.join(work, "repo")).filter((f) => f.endsWith(".stone")).map((f) => path.join(work, "repo", f));
  const check = run(["inspect", "--check", hello, ...stones], { quiet: true, echo: "inspect --check $DEMO/hello-1.0-1-1-x86_64.stone $DEMO/repo/*.stone" });
  const ok = check.split("\n").filter((l) => l === "Result: OK").length;
  console.log(`${ok} of ${stones.length + 1} packages: Result: OK`);

  step("5. Extract the kernel package and the hand-made one");
  const kernel = stones.find((s) => path.basename(s).startsWith(`${distro.kernel.package}-`))!;
  const out = path.join(work, "extracted");
  run(["extract", "-o", out, hello, kernel]);
  for (const dir of fs.readdirSync(out)) {
    const files = (fs.readdirSync(path.join(out, dir), { recursive: true }) as string[]).sort();
    console.log(`${dir}/: ${files.length} entries, e.g. ${files.filter((f) => f.split("/").length >= 3).slice(0, 3).join(", ")}`);
  }
  const hi = path.join(out, "hello-1.0-1.x86_64", "usr", "bin", "hi");
  const script = spawnSync(hi, { encoding: "utf8" });
  if (script.status !== 0) throw new Error(`${hi} did not run: ${script.error?.message ?? script.stderr}`);
  console.log(`$ ${shown(hi)}\n${script.stdout.trimEnd()}`);

  step("6. Machine-readable output");
  const json = JSON.parse(run(["inspect", "--json", hello], { quiet: true }));
  console.log(`inspect --json: ${json[0].packages[0].name} ${json[0].packages[0].version}, ${json[0].layout.length} layout entries, ` +
    `providers ${JSON.stringify(json[0].packages[0].providers)}`);

  step("7. Publish the packages as a repository, and add it to a throwaway root");
  const repo = path.join(work, "repo");
  fs.copyFileSync(hello, path.join(repo, path.basename(hello)));
  const indexed = run(["index", repo], { quiet: true });
  console.log(shown(indexed.trimEnd().split("\n").at(-1)!));
  const root = path.join(work, "root");
  fs.mkdirSync(root);
  // The root's ESP: a directory here (on a machine, moss finds and mounts the partition itself).
  const esp = path.join(work, "esp");
  fs.mkdirSync(esp);
  run(["-D", root, "repo", "add", "local", `file://${repo}/stone.index`, "-c", "the demo's packages"]);
  run(["-D", root, "repo", "list"]);

  step("8. Install by name from the repository, dependencies and all, with a kernel and systemd-boot: state 1");
  const apps = distro.packages.filter((p) => p.role === "app").map((p) => p.name);
  run(["-D", root, "--esp", esp, "-y", "install", apps[0]!, "hello", distro.kernel.package, distro.bootloader.package], { head: 14 });
  run(["-D", root, "search", "hello"]);

  step("9. Install more (state 2), then remove it again (state 3)");
  run(["-D", root, "--esp", esp, "-y", "install", apps[1]!], { quiet: true });
  run(["-D", root, "--esp", esp, "-y", "remove", apps[1]!]);

  step("10. Publish hello 2.0 and sync: state 4");
  fs.writeFileSync(path.join(tree, "bin", "hello"), "#!/bin/sh\necho 'Hello again from moss-ts'\n", { mode: 0o755 });
  packHello(tree, "2.0", 2, path.join(repo, "hello-2.0-2-1-x86_64.stone"));
  run(["index", repo], { quiet: true });
  run(["-D", root, "repo", "update"]);
  run(["-D", root, "list", "sync"]);
  run(["-D", root, "--esp", esp, "-y", "sync"]);
  run(["-D", root, "state", "list"], { head: 24 });

  step("11. Boot entries: every state with its kernel, written on each change of state");
  run(["-D", root, "--esp", esp, "boot", "status"]);
  const listEsp = () => {
    const files = (fs.readdirSync(esp, { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(esp, f)).isFile()).sort();
    console.log(files.map((f) => `$DEMO/esp/${f}`).join("\n"));
  };
  listEsp();
  const newest = (fs.readdirSync(path.join(esp, "loader", "entries")) as string[]).sort().at(-1)!;
  console.log(`$ cat $DEMO/esp/loader/entries/${newest}\n${fs.readFileSync(path.join(esp, "loader", "entries", newest), "utf8").trimEnd()}`);

  step("12. Roll back to state 1 (the newer states leave the boot menu), and check every file of every state");
  run(["-D", root, "state", "diff", "1", "4"]);
  run(["-D", root, "--esp", esp, "-y", "state", "activate", "1"]);
  console.log(`$DEMO/root/usr/.stateID: ${fs.readFileSync(path.join(root, "usr", ".stateID"), "utf8")}`);
  listEsp();
  run(["-D", root, "state", "verify"]);

  step("13. Wipe the ESP and rebuild it from the root alone");
  for (const name of fs.readdirSync(esp)) fs.rmSync(path.join(esp, name), { recursive: true });
  run(["-D", root, "--esp", esp, "boot", "sync"], { head: 1 });
  listEsp();

  step("14. The system model: the state's model, exported, makes a second root with the same packages");
  const model = run(["-D", root, "state", "export"], { head: 16 });
  const modelFile = path.join(work, "system-model.kdl");
  fs.writeFileSync(modelFile, model);
  const second = path.join(work, "second-root");
  const secondEsp = path.join(work, "second-esp");
  fs.mkdirSync(second);
  fs.mkdirSync(secondEsp);
  run(["-D", second, "--esp", secondEsp, "-y", "sync", "-u", "--import", modelFile], { head: 6 });
  const names = (dir: string) => run(["-D", dir, "list", "installed", "--json"], { quiet: true });
  const packageSet = (dir: string) => (JSON.parse(names(dir)) as { name: string }[]).map((p) => p.name).sort().join(" ");
  console.log(`same packages on both roots: ${packageSet(root) === packageSet(second)}`);

  console.log(`\n${bold("Done.")}`);
} finally {
  if (args.keep) console.log(`kept ${work}`);
  else fs.rmSync(work, { recursive: true, force: true });
}
