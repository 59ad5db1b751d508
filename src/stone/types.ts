/** Numeric values and record shapes of the `.stone` v1 container (spec stone-format §2–§6). */

export const FileType = { Binary: 1, Delta: 2, Repository: 3, BuildManifest: 4 } as const;
export type FileTypeValue = number;

export const PayloadKind = { Meta: 1, Content: 2, Layout: 3, Index: 4, Attributes: 5 } as const;
export const Compression = { None: 1, Zstd: 2 } as const;

export const MetaPrimitive = {
  Int8: 1, Uint8: 2, Int16: 3, Uint16: 4, Int32: 5, Uint32: 6, Int64: 7, Uint64: 8,
  String: 9, Dependency: 10, Provider: 11,
} as const;

export const MetaTag = {
  Name: 1, Architecture: 2, Version: 3, Summary: 4, Description: 5, Homepage: 6, SourceID: 7,
  Depends: 8, Provides: 9, Conflicts: 10, Release: 11, License: 12, BuildRelease: 13,
  PackageURI: 14, PackageHash: 15, PackageSize: 16, BuildDepends: 17, SourceURI: 18,
  SourcePath: 19, SourceRef: 20,
} as const;

export const DependencyKind = {
  name: 0, soname: 1, pkgconfig: 2, interpreter: 3, cmake: 4, python: 5, binary: 6,
  sysbinary: 7, pkgconfig32: 8,
} as const;
export type DependencyKindName = keyof typeof DependencyKind;

export const LayoutEntryType = {
  Regular: 1, Symlink: 2, Directory: 3, CharacterDevice: 4, BlockDevice: 5, Fifo: 6, Socket: 7,
} as const;

export const FILE_TYPE_NAMES: Record<number, string> = {
  1: "binary", 2: "delta", 3: "repository", 4: "build-manifest",
};
export const PAYLOAD_KIND_NAMES: Record<number, string> = {
  1: "meta", 2: "content", 3: "layout", 4: "index", 5: "attributes",
};
export const COMPRESSION_NAMES: Record<number, string> = { 1: "none", 2: "zstd" };
export const LAYOUT_TYPE_NAMES: Record<number, string> = {
  1: "regular", 2: "symlink", 3: "directory", 4: "character-device", 5: "block-device",
  6: "fifo", 7: "socket",
};
export const META_TAG_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(MetaTag).map(([name, value]) => [value, name]),
);
export const DEPENDENCY_KIND_NAMES: Record<number, DependencyKindName> = Object.fromEntries(
  Object.entries(DependencyKind).map(([name, value]) => [value, name as DependencyKindName]),
);

export function fileTypeName(value: number): string {
  return FILE_TYPE_NAMES[value] ?? "unknown";
}
export function payloadKindName(value: number): string {
  return PAYLOAD_KIND_NAMES[value] ?? "unknown";
}
export function compressionName(value: number): string {
  return COMPRESSION_NAMES[value] ?? "unknown";
}

export interface ContainerHeader {
  numPayloads: number;
  fileType: number;
  version: number;
}

export interface PayloadHeader {
  storedSize: number;
  plainSize: number;
  /** XXH3-64 of the stored body; a bigint because it is a full u64. */
  checksum: bigint;
  numRecords: number;
  version: number;
  kind: number;
  compression: number;
}

/** A dependency or provider: `kind(name)` in text form. */
export interface Dependency {
  kind: DependencyKindName | "unknown";
  /** The raw kind byte, kept so an unknown kind round-trips. */
  kindValue: number;
  name: string;
}

export type MetaValue =
  | { type: "int"; primitive: number; value: bigint }
  | { type: "string"; value: string }
  | { type: "dependency"; value: Dependency }
  | { type: "provider"; value: Dependency }
  | { type: "unknown"; primitive: number; bytes: Uint8Array };

export interface MetaRecord {
  tag: number;
  value: MetaValue;
}

export interface LayoutRecord {
  uid: number;
  gid: number;
  mode: number;
  tag: number;
  entryType: number;
  /** XXH3-128 (32 hex digits, zero padded) for regular files. */
  digest?: string;
  /** Symlink target text, or the raw source text of an unknown entry type. */
  source?: string;
  /** Path relative to `/usr`, no leading slash. */
  target: string;
}

export interface IndexRecord {
  start: number;
  end: number;
  digest: string;
}

export interface AttributeRecord {
  key: Uint8Array;
  value: Uint8Array;
}
