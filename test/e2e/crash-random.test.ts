/**
 * Crash safety under kills the binary did not choose (issue 4): the test SIGKILLs real installs at
 * seeded-random instants — a 20,000-file distribution into an empty root, then a second state on
 * top of a complete first one — and checks what the next run finds. Whatever the instant: the old
 * or the new state is active with its exact tree (or, before the first state, none and no rows),
 * staging is empty, the journal is gone, `state verify` is clean, every archived state activates
 * exactly, and the interrupted command simply runs again. crash.test.ts covers the named steps;
 * this covers the instants in between (mostly inside the unpack and the blit, where time goes).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { parseDependency, packTree } from "../../src/stone/index.ts";
import { ensureBinary, moss, NO_MACHINE } from "../helpers/moss.ts";
import { distro, readStateId, snapshot, type Distro } from "../helpers/roots.ts";
import { scratchTempDir, seededRandom, startMoss, withStateId } from "../helpers/runs.ts";

/** Kills of the first install, and of a second state (half removals, half installs). */
const FIRST_KILLS = 8;
const SECOND_KILLS = 6;
const TMPFS_MAGIC = 0x01021994;

// The distribution is ~140 MB and one root ~300 MB at a time; on a memory filesystem a root goes in a second.
const work = scratchTempDir("moss-crash-random-", 2 ** 30);
/** Deleting a root on a disk costs more than the install: park them and delete at the end there. */
const deleteEachRun = fs.statfsSync(work).type === TMPFS_MAGIC;
const parked = path.join(work, "parked");
const random = seededRandom(0x4d055);
let packages: Distro;
let everything: string[];
let extraStone: string;
let leaf: string;
let rootCount = 0;

interface Reference {
  tree: Map<string, string>;
  /** Wall time of the uninterrupted command, binary start-up included (the kill window). */
  ms: number;
}
let first: Reference;
const second = new Map<"remove" | "install", Reference & { args: () => string[] }>();
const kills: string[] = [];

function newRoot(): string {
  const root = path.join(work, `root-${++rootCount}`);
  fs.mkdirSync(root);
  return root;
}

function retire(root: string) {
  if (deleteEachRun) fs.rmSync(root, { recursive: true, force: true });
  else fs.renameSync(root, path.join(parked, path.basename(root)));
}

function must(root: string, args: string[]) {
  const result = moss(["-D", root, "-y", ...args]);
  if (result.status !== 0) throw new Error(`moss ${args.join(" ")} exited ${result.status}\n${result.stdout}${result.stderr}`);
  return result;
}

async function timed(root: string, args: string[]): Promise<number> {
  const started = performance.now();
  const run = startMoss(["-D", root, "-y", ...args]);
  const status = await run.proc.exited;
  if (status !== 0) throw new Error(`moss ${args.join(" ")} exited ${status}\n${await run.output}`);
  return performance.now() - started;
}

/** Start the command, SIGKILL it after `delay` ms unless it finished first; which happened. */
async function killAfter(root: string, args: string[], delay: number): Promise<"killed" | "completed"> {
  const run = startMoss(["-D", root, "-y", ...args]);
  await Promise.race([Bun.sleep(delay), run.proc.exited]);
  if (run.proc.exitCode === null) run.proc.kill("SIGKILL");
  await run.proc.exited;
  if (run.proc.signalCode === "SIGKILL") return "killed";
  if (run.proc.exitCode === 0) return "completed";
  throw new Error(`moss ${args.join(" ")} failed by itself (${run.proc.exitCode ?? run.proc.signalCode})\n${await run.output}`);
}

/** The kill instant as a fraction of the window: stratified, so every run covers its own slice. */
function fractions(count: number): number[] {
  return Array.from({ length: count }, (_, i) => (i + random()) / count);
}

function statesOf(root: string): { id: number; active: boolean }[] {
  return JSON.parse(must(root, ["state", "list", "--json"]).stdout);
}

function stateRows(root: string): number[] {
  const db = new Database(path.join(root, ".moss", "db", "state"), { readonly: true });
  try {
    return db.query<{ id: number }, []>("SELECT id FROM state ORDER BY id").all().map((r) => r.id);
  } finally {
    db.close();
  }
}

function usrOf(root: string, state?: number): string {
  return state === undefined ? path.join(root, "usr") : path.join(root, ".moss", "root", String(state), "usr");
}

/** What recovery must always leave, whichever state won: no transaction in flight, no half trees. */
function expectNothingInFlight(root: string) {
  expect(fs.readdirSync(path.join(root, ".moss", "root", "staging"))).toEqual([]);
  expect(fs.existsSync(path.join(root, ".moss", "root", ".moss-transaction"))).toBe(false);
}

