/**
 * What the resolver chooses from: packages known by id, each with the capabilities it provides,
 * grouped by where they come from. Sources are asked in order (spec §8.1: local files and the
 * installed set first, repositories by priority later); inside a source the best candidate for a
 * capability is the highest (release, build release), then the smallest id — not Rust's
 * id-only order, which picks by hash (spec §9 #32).
 */
import type { PackageKey } from "../db/index.ts";
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

/** What resolution reads of a package (see PackageKey): from a database, or made from a whole meta. */
const keys = new WeakMap<PackageMeta, PackageKey>();

export function keyOf(id: string, meta: PackageMeta): PackageKey {
  let found = keys.get(meta);
  if (!found || found.id !== id) {
    const { name, version, release, buildRelease, architecture } = meta;
    found = {
      id, name, version, release, buildRelease, architecture,
      providers: meta.providers.map(formatDependency), dependencies: meta.dependencies.map(formatDependency), conflicts: meta.conflicts.map(formatDependency),
    };
    keys.set(meta, found);
  }
  return found;
}

/** Reads whole candidates for keys of a lazy source, in one batch. */
export type CandidateLoader = (ids: string[]) => Candidate[];

/**
 * Candidates known by their keys: resolution works on keys alone, and only the candidates
 * asked for are read whole (a repository of thousands of packages is read whole only by the
 * commands that list it all).
 */
export class CandidateSource {
  private readonly byId = new Map<string, PackageKey>();
  private readonly byProvider = new Map<string, PackageKey[]>();
  private readonly loaded = new Map<string, Candidate>();

  /** A source of whole candidates (the installed set, local files). */
  constructor(kind: SourceKind, candidates: Iterable<Candidate>);
  constructor(kind: SourceKind, candidates: Iterable<Candidate>, lazyKeys: Iterable<PackageKey>, load: CandidateLoader);
  constructor(
    readonly kind: SourceKind,
    candidates: Iterable<Candidate>,
    lazyKeys: Iterable<PackageKey> = [],
    private readonly load: CandidateLoader = () => [],
  ) {
    for (const candidate of candidates) {
      this.loaded.set(candidate.id, candidate);
      this.index(keyOf(candidate.id, candidate.meta));
    }
    for (const key of lazyKeys) if (!this.byId.has(key.id)) this.index(key);
    for (const list of this.byProvider.values()) list.sort(better);
  }

  /** Keys read now, whole candidates (from `load`, given their ids) when asked for. */
  static lazy(kind: SourceKind, lazyKeys: Iterable<PackageKey>, load: CandidateLoader): CandidateSource {
    return new CandidateSource(kind, [], lazyKeys, load);
  }

  /** The same source with some keys' candidates standing in for them (whole, under their own ids). */
  replacing(replacements: ReadonlyMap<string, Candidate>): CandidateSource {
    const kept = [...this.byId.values()].filter((key) => !replacements.has(key.id));
    const whole = [...[...this.loaded.values()].filter((c) => !replacements.has(c.id)), ...replacements.values()];
    return new CandidateSource(this.kind, whole, kept, this.load);
  }

  key(id: string): PackageKey | undefined {
    return this.byId.get(id);
  }

  /** Keys of the packages providing `provider` (canonical text, e.g. `name(nano)`), best first. */
  keysProviding(provider: string): PackageKey[] {
    return this.byProvider.get(provider) ?? [];
  }

  keys(): PackageKey[] {
    return [...this.byId.values()];
  }

  get(id: string): Candidate | undefined {
    return this.byId.has(id) ? this.candidates([id])[0] : undefined;
  }

  /** Candidates providing `provider`, best first. */
  providing(provider: string): Candidate[] {
    return this.candidates(this.keysProviding(provider).map((key) => key.id));
  }

  all(): Candidate[] {
    return this.candidates([...this.byId.keys()]);
  }

  /** Whole candidates for these ids of this source, in their order; those not yet read are read in one batch. */
  candidates(ids: readonly string[]): Candidate[] {
    const missing = ids.filter((id) => !this.loaded.has(id) && this.byId.has(id));
    for (const candidate of missing.length > 0 ? this.load(missing) : []) {
      this.loaded.set(candidate.id, candidate);
      // Their capabilities were read as text already; findConflicts must not format them again.
      keys.set(candidate.meta, this.byId.get(candidate.id)!);
    }
    return ids.flatMap((id) => {
      const candidate = this.loaded.get(id);
      return candidate ? [candidate] : [];
    });
  }

  private index(key: PackageKey): void {
    this.byId.set(key.id, key);
    for (const text of key.providers) {
      const list = this.byProvider.get(text);
      if (list) list.push(key);
      else this.byProvider.set(text, [key]);
    }
  }
}

/** The best key providing `provider` (canonical text) in the first of `sources` that has one, and that source. */
export function firstKeyProviding(sources: readonly CandidateSource[], provider: string): { source: CandidateSource; key: PackageKey } | undefined {
  for (const source of sources) {
    const key = source.keysProviding(provider)[0];
    if (key) return { source, key };
  }
  return undefined;
}

/** The first candidate providing `provider` (canonical text) among `sources`, asked in order. */
export function firstProviding(sources: readonly CandidateSource[], provider: string): Candidate | undefined {
  const found = firstKeyProviding(sources, provider);
  return found && found.source.get(found.key.id);
}

/** The best package of each name among `sources` (from the first source that has one), each source read once: name → candidate. */
export function bestNamedMany(sources: readonly CandidateSource[], names: Iterable<string>): Map<string, Candidate> {
  const picks = new Map<CandidateSource, string[]>();
  for (const name of new Set(names)) {
    const found = firstKeyProviding(sources, `name(${name})`);
    if (found) (picks.get(found.source) ?? picks.set(found.source, []).get(found.source)!).push(found.key.id);
  }
  return byName([...picks].flatMap(([source, ids]) => source.candidates(ids)));
}

/**
 * One candidate per name among the keys `keep` accepts: from the first source that has an
 * accepted one of that name, the best of them there (the order `providing` uses).
 */
export function bestPerName(sources: readonly CandidateSource[], keep: (key: PackageKey) => boolean = () => true): Candidate[] {
  const best = new Map<string, { source: CandidateSource; key: PackageKey }>();
  for (const source of sources) {
    const fromThis = new Map<string, PackageKey>();
    for (const key of source.keys()) {
      if (best.has(key.name) || !keep(key)) continue;
      const current = fromThis.get(key.name);
      if (!current || better(key, current) < 0) fromThis.set(key.name, key);
    }
    for (const [name, key] of fromThis) best.set(name, { source, key });
  }
  const picks = new Map<CandidateSource, string[]>();
  for (const { source, key } of best.values()) (picks.get(source) ?? picks.set(source, []).get(source)!).push(key.id);
  return [...byName([...picks].flatMap(([source, ids]) => source.candidates(ids))).values()];
}

function byName(candidates: Candidate[]): Map<string, Candidate> {
  return new Map(candidates.map((c) => [c.meta.name, c]));
}

function better(a: PackageKey, b: PackageKey): number {
  return b.release - a.release || b.buildRelease - a.buildRelease || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Command-line words are providers: `nano` means `name(nano)` (spec §3.2). */
export function providerText(argument: string): string {
  return argument.includes("(") ? argument : `name(${argument})`;
}
