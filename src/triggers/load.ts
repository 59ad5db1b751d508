/**
 * Trigger files (spec §5.1, §5.2): `usr/share/moss/triggers/<scope>.{yaml,kdl}` and
 * `<scope>.d/*.{yaml,kdl}` of a tree (`x.kdl` over `x.yaml`), scope `tx` (run in a container on
 * the new tree before it goes live) or `sys` (on the system after). A file that does not parse is
 * skipped with a warning naming it (Rust skips it silently); a path naming a handler its trigger
 * does not define fails the transaction.
 *
 * KDL maps the YAML keys one to one:
 *
 *     name ldconfig
 *     description "Refresh the library cache"
 *     after other
 *     paths {
 *         "/usr/lib/lib*.so*" { handlers ldconfig; type symlink; }
 *     }
 *     handlers {
 *         ldconfig { run "/usr/sbin/ldconfig"; args "-X"; }
 *         stale { delete "/usr/lib/old.cache"; }
 *     }
 */
import fs from "node:fs";
import path from "node:path";
import { pickConfigFiles, type ConfigFile } from "../config/loader.ts";
import { MossError } from "../errors.ts";

export type TriggerScope = "tx" | "sys";

export type Handler = { kind: "run"; run: string; args: string[] } | { kind: "delete"; paths: string[] };

export interface TriggerPath {
  pattern: string;
  handlers: string[];
}

export interface Trigger {
  name: string;
  description: string;
  before?: string;
  after?: string;
  paths: TriggerPath[];
  handlers: Map<string, Handler>;
  file: string;
}

export class TriggerError extends MossError {
  constructor(code: string, message: string) {
    super(code, message);
    this.name = "TriggerError";
  }
}

/** Where a tree keeps its trigger files. */
export const TRIGGERS_DIR = path.join("usr", "share", "moss", "triggers");

/**
 * The trigger files of one scope, in the order they apply. Unlike a configuration domain's, a
 * name that is not a readable file is not passed over: loading it says why it was skipped.
 */
export function triggerFiles(treeRoot: string, scope: TriggerScope): ConfigFile[] {
  const dir = path.join(treeRoot, TRIGGERS_DIR);
  return [...pickConfigFiles(dir, (name) => name === `${scope}.yaml` || name === `${scope}.kdl`), ...pickConfigFiles(path.join(dir, `${scope}.d`), () => true)];
}

/** Every trigger of a scope in a tree; `warn` hears about files that are skipped. */
export async function loadTriggers(treeRoot: string, scope: TriggerScope, warn: (message: string) => void): Promise<Trigger[]> {
  const triggers: Trigger[] = [];
  for (const { path: file, format } of triggerFiles(treeRoot, scope)) {
    let trigger: Trigger;
    try {
      const text = fs.readFileSync(file, "utf8");
      trigger = format === "kdl" ? await fromKdl(text, file) : fromYaml(text, file);
    } catch (error) {
      warn(`skipping trigger file ${file}: ${(error as Error).message.split("\n")[0]}`);
      continue;
    }
    for (const { pattern, handlers } of trigger.paths) {
      for (const handler of handlers) {
        if (!trigger.handlers.has(handler)) throw new TriggerError("TRIGGER_HANDLER", `missing handler reference in ${trigger.name}: ${handler} (${file}, path ${pattern})`);
      }
    }
    triggers.push(trigger);
  }
  return triggers;
}

const isStringList = (value: unknown): value is string[] => Array.isArray(value) && value.every((v) => typeof v === "string");

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`${what} is missing`);
  return value;
}

function handlerFrom(name: string, fields: Record<string, unknown>): Handler {
  if (fields.run !== undefined) {
    if (typeof fields.run !== "string") throw new Error(`handler ${name}: run must be a string`);
    if (!isStringList(fields.args)) throw new Error(`handler ${name}: args must be a list of strings (it may be empty)`);
    return { kind: "run", run: fields.run, args: fields.args };
  }
  if (fields.delete !== undefined) {
    if (!isStringList(fields.delete)) throw new Error(`handler ${name}: delete must be a list of paths`);
    return { kind: "delete", paths: fields.delete };
  }
  throw new Error(`handler ${name}: needs run (with args) or delete`);
}

function fromFields(doc: Record<string, unknown>, file: string): Trigger {
  const str = (key: string): string | undefined => {
    const value = doc[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "string") throw new Error(`${key} must be a string`);
    return value;
  };
  const pathsField = doc.paths;
  const handlersField = doc.handlers;
  if (typeof pathsField !== "object" || pathsField === null) throw new Error("paths is missing");
  if (typeof handlersField !== "object" || handlersField === null) throw new Error("handlers is missing");
  const paths = Object.entries(pathsField as Record<string, unknown>).map(([pattern, definition]) => {
    const handlers = (definition as { handlers?: unknown } | null)?.handlers;
    if (!isStringList(handlers)) throw new Error(`path ${pattern}: handlers must be a list of handler names`);
    return { pattern, handlers };
  });
  const handlers = new Map(Object.entries(handlersField as Record<string, unknown>).map(([name, fields]) => {
    if (typeof fields !== "object" || fields === null) throw new Error(`handler ${name}: expected a map`);
    return [name, handlerFrom(name, fields as Record<string, unknown>)] as const;
  }));
  const trigger: Trigger = { name: need(str("name"), "name"), description: need(str("description"), "description"), paths, handlers, file };
  const before = str("before");
  const after = str("after");
  if (before !== undefined) trigger.before = before;
  if (after !== undefined) trigger.after = after;
  return trigger;
}

function fromYaml(text: string, file: string): Trigger {
  const doc = Bun.YAML.parse(text);
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) throw new Error("expected a map");
  return fromFields(doc as Record<string, unknown>, file);
}

async function fromKdl(text: string, file: string): Promise<Trigger> {
  const { parse } = await import("@bgotink/kdl");
  const doc = parse(text);
  const fields: Record<string, unknown> = {};
  for (const node of doc.nodes) {
    const name = node.getName();
    if (name === "paths") {
      fields.paths = Object.fromEntries((node.children?.nodes ?? []).map((p) => [p.getName(), { handlers: p.findNodeByName("handlers")?.getArguments() ?? [] }]));
    } else if (name === "handlers") {
      fields.handlers = Object.fromEntries((node.children?.nodes ?? []).map((h) => {
        const entry: Record<string, unknown> = {};
        const run = h.findNodeByName("run");
        if (run) {
          entry.run = run.getArgument(0);
          entry.args = h.findNodeByName("args")?.getArguments() ?? [];
        }
        const del = h.findNodeByName("delete");
        if (del) entry.delete = del.getArguments();
        return [h.getName(), entry];
      }));
    } else {
      fields[name] = node.getArgument(0);
    }
  }
  return fromFields(fields, file);
}
