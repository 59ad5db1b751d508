import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { CACHEDIR_TAG, InstallationError, openInstallation } from "../../src/installation/index.ts";
import { thrownBy } from "../helpers/errors.ts";

const temp = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), "moss-open-"));
const INDEX = path.resolve(import.meta.dir, "../../src/installation/index.ts");

afterAll(() => fs.rmSync(temp, { recursive: true, force: true }));

function freshRoot(name: string): string {
  const root = path.join(temp, name);
  fs.mkdirSync(root);
  return root;
}

/** Every path under `dir`, relative, sorted; directories end in `/`. */
function listing(dir: string): string[] {
  const entries = fs.readdirSync(dir, { recursive: true, withFileTypes: true });
  return entries.map((e) => path.relative(dir, path.join(e.parentPath, e.name)) + (e.isDirectory() ? "/" : "")).sort();
}

const openError = (fn: () => unknown): InstallationError => thrownBy(InstallationError, fn);

describe("opening a fresh root", () => {
  test("creates exactly the .moss skeleton of spec §1.1 and nothing else", () => {
    const root = freshRoot("fresh");
    openInstallation(root);
    expect(listing(root)).toEqual([
      ".moss/",
      ".moss/assets/",
      ".moss/cache/",
      ".moss/cache/CACHEDIR.TAG",
      ".moss/db/",
      ".moss/repo/",
      ".moss/root/",
      ".moss/root/isolation/",
      ".moss/root/staging/",
    ]);
  });

  test("writes Rust's CACHEDIR.TAG byte for byte, without a final newline", () => {
    const root = freshRoot("tag");
    openInstallation(root);
    const tag = fs.readFileSync(path.join(root, ".moss", "cache", "CACHEDIR.TAG"), "utf8");
    expect(tag).toBe(
      "Signature: 8a477f597d28d172789f06886806bc55\n" +
        "# This file is a cache directory tag created by moss.\n" +
        "# For information about cache directory tags see https://bford.info/cachedir/",
    );
    expect(tag).toBe(CACHEDIR_TAG);
  });

  test("leaves an existing CACHEDIR.TAG alone", () => {
    const root = freshRoot("tag-kept");
    fs.mkdirSync(path.join(root, ".moss", "cache"), { recursive: true });
    fs.writeFileSync(path.join(root, ".moss", "cache", "CACHEDIR.TAG"), "Signature: 8a477f597d28d172789f06886806bc55\n");
    openInstallation(root);
    expect(fs.readFileSync(path.join(root, ".moss", "cache", "CACHEDIR.TAG"), "utf8")).toBe("Signature: 8a477f597d28d172789f06886806bc55\n");
  });

  test("names every moss path under the canonical root", () => {
    const real = freshRoot("real");
    const link = path.join(temp, "link-to-real");
    fs.symlinkSync(real, link);
    const installation = openInstallation(link);
    const moss = path.join(real, ".moss");
    expect(installation.root).toBe(real);
    expect({
      mossDir: installation.mossDir,
      dbDir: installation.dbDir,
      cacheDir: installation.cacheDir,
      assetsDir: installation.assetsDir,
      rootsDir: installation.rootsDir,
      stagingDir: installation.stagingDir,
      isolationDir: installation.isolationDir,
      repoDir: installation.repoDir,
      usrPath: installation.usrPath,
      archive: installation.archivePath(12),
    }).toEqual({
      mossDir: moss,
      dbDir: path.join(moss, "db"),
      cacheDir: path.join(moss, "cache"),
      assetsDir: path.join(moss, "assets"),
      rootsDir: path.join(moss, "root"),
      stagingDir: path.join(moss, "root", "staging"),
      isolationDir: path.join(moss, "root", "isolation"),
      repoDir: path.join(moss, "repo"),
      usrPath: path.join(real, "usr"),
      archive: path.join(moss, "root", "12"),
    });
    expect(installation.mutable).toBe(true);
    expect(installation.activeStateId).toBeUndefined();
  });

  test("with --cache, downloads go there but the tag still goes to .moss/cache", () => {
    const root = freshRoot("custom-cache");
    const cache = freshRoot("elsewhere-cache");
    const installation = openInstallation(root, { cacheDir: cache });
    expect(installation.cacheDir).toBe(cache);
    expect(installation.assetsDir).toBe(path.join(root, ".moss", "assets"));
    expect(listing(cache)).toEqual([]);
    expect(fs.existsSync(path.join(root, ".moss", "cache", "CACHEDIR.TAG"))).toBe(true);
  });

  test("a forced read-only open creates nothing and is not mutable", () => {
    const root = freshRoot("forced-ro");
    const installation = openInstallation(root, { readOnly: true });
    expect(installation.mutable).toBe(false);
    expect(listing(root)).toEqual([]);
  });
});

