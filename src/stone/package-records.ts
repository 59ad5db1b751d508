/** Package metadata → meta records, in the order and form the Rust writer uses (stone §8.1–§8.3, §12). */
import { compareBytes, compareDependencies } from "./dependency.ts";
import type { PackageMeta } from "./package-meta.ts";
import { MetaPrimitive, MetaTag, type Dependency, type MetaRecord } from "./types.ts";

export type PackageInput = Omit<PackageMeta, "providers" | "dependencies" | "conflicts" | "licenses"> & {
  licenses?: string[];
  dependencies?: Dependency[];
  providers?: Dependency[];
  conflicts?: Dependency[];
  /** Build manifests only (tag 17). */
  buildDependencies?: Dependency[];
};

export function metaRecordsFor(pkg: PackageInput): MetaRecord[] {
  const string = (tag: number, value: string): MetaRecord => ({ tag, value: { type: "string", value } });
  const u64 = (tag: number, value: number): MetaRecord => ({ tag, value: { type: "int", primitive: MetaPrimitive.Uint64, value: BigInt(value) } });
  const deps = (tag: number, type: "dependency" | "provider", items: Dependency[] = []): MetaRecord[] =>
    [...items].sort(compareDependencies).map((value) => ({ tag, value: { type, value } }) as MetaRecord);

  const records: MetaRecord[] = [
    string(MetaTag.Name, pkg.name),
    string(MetaTag.Version, pkg.version),
    u64(MetaTag.Release, pkg.release),
    u64(MetaTag.BuildRelease, pkg.buildRelease),
    string(MetaTag.Architecture, pkg.architecture),
    string(MetaTag.Summary, pkg.summary),
    string(MetaTag.Description, pkg.description),
    string(MetaTag.SourceID, pkg.sourceId),
    string(MetaTag.Homepage, pkg.homepage),
  ];
  if (pkg.uri !== undefined) records.push(string(MetaTag.PackageURI, pkg.uri));
  if (pkg.hash !== undefined) records.push(string(MetaTag.PackageHash, pkg.hash));
  if (pkg.downloadSize !== undefined) records.push(u64(MetaTag.PackageSize, pkg.downloadSize));
  records.push(...[...(pkg.licenses ?? [])].sort(compareBytes).map((license) => string(MetaTag.License, license)));
  records.push(...deps(MetaTag.Depends, "dependency", pkg.dependencies));
  // The implicit name() provider is never written: readers add it themselves.
  records.push(...deps(MetaTag.Provides, "provider", pkg.providers?.filter((p) => !(p.kind === "name" && p.name === pkg.name))));
  records.push(...deps(MetaTag.Conflicts, "provider", pkg.conflicts));
  records.push(...deps(MetaTag.BuildDepends, "dependency", pkg.buildDependencies));
  return records;
}
