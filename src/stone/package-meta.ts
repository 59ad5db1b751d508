/** From meta records to the package fields moss uses (stone §8.4): fields found by tag, never by position. */
import { compareDependencies, formatDependency } from "./dependency.ts";
import { StoneError, type StoneErrorWhere } from "./errors.ts";
import { MetaTag, type Dependency, type MetaRecord } from "./types.ts";

export interface PackageMeta {
  name: string;
  version: string;
  release: number;
  buildRelease: number;
  architecture: string;
  summary: string;
  description: string;
  sourceId: string;
  homepage: string;
  licenses: string[];
  dependencies: Dependency[];
  /** Includes the implicit `name(<name>)`, which writers never store. */
  providers: Dependency[];
  conflicts: Dependency[];
  /** Repository index only. */
  uri?: string;
  hash?: string;
  downloadSize?: number;
}

/** `where` names the file and payload the records came from, so that errors can say so. */
export function packageFromMeta(records: MetaRecord[], where: StoneErrorWhere = {}): PackageMeta {
  const text = (tag: number) => records.find((r) => r.tag === tag && r.value.type === "string")?.value as { value: string } | undefined;
  const int = (tag: number) => records.find((r) => r.tag === tag && r.value.type === "int")?.value as { value: bigint } | undefined;
  const required = <T>(value: T | undefined, field: string): T => {
    if (value === undefined) throw new StoneError("STONE_MISSING_META", `missing metadata field: ${field}`, where);
    return value;
  };
  const number = (value: bigint, field: string): number => {
    if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) throw new StoneError("STONE_RECORD", `${field} ${value} is out of range`, where);
    return Number(value);
  };

  const name = required(text(MetaTag.Name), "name").value;
  const dependencies = uniqueSorted(records.flatMap((r) => (r.value.type === "dependency" && r.value.value.kind !== "unknown" ? [r.value.value] : [])));
  const providers = uniqueSorted([
    { kind: "name", kindValue: 0, name },
    ...records.flatMap((r) => (r.tag === MetaTag.Provides && r.value.type === "provider" && r.value.value.kind !== "unknown" ? [r.value.value] : [])),
  ]);
  const conflicts = uniqueSorted(records.flatMap((r) => (r.tag === MetaTag.Conflicts && r.value.type === "provider" && r.value.value.kind !== "unknown" ? [r.value.value] : [])));
  const size = int(MetaTag.PackageSize);
  return {
    name,
    version: required(text(MetaTag.Version), "version").value,
    release: number(required(int(MetaTag.Release), "release").value, "release"),
    buildRelease: number(required(int(MetaTag.BuildRelease), "build-release").value, "build-release"),
    architecture: required(text(MetaTag.Architecture), "architecture").value,
    summary: required(text(MetaTag.Summary), "summary").value,
    description: required(text(MetaTag.Description), "description").value,
    sourceId: required(text(MetaTag.SourceID), "source-id").value,
    homepage: required(text(MetaTag.Homepage), "homepage").value,
    licenses: records.flatMap((r) => (r.tag === MetaTag.License && r.value.type === "string" ? [r.value.value] : [])),
    dependencies,
    providers,
    conflicts,
    uri: text(MetaTag.PackageURI)?.value,
    hash: text(MetaTag.PackageHash)?.value,
    downloadSize: size === undefined ? undefined : number(size.value, "package-size"),
  };
}

/** `<name>-<version>-<release>.<arch>`: the id of a local stone and of its temporary unpack files (stone §10). */
export function metaId(meta: Pick<PackageMeta, "name" | "version" | "release" | "architecture">): string {
  return `${meta.name}-${meta.version}-${meta.release}.${meta.architecture}`;
}

/** The file name boulder gives a package (stone §10). */
export function stoneFileName(meta: Pick<PackageMeta, "name" | "version" | "release" | "buildRelease" | "architecture">): string {
  return `${meta.name}-${meta.version}-${meta.release}-${meta.buildRelease}-${meta.architecture}.stone`;
}

function uniqueSorted(items: Dependency[]): Dependency[] {
  const seen = new Map<string, Dependency>();
  for (const item of items) seen.set(formatDependency(item), item);
  return [...seen.values()].sort(compareDependencies);
}