describe("invalid roots", () => {
  test("a missing root is 'Root is invalid', naming the path", () => {
    const missing = path.join(temp, "no-such-root");
    const error = openError(() => openInstallation(missing));
    expect(error.code).toBe("INSTALLATION_ROOT");
    expect(error.message).toBe(`Root is invalid: "${missing}" does not exist`);
  });

  test("a file as root is 'Root is invalid'", () => {
    const file = path.join(temp, "root-file");
    fs.writeFileSync(file, "");
    const error = openError(() => openInstallation(file));
    expect(error.code).toBe("INSTALLATION_ROOT");
    expect(error.message).toBe(`Root is invalid: "${file}" is not a directory`);
  });

  test("a bad --cache is 'Cache dir is invalid' and nothing is created", () => {
    const root = freshRoot("bad-cache");
    const missing = path.join(temp, "no-such-cache");
    const error = openError(() => openInstallation(root, { cacheDir: missing }));
    expect(error.code).toBe("INSTALLATION_CACHE");
    expect(error.message).toBe(`Cache dir is invalid: "${missing}" does not exist`);
    expect(listing(root)).toEqual([]);
  });
});

describe("the active state", () => {
  test("comes from usr/.stateID, surrounding whitespace allowed", () => {
    const root = freshRoot("state-file");
    fs.mkdirSync(path.join(root, "usr"));
    fs.writeFileSync(path.join(root, "usr", ".stateID"), " 42\n");
    expect(openInstallation(root).activeStateId).toBe(42);
  });

  test("comes from the legacy /usr symlink when there is no usable .stateID", () => {
    const root = freshRoot("state-legacy");
    fs.mkdirSync(path.join(root, ".moss", "root", "7", "usr"), { recursive: true });
    fs.writeFileSync(path.join(root, ".moss", "root", "7", "usr", ".stateID"), "not a number");
    fs.symlinkSync(".moss/root/7/usr", path.join(root, "usr"));
    expect(openInstallation(root).activeStateId).toBe(7);
  });

  test("is undefined without .stateID or legacy link", () => {
    const root = freshRoot("state-none");
    fs.mkdirSync(path.join(root, "usr"));
    fs.writeFileSync(path.join(root, "usr", ".stateID"), "4294967296");
    expect(openInstallation(root).activeStateId).toBeUndefined();
  });
});

describe.skipIf(process.geteuid?.() !== 0)("mutability for a user other than root", () => {
  // Run as nobody: the root user is always mutable, so only another uid can show the access test.
  beforeAll(() => fs.chmodSync(temp, 0o755));

  function openAsNobody(root: string): { mutable: boolean; listing: string[]; locked: boolean } {
    const script = `import { openInstallation } from ${JSON.stringify(INDEX)};
      const installation = openInstallation(${JSON.stringify(root)});
      installation.lock(undefined, "shared");
      const listing = require("node:fs").readdirSync(${JSON.stringify(root)}).sort();
      console.log(JSON.stringify({ mutable: installation.mutable, listing, locked: installation.locked }));`;
    const result = spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, "-e", script], {
      encoding: "utf8", cwd: temp, env: { ...process.env, HOME: temp },
    });
    if (result.status !== 0) throw new Error(result.stderr);
    return JSON.parse(result.stdout);
  }

  test("a root it cannot write is read-only and stays untouched", () => {
    const root = freshRoot("not-writable");
    fs.chmodSync(root, 0o755);
    expect(openAsNobody(root)).toEqual({ mutable: false, listing: [], locked: false });
  });

  test("a read-only reader takes a shared lock once a writer has made the lockfile", () => {
    const root = freshRoot("not-writable-locked");
    fs.chmodSync(root, 0o755);
    const writer = openInstallation(root);
    writer.lock();
    writer.unlock();
    expect(openAsNobody(root)).toEqual({ mutable: false, listing: [".moss"], locked: true });
  });

  test("a root it can write is mutable and gets its skeleton", () => {
    const root = freshRoot("writable");
    fs.chmodSync(root, 0o777);
    expect(openAsNobody(root)).toEqual({ mutable: true, listing: [".moss"], locked: true });
    expect(fs.statSync(path.join(root, ".moss", "db")).uid).toBe(65534);
  });
});
