/**
 * Which handlers a tree calls for, in which order (spec §5.4, §5.5): every path of the tree is
 * matched against every trigger's patterns; a match compiles the handler with its captures
 * substituted for `$(name)`, identical compiled handlers collapse into one, and within a trigger
 * `run` handlers (by command, then arguments) come before `delete` handlers. Triggers that matched
 * run in a topological order of their `before`/`after` edges (an edge that would close a cycle is
 * dropped), ties broken by name: Kahn's algorithm, where Rust's order is its graph library's.
 */
import { compilePattern, matchPattern } from "./pattern.ts";
import type { Handler, Trigger } from "./load.ts";

export interface TriggerRun {
  trigger: Trigger;
  handlers: Handler[];
}

function substitute(text: string, captures: Map<string, string>): string {
  return text.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name: string) => captures.get(name) ?? whole);
}

function handlerKey(handler: Handler): string {
  return handler.kind === "run" ? `run\0${handler.run}\0${handler.args.join("\0")}` : `delete\0${handler.paths.join("\0")}`;
}

const compareRuns = (a: Handler, b: Handler): number => {
  if (a.kind !== b.kind) return a.kind === "run" ? -1 : 1;
  if (a.kind === "run" && b.kind === "run") {
    if (a.run !== b.run) return a.run < b.run ? -1 : 1;
    const length = Math.min(a.args.length, b.args.length);
    for (let i = 0; i < length; i++) if (a.args[i] !== b.args[i]) return a.args[i]! < b.args[i]! ? -1 : 1;
    return a.args.length - b.args.length;
  }
  return 0;
};

/** The triggers `paths` (absolute, every entry of the tree) set off, with their handlers, in running order. */
export function planTriggers(triggers: readonly Trigger[], paths: Iterable<string>): TriggerRun[] {
  const rules = triggers.flatMap((trigger) =>
    trigger.paths.map((p) => ({ trigger, pattern: compilePattern(p.pattern), handlers: p.handlers.map((name) => trigger.handlers.get(name)!) })));
  const compiled = new Map<Trigger, Map<string, Handler>>();
  for (const path of paths) {
    for (const rule of rules) {
      const captures = matchPattern(rule.pattern, path);
      if (!captures) continue;
      let set = compiled.get(rule.trigger);
      if (!set) compiled.set(rule.trigger, (set = new Map()));
      for (const handler of rule.handlers) {
        const made: Handler = handler.kind === "run"
          ? { kind: "run", run: substitute(handler.run, captures), args: handler.args.map((arg) => substitute(arg, captures)) }
          : handler;
        set.set(handlerKey(made), made);
      }
    }
  }
  return orderTriggers(triggers, [...compiled.keys()]).map((trigger) => ({ trigger, handlers: [...compiled.get(trigger)!.values()].sort(compareRuns) }));
}

/** Kahn's algorithm over the matched triggers, with edges to and from triggers loaded in the scope; ties by name. */
export function orderTriggers(loaded: readonly Trigger[], matched: readonly Trigger[]): Trigger[] {
  const byName = new Map(loaded.map((t) => [t.name, t]));
  const nodes = new Set(matched);
  // A trigger named by a matched one joins the graph, without handlers, so that ordering goes through it.
  for (const trigger of matched) for (const name of [trigger.before, trigger.after]) if (name && byName.has(name)) nodes.add(byName.get(name)!);
  const edges = new Map<Trigger, Set<Trigger>>([...nodes].map((n) => [n, new Set()]));
  const reaches = (from: Trigger, to: Trigger): boolean => {
    const seen = new Set<Trigger>();
    const stack = [from];
    while (stack.length > 0) {
      const at = stack.pop()!;
      if (at === to) return true;
      if (seen.has(at)) continue;
      seen.add(at);
      stack.push(...edges.get(at)!);
    }
    return false;
  };
  const sorted = [...nodes].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const trigger of sorted) {
    const pairs: [Trigger | undefined, Trigger | undefined][] = [[trigger, trigger.before ? byName.get(trigger.before) : undefined], [trigger.after ? byName.get(trigger.after) : undefined, trigger]];
    for (const [from, to] of pairs) {
      if (!from || !to || from === to || !nodes.has(from) || !nodes.has(to)) continue;
      if (!reaches(to, from)) edges.get(from)!.add(to);
    }
  }
  const incoming = new Map<Trigger, number>([...nodes].map((n) => [n, 0]));
  for (const targets of edges.values()) for (const to of targets) incoming.set(to, incoming.get(to)! + 1);
  const ready = sorted.filter((n) => incoming.get(n) === 0);
  const order: Trigger[] = [];
  while (ready.length > 0) {
    const next = ready.shift()!;
    order.push(next);
    for (const to of edges.get(next)!) {
      incoming.set(to, incoming.get(to)! - 1);
      if (incoming.get(to) === 0) {
        ready.push(to);
        ready.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      }
    }
  }
  const matchedSet = new Set(matched);
  return order.filter((t) => matchedSet.has(t));
}
