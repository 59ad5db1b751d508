/**
 * What the resolver chooses from: packages known by id, each with the capabilities it provides,
 * grouped by where they come from. Sources are asked in order (spec §8.1: local files and the
 * installed set first, repositories by priority later); inside a source the best candidate for a
 * capability is the highest (release, build release), then the smallest id — not Rust's
 * id-only order, which picks by hash (spec §9 #32).
 */
import { formatDependency, type PackageMeta } from "../stone/index.ts";

export type SourceKind = "installed" | "local" | "repository";

export interface Candidate {
  id: string;
  meta: PackageMeta;
  source: SourceKind;
  /** A local `.stone` file this candidate is read from (for a repository package: once downloaded). */
  path?: string;
  /** Repository packages: the repository's id. */
  repository?: string;
  /** Repository packages: where it can be downloaded, the repository's own URL first, then its mirrors'. */
  urls?: string[];
  /** Installed only: the user asked for it. */
  explicit?: boolean;
}

/**
 * The text forms of a package's providers and dependencies, made once per package: the resolver
 * looks every one of them up in maps, and a string made once has its hash computed once.
 */
export interface CandidateTexts {
  providers: string[];
  dependencies: string[];
}

const texts = new WeakMap<PackageMeta, CandidateTexts>();

export function textsOf(meta: PackageMeta): CandidateTexts {
  let found = texts.get(meta);
  if (!found) {
    found = { providers: meta.providers.map(formatDependency), dependencies: meta.dependencies.map(formatDependency) };
    texts.set(meta, found);
  }
  return found;
}

export class CandidateSource {
  private readonly byId = new Map<string, Candidate>();
  private readonly byProvider = new Map<string, Candidate[]>();

  constructor(readonly kind: SourceKind, candidates: Iterable<Candidate>) {
    for (const candidate of candidates) {
      this.byId.set(candidate.id, candidate);
      for (const text of textsOf(candidate.meta).providers) {
        const list = this.byProvider.get(text);
        if (list) list.push(candidate);
        else this.byProvider.set(text, [candidate]);
      }
    }
    for (const list of this.byProvider.values()) list.sort(better);
  }

  get(id: string): Candidate | undefined {
    return this.byId.get(id);
  }

  /** Candidates providing `provider` (canonical text, e.g. `name(nano)`), best first. */
  providing(provider: string): Candidate[] {
    return this.byProvider.get(provider) ?? [];
  }

  all(): Candidate[] {
    return [...this.byId.values()];
  }
}

/** The first candidate providing `provider` (canonical text) among `sources`, asked in order. */
export function firstProviding(sources: readonly CandidateSource[], provider: string): Candidate | undefined {
  for (const source of sources) {
    const pick = source.providing(provider)[0];
    if (pick) return pick;
  }
  return undefined;
}

/** The best package named `name` among `sources` (the first source that has one). */
export function bestNamed(sources: readonly CandidateSource[], name: string): Candidate | undefined {
  return firstProviding(sources, `name(${name})`);
}

/**
 * One candidate per name among those `keep` accepts: from the first source that has an accepted
 * one of that name, the best of them there (the order `providing` uses).
 */
export function bestPerName(sources: readonly CandidateSource[], keep: (candidate: Candidate) => boolean = () => true): Candidate[] {
  const best = new Map<string, Candidate>();
  for (const source of sources) {
    const fromThis = new Map<string, Candidate>();
    for (const candidate of source.all()) {
      const name = candidate.meta.name;
      if (best.has(name) || !keep(candidate)) continue;
      const current = fromThis.get(name);
      if (!current || better(candidate, current) < 0) fromThis.set(name, candidate);
    }
    for (const [name, candidate] of fromThis) best.set(name, candidate);
  }
  return [...best.values()];
}

function better(a: Candidate, b: Candidate): number {
  return b.meta.release - a.meta.release || b.meta.buildRelease - a.meta.buildRelease || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Command-line words are providers: `nano` means `name(nano)` (spec §3.2). */
export function providerText(argument: string): string {
  return argument.includes("(") ? argument : `name(${argument})`;
}
