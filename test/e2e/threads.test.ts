/**
 * The compiled binary really unpacks and blits on worker threads. In the binary every module
 * shares the entry's import.meta.url, and a worker that cannot start falls back to the main
 * thread silently: only MOSS_PROFILE=1 shows which happened, so that is what is checked.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { BLIT_WORKER_MIN_ITEMS } from "../../src/constants.ts";
import { moss, tempDir } from "../helpers/moss.ts";
import { distro, snapshot, type Distro } from "../helpers/roots.ts";

const work = tempDir("moss-threads-");
let packages: Distro;
let stones: string[];

beforeAll(async () => {
  packages = await distro(path.join(work, "repo"), { seed: 5, files: BLIT_WORKER_MIN_ITEMS + 2_000 });
  stones = packages.manifest.packages.map((p) => packages.file(p.name));
}, 120_000);
afterAll(() => fs.rmSync(work, { recursive: true, force: true }), 120_000);

test("an install unpacks on a worker thread beside the main one and blits with a worker beside the main thread, and the tree is the same as on one thread", () => {
  const run = (name: string, threads: string) => {
    const root = path.join(work, name);
    fs.mkdirSync(root);
    const env = { MOSS_PROFILE: "1", MOSS_UNPACK_THREADS: threads, MOSS_BLIT_THREADS: threads };
    const result = moss(["-D", root, "-y", "install", ...stones], { env });
    if (result.status !== 0) throw new Error(`install exited ${result.status}\n${result.stdout}\n${result.stderr}`);
    return { root, profile: result.stderr };
  };
  const threaded = run("threaded", "2");
  expect(threaded.profile).toMatch(new RegExp(`\\[profile\\] unpack: ${stones.length} packages, this thread and 1 worker threads`));
  expect(threaded.profile).toMatch(/\[profile\] blit: \d+ entries, 1 worker threads beside this one/);
  expect(threaded.profile).not.toMatch(/worker .* (cannot start|failed)/);

  const single = run("single", "1");
  expect(single.profile).toMatch(/\[profile\] unpack: \d+ packages, this thread and 0 worker threads/);
  expect(single.profile).toMatch(/\[profile\] blit: \d+ entries, 0 worker threads/);
  expect(snapshot(path.join(threaded.root, "usr"))).toEqual(snapshot(path.join(single.root, "usr")));
}, 180_000);
