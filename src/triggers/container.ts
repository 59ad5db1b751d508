/**
 * The container transaction triggers run in (spec §5.6): new mount, PID, IPC, UTS and network
 * namespaces over `/.moss/root/isolation`, where a handler sees the new `/usr`, the root's `/etc`
 * (read-only for transaction triggers), `/proc`, `/sys`, `/dev` and an empty `/tmp`, and nothing
 * else: no `/home`, no `/var`, no network.
 *
 * Bun cannot clone(2) with a callback, so the moss binary runs itself twice: `__container`
 * unshares the namespaces and starts `__container-init`, which is PID 1 of the new PID namespace;
 * it binds the trees in, pivots into the isolation root, mounts `/proc` for its own namespace and
 * runs the handlers one after another, answering with one JSON line on stdout.
 */
import fs from "node:fs";
import path from "node:path";
import {
  CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWUTS, MNT_DETACH, mountWith, MS_BIND, MS_NODEV, MS_NOSUID,
  MS_PRIVATE, MS_RDONLY, MS_REC, MS_REMOUNT, MS_SLAVE, pivotRoot, unmount, unshare,
} from "../linux/index.ts";
import { MossError } from "../errors.ts";
import { ensureRootLinks } from "../installation/index.ts";

export const CONTAINER_COMMAND = "__container";
export const CONTAINER_INIT_COMMAND = "__container-init";

export interface Bind {
  source: string;
  /** Absolute inside the container. */
  target: string;
  readOnly: boolean;
}

export interface HandlerCall {
  run: string;
  args: string[];
}

export interface ContainerSpec {
  /** The empty directory that becomes `/` (`/.moss/root/isolation`). */
  root: string;
  binds: Bind[];
  handlers: HandlerCall[];
}

export interface HandlerResult {
  /** Exit status, or null when a signal ended it or it never started. */
  status: number | null;
  signal: string | null;
  /** Its stdout, then its stderr. */
  output: string;
  /** Why it could not be started (a missing program): the transaction fails. */
  spawnError?: string;
}

export class ContainerError extends MossError {
  constructor(message: string) {
    super("TRIGGER_CONTAINER", message);
    this.name = "ContainerError";
  }
}

/** The moss binary a process that is not one (a test, a script) runs as the container. */
export const SELF_ENV = "MOSS_SELF";

/** How this binary starts itself again: the compiled binary, `bun src/main.ts` in development. */
function selfCommand(): string[] {
  const override = process.env[SELF_ENV];
  if (override) return [override];
  return Bun.main.startsWith("/$bunfs/") || Bun.main === process.execPath ? [process.execPath] : [process.execPath, Bun.main];
}

/** Run the handlers in a container; one result per handler, in order. */
export function runInContainer(spec: ContainerSpec): HandlerResult[] {
  fs.mkdirSync(spec.root, { recursive: true, mode: 0o755 });
  // The container's root has the links every root has into its /usr.
  ensureRootLinks(spec.root);
  const child = Bun.spawnSync([...selfCommand(), CONTAINER_COMMAND, JSON.stringify(spec)], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const stdout = child.stdout.toString();
  const answer = stdout.trimEnd().split("\n").at(-1) ?? "";
  if (child.exitCode !== 0 || !answer.startsWith("{")) {
    throw new ContainerError(`the trigger container failed (exit ${child.exitCode ?? child.signalCode}): ${(child.stderr.toString() || stdout).trim().split("\n").at(-1) ?? ""}`);
  }
  return (JSON.parse(answer) as { results: HandlerResult[] }).results;
}

/** `moss __container SPEC`: new namespaces, then the init that runs inside them. */
export function containerMain(specJson: string): number {
  unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET);
  const child = Bun.spawnSync([...selfCommand(), CONTAINER_INIT_COMMAND, specJson], { stdin: "ignore", stdout: "inherit", stderr: "inherit" });
  return child.exitCode ?? 1;
}

/** `moss __container-init SPEC`: PID 1 of the container. */
export function containerInit(specJson: string): number {
  const spec = JSON.parse(specJson) as ContainerSpec;
  enterRoot(spec);
  const results = spec.handlers.map(runHandler);
  process.stdout.write(`${JSON.stringify({ results })}\n`);
  return 0;
}

function enterRoot(spec: ContainerSpec): void {
  const { root } = spec;
  // Nothing done here may reach the host's mount table.
  mountWith({ target: "/", flags: MS_REC | MS_PRIVATE });
  mountWith({ source: root, target: root, flags: MS_BIND | MS_REC });
  for (const bind of spec.binds) {
    const target = path.join(root, bind.target);
    if (fs.statSync(bind.source).isDirectory()) fs.mkdirSync(target, { recursive: true });
    else {
      fs.mkdirSync(path.dirname(target), { recursive: true });
      if (!fs.existsSync(target)) fs.writeFileSync(target, "");
    }
    mountWith({ source: bind.source, target, flags: MS_BIND | MS_REC });
    if (bind.readOnly) mountWith({ target, flags: MS_BIND | MS_REMOUNT | MS_RDONLY });
  }
  const oldRoot = path.join(root, "old_root");
  fs.mkdirSync(oldRoot, { recursive: true });
  pivotRoot(root, oldRoot);
  process.chdir("/");
  fs.mkdirSync("/proc", { recursive: true });
  mountWith({ source: "proc", target: "/proc", fsType: "proc", flags: MS_NOSUID | MS_NODEV });
  fs.mkdirSync("/tmp", { recursive: true });
  mountWith({ source: "tmpfs", target: "/tmp", fsType: "tmpfs", flags: MS_NOSUID | MS_NODEV, data: "mode=1777" });
  for (const dir of ["sys", "dev"]) {
    fs.mkdirSync(`/${dir}`, { recursive: true });
    mountWith({ source: `/old_root/${dir}`, target: `/${dir}`, flags: MS_BIND | MS_REC });
    mountWith({ target: `/${dir}`, flags: MS_REC | MS_SLAVE });
  }
  unmount("/old_root", MNT_DETACH);
  fs.rmdirSync("/old_root");
  process.umask(0o022);
}

export function runHandler(handler: HandlerCall): HandlerResult {
  try {
    const child = Bun.spawnSync([handler.run, ...handler.args], { cwd: "/", stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    const signal = typeof child.signalCode === "string" ? child.signalCode : null;
    return { status: child.exitCode, signal, output: `${child.stdout.toString()}${child.stderr.toString()}` };
  } catch (error) {
    return { status: null, signal: null, output: "", spawnError: (error as Error).message };
  }
}
