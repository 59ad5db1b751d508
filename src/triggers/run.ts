/**
 * Running what a tree's triggers call for (spec §5.6). Transaction triggers run in a container
 * on the new tree before it goes live; system triggers run on the host for `/` and in a container
 * for any other root. A handler that exits non-zero or is killed is a warning that shows its
 * output, and the rest run; one that cannot be started (its program is missing) fails the run.
 * `delete` handlers are done by moss itself, inside the tree, never through a symlink.
 */
import fs from "node:fs";
import path from "node:path";
import type { Vfs } from "../vfs/index.ts";
import { runHandler, runInContainer, type Bind, type HandlerCall, type HandlerResult } from "./container.ts";
import { loadTriggers, TriggerError, type Handler, type TriggerScope } from "./load.ts";
import { planTriggers, type TriggerRun } from "./plan.ts";

export interface TriggerTarget {
  scope: TriggerScope;
  /** The directory holding the tree's `usr` (staging for transaction triggers, the root for system ones). */
  treeRoot: string;
  /** The installation root, whose `/etc` the handlers see. */
  root: string;
  /** `/.moss/root/isolation`. */
  isolationDir: string;
  /** System triggers of the running system (`/`) run on the host itself. */
  onHost: boolean;
}

export interface HandlerFailure {
  trigger: string;
  command: string;
  status: number | null;
  signal: string | null;
  output: string;
}

export interface TriggerReport {
  triggers: string[];
  handlers: number;
  failures: HandlerFailure[];
}

/**
 * Loads the scope's triggers from the tree, matches them against the tree's paths and runs them;
 * `warn` hears about every trigger file skipped and every handler that failed (with its output).
 */
export async function runTriggers(target: TriggerTarget, paths: () => Iterable<string>, warn: (message: string) => void): Promise<TriggerReport> {
  const triggers = await loadTriggers(target.treeRoot, target.scope, warn);
  if (triggers.length === 0) return { triggers: [], handlers: 0, failures: [] };
  const report = executeTriggers(planTriggers(triggers, paths()), target);
  for (const failure of report.failures) warn(describeFailure(failure));
  return report;
}

/** Every path of a VFS, absolute, with `/` first: what patterns are matched against. */
export function* vfsPaths(vfs: Vfs): Generator<string> {
  yield "/";
  const paths: string[] = [];
  vfs.forEach((entry) => paths.push(entry.path));
  yield* paths;
}

export function executeTriggers(runs: TriggerRun[], target: TriggerTarget): TriggerReport {
  const report: TriggerReport = { triggers: runs.map((r) => r.trigger.name), handlers: 0, failures: [] };
  // Run handlers go to the container in batches; a delete waits for the runs before it.
  let batch: { trigger: string; call: HandlerCall }[] = [];
  const flush = () => {
    if (batch.length === 0) return;
    const results = runCalls(batch.map((b) => b.call), target);
    results.forEach((result, i) => record(batch[i]!, result, report));
    batch = [];
  };
  for (const { trigger, handlers } of runs) {
    for (const handler of handlers) {
      report.handlers++;
      if (handler.kind === "run") batch.push({ trigger: trigger.name, call: { run: handler.run, args: handler.args } });
      else {
        flush();
        deletePaths(handler, target.treeRoot);
      }
    }
  }
  flush();
  return report;
}

function runCalls(calls: HandlerCall[], target: TriggerTarget): HandlerResult[] {
  if (target.onHost) return calls.map(runHandler);
  const binds: Bind[] = [
    { source: path.join(target.treeRoot, "usr"), target: "/usr", readOnly: false },
    { source: path.join(target.root, "etc"), target: "/etc", readOnly: target.scope === "tx" },
  ];
  fs.mkdirSync(path.join(target.root, "etc"), { recursive: true, mode: 0o755 });
  return runInContainer({ root: target.isolationDir, binds, handlers: calls });
}

function record(item: { trigger: string; call: HandlerCall }, result: HandlerResult, report: TriggerReport): void {
  const command = [item.call.run, ...item.call.args].join(" ");
  if (result.spawnError !== undefined) {
    throw new TriggerError("TRIGGER_SPAWN", `trigger ${item.trigger}: cannot run ${command}: ${result.spawnError}`);
  }
  if (result.status === 0) return;
  report.failures.push({ trigger: item.trigger, command, status: result.status, signal: result.signal, output: result.output });
}

/** A delete handler: each path inside the tree, if it is there; a link is removed, never followed. */
function deletePaths(handler: Extract<Handler, { kind: "delete" }>, treeRoot: string): void {
  for (const listed of handler.paths) {
    const relative = path.posix.normalize(listed).replace(/^\/+/, "");
    if (relative === "" || relative === "." || relative.startsWith("../")) throw new TriggerError("TRIGGER_DELETE", `a delete handler may not remove ${JSON.stringify(listed)}`);
    const parts = relative.split("/");
    // Every parent must be a real directory of the tree: a link on the way could lead outside it.
    let at = treeRoot;
    let inside = true;
    for (const part of parts.slice(0, -1)) {
      at = path.join(at, part);
      const st = fs.lstatSync(at, { throwIfNoEntry: false });
      if (!st || !st.isDirectory()) {
        inside = false;
        break;
      }
    }
    if (inside) fs.rmSync(path.join(treeRoot, relative), { recursive: true, force: true });
  }
}

/** Warning text for a handler that failed: the command, how it ended, and what it printed. */
function describeFailure(failure: HandlerFailure): string {
  const how = failure.signal ? `was killed by ${failure.signal}` : `exited with status ${failure.status}`;
  const output = failure.output.trimEnd();
  return `trigger ${failure.trigger}: ${failure.command} ${how}${output ? `:\n${output.split("\n").map((line) => `  ${line}`).join("\n")}` : ""}`;
}