function expectRootLinks(root: string) {
  const links = Object.fromEntries(["bin", "sbin", "lib", "lib64", "lib32"].map((name) => [name, fs.readlinkSync(path.join(root, name))]));
  expect(links).toEqual({ bin: "usr/bin", sbin: "usr/sbin", lib: "usr/lib", lib64: "usr/lib", lib32: "usr/lib32" });
}

/** After the command that follows recovery: no unpack leftovers and an empty trash. */
function expectNoLeftovers(root: string) {
  const assets = path.join(root, ".moss", "assets", "v2");
  const parts = (fs.readdirSync(assets, { recursive: true }) as string[]).filter((f) => f.endsWith(".part"));
  expect(parts).toEqual([]);
  const content = path.join(root, ".moss", "cache", "content");
  expect(fs.existsSync(content) ? fs.readdirSync(content) : []).toEqual([]);
  const trash = path.join(root, ".moss", "root", ".trash");
  expect(fs.existsSync(trash) ? fs.readdirSync(trash) : []).toEqual([]);
}

function expectVerifyClean(root: string) {
  // No -y: a damaged root would be reported (exit 1), never silently repaired.
  const verify = moss(["-D", root, "state", "verify"]);
  expect(verify.stdout.trim()).toBe("No issues found");
  expect(verify.status).toBe(0);
}

/** A package that is not part of the distribution and needs one of its libraries. */
async function makeExtraPackage(dir: string): Promise<string> {
  const tree = path.join(dir, "tree");
  const next = seededRandom(99);
  for (let i = 0; i < 400; i++) {
    const file = path.join(tree, "share", "crash-extra", `d${i % 20}`, `f${i}.dat`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, Buffer.from(Array.from({ length: 512 + (i % 7) * 1000 }, () => Math.floor(next() * 256))));
  }
  fs.mkdirSync(path.join(tree, "bin"), { recursive: true });
  fs.symlinkSync("../share/crash-extra/d0/f0.dat", path.join(tree, "bin", "crash-extra"));
  const out = path.join(dir, "crash-extra-1.0-1-1-x86_64.stone");
  await packTree(tree, {
    name: "crash-extra", version: "1.0", release: 1, buildRelease: 1, architecture: "x86_64", summary: "extra",
    description: "A package installed on top of a complete state", sourceId: "crash-extra", homepage: "https://example.invalid",
    licenses: ["MIT"], dependencies: [parseDependency("name(glibc)")], providers: [],
  }, out, { level: 3 });
  fs.rmSync(tree, { recursive: true });
  return out;
}

/** A package nothing else needs, so removing it removes it alone. */
function leafPackage(distribution: Distro): string {
  const needed = new Set(distribution.manifest.packages.flatMap((p) => p.dependencies));
  const leaves = distribution.manifest.packages.filter((p) => !needed.has(`name(${p.name})`) && !p.providers.some((x) => needed.has(x)));
  const pick = leaves.sort((a, b) => b.files - a.files || (a.name < b.name ? -1 : 1))[0];
  if (!pick) throw new Error("the distribution has no leaf package");
  return pick.name;
}

beforeAll(async () => {
  fs.mkdirSync(parked);
  packages = await distro(path.join(work, "repo"), { seed: 11, files: 20_000 });
  everything = packages.manifest.packages.map((p) => packages.file(p.name));
  fs.mkdirSync(path.join(work, "extra"));
  extraStone = await makeExtraPackage(path.join(work, "extra"));
  leaf = leafPackage(packages);

  const reference = newRoot();
  const ms = await timed(reference, ["install", ...everything]);
  first = { tree: snapshot(usrOf(reference)), ms };
  expect(readStateId(reference)).toBe("1");
  expect(first.tree.size).toBeGreaterThan(20_000);
  retire(reference);

  const scenarios: [name: "remove" | "install", args: () => string[]][] = [["remove", () => ["remove", leaf]], ["install", () => ["install", extraStone]]];
  for (const [name, args] of scenarios) {
    const root = newRoot();
    must(root, ["install", ...everything]);
    const ms = await timed(root, args());
    expect(readStateId(root)).toBe("2");
    second.set(name, { tree: snapshot(usrOf(root)), ms, args });
    retire(root);
  }
  console.log(
    `[crash-random] ${packages.manifest.totals.files} files in ${packages.manifest.totals.packages} packages; reference install ${first.ms.toFixed(0)} ms, ` +
      `remove ${leaf} ${second.get("remove")!.ms.toFixed(0)} ms, install crash-extra ${second.get("install")!.ms.toFixed(0)} ms; roots on ${deleteEachRun ? "tmpfs" : "disk"}`,
  );
}, 600_000);

