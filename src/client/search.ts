/**
 * `moss search` (spec §4.8): a keyword is a case-insensitive substring of a name or summary
 * (name matches first), a provider expression is matched exactly. Unlike Rust, one row per
 * package (the best of each name: the same package in several repositories is listed once,
 * §9 #40), and keywords are plain text, never SQL patterns.
 */
import { MossError } from "../errors.ts";
import { bestPerName, type Candidate, type CandidateSource } from "../registry/candidates.ts";

export const PROVIDER_KINDS = ["name", "soname", "pkgconfig", "interpreter", "cmake", "python", "binary", "sysbinary", "pkgconfig32"] as const;

export interface SearchHit {
  candidate: Candidate;
  /** Where the keyword matched: the name, else the summary; undefined for a provider match. */
  field?: "name" | "summary";
}

/** The provider a `--provides=KIND` search looks for (`library` means soname). */
export function providerQuery(kind: string, keyword: string): string {
  const actual = kind === "library" ? "soname" : kind;
  if (!(PROVIDER_KINDS as readonly string[]).includes(actual)) throw new MossError("SEARCH_KIND", `unknown provider kind ${kind}: one of library, ${PROVIDER_KINDS.join(", ")}`);
  return `${actual}(${keyword})`;
}

const byName = (a: Candidate, b: Candidate) =>
  a.meta.name < b.meta.name ? -1 : a.meta.name > b.meta.name ? 1 : a.meta.summary < b.meta.summary ? -1 : a.meta.summary > b.meta.summary ? 1 : 0;

export function search(sources: CandidateSource[], query: { keyword: string; provider?: string }): SearchHit[] {
  const provider = query.provider ?? (query.keyword.includes("(") ? query.keyword : undefined);
  if (provider !== undefined) {
    return bestPerName(sources, (key) => key.providers.includes(provider)).sort(byName).map((candidate) => ({ candidate }));
  }
  const needle = query.keyword.toLowerCase();
  // Summaries are not in the keys: a keyword search reads every package whole.
  const summaries = new Map(sources.flatMap((s) => s.all()).map((c) => [c.id, c.meta.summary]));
  const hits = bestPerName(sources, (key) => key.name.toLowerCase().includes(needle) || (summaries.get(key.id) ?? "").toLowerCase().includes(needle));
  const inName = hits.filter((c) => c.meta.name.toLowerCase().includes(needle)).sort(byName);
  const inSummary = hits.filter((c) => !c.meta.name.toLowerCase().includes(needle)).sort(byName);
  return [...inName.map((candidate) => ({ candidate, field: "name" as const })), ...inSummary.map((candidate) => ({ candidate, field: "summary" as const }))];
}
