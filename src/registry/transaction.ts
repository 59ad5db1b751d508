/**
 * The resolution transaction (spec §8.3): a graph of package ids grown from requested ids by
 * resolving every dependency through a lookup strategy, reusing the first package chosen for a
 * capability. Map-based, so large transactions stay linear (Rust's is quadratic, spec §9 #33);
 * cycles are accepted as in Rust, and the order is dependents before their dependencies.
 */
import { MossError } from "../errors.ts";
import type { PackageKey } from "../db/index.ts";
import { keyOf, type Candidate, type CandidateSource } from "./candidates.ts";

export class ResolutionError extends MossError {
  constructor(code: string, message: string) {
    super(code, message);
    this.name = "ResolutionError";
  }
}

interface Node {
  key: PackageKey;
  source: CandidateSource;
}

export class Transaction {
  private readonly nodes = new Map<string, Node>();
  private readonly edges = new Map<string, Set<string>>();
  private readonly chosen = new Map<string, string>();

  /** `sources` in the order the strategy asks them (e.g. prefer-installed: installed, then local). */
  constructor(private readonly sources: CandidateSource[]) {}

  add(ids: Iterable<string>): void {
    let queue = [...ids];
    while (queue.length > 0) {
      const next: string[] = [];
      for (const id of queue) {
        const node = this.nodes.get(id) ?? this.byId(id);
        this.nodes.set(id, node);
        const out = this.edges.get(id) ?? new Set<string>();
        this.edges.set(id, out);
        for (const provider of node.key.providers) this.chosen.set(provider, id);
        for (const text of node.key.dependencies) {
          const target = this.resolve(text);
          if (!target) throw new ResolutionError("NO_SUCH_NAME", `No such name: ${text} (a dependency of ${node.key.name})`);
          const targetId = target.key.id;
          if (!this.nodes.has(targetId)) {
            this.nodes.set(targetId, target);
            this.edges.set(targetId, new Set());
            this.chosen.set(text, targetId);
            next.push(targetId);
          }
          if (targetId !== id) out.add(targetId);
        }
      }
      queue = next;
    }
  }
  /** Drop `ids` and everything that depends on them, transitively (spec §8.4). */
  remove(ids: Iterable<string>): void {
    const dependents = new Map<string, string[]>();
    for (const [from, targets] of this.edges) for (const to of targets) (dependents.get(to) ?? dependents.set(to, []).get(to)!).push(from);
    const doomed = new Set<string>();
    const stack = [...ids].filter((id) => this.nodes.has(id));
    while (stack.length > 0) {
      const id = stack.pop()!;
      if (doomed.has(id)) continue;
      doomed.add(id);
      stack.push(...(dependents.get(id) ?? []));
    }
    for (const id of doomed) {
      this.nodes.delete(id);
      this.edges.delete(id);
    }
    for (const targets of this.edges.values()) for (const id of doomed) targets.delete(id);
  }

  /** Every package, dependents before their dependencies; a cycle keeps all its members. */
  finalize(): Candidate[] {
    const order: string[] = [];
    const state = new Map<string, "visiting" | "done">();
    const visit = (id: string) => {
      if (state.has(id)) return;
      state.set(id, "visiting");
      for (const to of this.edges.get(id) ?? []) visit(to);
      state.set(id, "done");
      order.push(id);
    };
    for (const id of [...this.nodes.keys()].sort()) visit(id);
    order.reverse();
    // Whole candidates are read once per source, for the chosen packages only.
    const bySource = new Map<CandidateSource, string[]>();
    for (const id of order) {
      const { source } = this.nodes.get(id)!;
      (bySource.get(source) ?? bySource.set(source, []).get(source)!).push(id);
    }
    const whole = new Map<string, Candidate>();
    for (const [source, ids] of bySource) for (const candidate of source.candidates(ids)) whole.set(candidate.id, candidate);
    return order.map((id) => whole.get(id)!);
  }

  private byId(id: string): Node {
    for (const source of this.sources) {
      const key = source.key(id);
      if (key) return { key, source };
    }
    throw new ResolutionError("NO_SUCH_NAME", `No such name: ${id}`);
  }

  private resolve(provider: string): Node | undefined {
    const cached = this.chosen.get(provider);
    if (cached) return this.nodes.get(cached);
    for (const source of this.sources) {
      const key = source.keysProviding(provider)[0];
      if (key) return { key, source };
    }
    return undefined;
  }
}

/** Spec §8.6, done as recommended: a package whose declared conflict another selected package provides. */
export function findConflicts(packages: Candidate[]): string[] {
  const provided = new Map<string, Candidate>();
  for (const pkg of packages) for (const p of keyOf(pkg.id, pkg.meta).providers) provided.set(p, pkg);
  const problems: string[] = [];
  for (const pkg of packages) {
    for (const conflict of keyOf(pkg.id, pkg.meta).conflicts) {
      const other = provided.get(conflict);
      if (other && other.id !== pkg.id) problems.push(`${pkg.meta.name} conflicts with ${other.meta.name} (${conflict})`);
    }
  }
  return problems;
}