afterAll(() => {
  console.log(`[crash-random] ${kills.length} kills tried:\n  ${kills.join("\n  ")}`);
  fs.rmSync(work, { recursive: true, force: true });
});

describe("a first install killed at a random instant", () => {
  fractions(FIRST_KILLS).forEach((fraction, i) => {
    test(`kill ${i + 1}/${FIRST_KILLS} at ${(fraction * 100).toFixed(1)}% of the install leaves no state or state 1, and installing again gives state 1's tree`, async () => {
      const root = newRoot();
      const delay = fraction * first.ms;
      const outcome = await killAfter(root, ["install", ...everything], delay);

      const states = statesOf(root); // the first command after the kill: it recovers
      expectNothingInFlight(root);
      const live = states.length > 0;
      kills.push(`first install: ${delay.toFixed(0)} ms of ${first.ms.toFixed(0)} → ${outcome}, ${live ? "state 1 active" : "no state"}`);
      if (!live) {
        expect(outcome).toBe("killed");
        expect(stateRows(root)).toEqual([]);
        const usr = usrOf(root);
        expect(fs.existsSync(usr) ? fs.readdirSync(usr) : []).toEqual([]);
      } else {
        expect(states).toMatchObject([{ id: 1, active: true }]);
        expect(stateRows(root)).toEqual([1]);
        expect(snapshot(usrOf(root))).toEqual(first.tree);
        expectRootLinks(root);
      }
      expectVerifyClean(root);

      if (!live) {
        must(root, ["install", ...everything]);
        const id = readStateId(root);
        expect(statesOf(root)).toMatchObject([{ id: Number(id), active: true }]);
        expect(snapshot(usrOf(root))).toEqual(withStateId(first.tree, id));
        expectRootLinks(root);
      }
      expectNoLeftovers(root);
      retire(root);
    }, 180_000);
  });
});

describe("a second state killed at a random instant", () => {
  fractions(SECOND_KILLS).forEach((fraction, i) => {
    const scenario = i % 2 === 0 ? "remove" : "install";
    test(`kill ${i + 1}/${SECOND_KILLS} of ${scenario === "remove" ? "a removal" : "an install"} at ${(fraction * 100).toFixed(1)}% leaves state 1 or 2 whole`, async () => {
      const reference = second.get(scenario)!;
      const root = newRoot();
      must(root, ["install", ...everything]);
      const delay = fraction * reference.ms;
      const outcome = await killAfter(root, reference.args(), delay);

      const states = statesOf(root);
      expectNothingInFlight(root);
      const active = readStateId(root);
      kills.push(`${scenario} on state 1: ${delay.toFixed(0)} ms of ${reference.ms.toFixed(0)} → ${outcome}, state ${active} active`);
      expect(["1", "2"]).toContain(active);
      expect(states.find((s) => s.active)?.id).toBe(Number(active));
      expectRootLinks(root);
      if (active === "1") {
        expect(outcome).toBe("killed");
        expect(stateRows(root)).toEqual([1]);
        expect(snapshot(usrOf(root))).toEqual(first.tree);
      } else {
        expect(stateRows(root)).toEqual([1, 2]);
      }
      expectVerifyClean(root);

      // Run it again when it had not happened; then every state activates with its exact tree.
      if (active === "1") must(root, reference.args());
      const newest = readStateId(root);
      expect(newest).not.toBe("1");
      const newTree = withStateId(reference.tree, newest);
      expect(snapshot(usrOf(root))).toEqual(newTree);
      expect(snapshot(usrOf(root, 1))).toEqual(first.tree);
      must(root, ["state", "activate", "1"]);
      expect(snapshot(usrOf(root))).toEqual(first.tree);
      expect(snapshot(usrOf(root, Number(newest)))).toEqual(newTree);
      must(root, ["state", "activate", newest]);
      expect(snapshot(usrOf(root))).toEqual(newTree);
      expectNothingInFlight(root);
      expectNoLeftovers(root);
      retire(root);
    }, 180_000);
  });
});

describe("a kill between the swap and the root links (found by this suite's links check)", () => {
  // The swap made state 1 live but the process died before `bin`, `lib`, … were made; recovery
  // only sees an empty staging and a stale journal, so nothing ever makes them (spec §1.5, §3.16).
  test("recovery makes the root links of the live state", () => {
    const root = newRoot();
    const result = spawnSync(ensureBinary(), ["-D", root, "-y", "install", ...packages.closure("glibc")], {
      env: { ...process.env, MOSS_BOOT_HOST: NO_MACHINE, MOSS_FAULT_KILL: "archived" },
    });
    expect(result.signal).toBe("SIGKILL");
    expect(statesOf(root)).toMatchObject([{ id: 1, active: true }]);
    expectRootLinks(root);
    retire(root);
  });
});
