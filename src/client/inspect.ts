/** `moss inspect`: what a stone holds, file by file, as data a renderer prints as text or JSON. */
import { checkLayoutAgainstIndex } from "../stone/consistency.ts";
import { streamContent } from "../stone/content.ts";
import { formatDependency } from "../stone/dependency.ts";
import { StoneError } from "../stone/errors.ts";
import { hex64, StoneReader } from "../stone/reader.ts";
import {
  LAYOUT_TYPE_NAMES, MetaTag, compressionName, fileTypeName, payloadKindName,
  type IndexRecord, type LayoutRecord, type MetaRecord,
} from "../stone/types.ts";

export interface InspectedPayload {
  kind: string;
  compression: string;
  storedSize: number;
  plainSize: number;
  checksum: string;
  numRecords: number;
}

export interface InspectedPackage {
  name: string | null;
  version: string | null;
  release: number | null;
  buildRelease: number | null;
  architecture: string | null;
  summary: string | null;
  description: string | null;
  homepage: string | null;
  sourceId: string | null;
  licenses: string[];
  dependencies: string[];
  providers: string[];
  conflicts: string[];
  uri?: string | null;
  hash?: string | null;
  size?: number | null;
}

export interface InspectedLayoutEntry {
  type: string;
  uid: number;
  gid: number;
  mode: number;
  tag: number;
  target: string;
  digest?: string;
  source?: string;
}

export interface InspectReport {
  path: string;
  header: { version: number; fileType: string };
  payloads: InspectedPayload[];
  packages: InspectedPackage[];
  layout: InspectedLayoutEntry[];
  index: IndexRecord[];
  /** Meta records per meta payload, in file order, for the text form. */
  metaRecords: MetaRecord[][];
  /** Layout records in file order, for the text form. */
  layoutRecords: LayoutRecord[];
}

export function inspectStone(path: string): InspectReport {
  const reader = StoneReader.open(path);
  try {
    const records = reader.records();
    return {
      path,
      header: { version: reader.header.version, fileType: fileTypeName(reader.header.fileType) },
      payloads: reader.payloads.map(({ header }) => ({
        kind: payloadKindName(header.kind),
        compression: compressionName(header.compression),
        storedSize: header.storedSize,
        plainSize: header.plainSize,
        checksum: hex64(header.checksum),
        numRecords: header.numRecords,
      })),
      packages: records.metas.map((meta) => describePackage(meta, reader.header.fileType === 3)),
      layout: records.layout.map(describeLayout),
      index: records.index,
      metaRecords: records.metas,
      layoutRecords: records.layout,
    };
  } finally {
    reader.close();
  }
}

export interface CheckReport {
  path: string;
  ok: boolean;
  /** Payloads verified, in file order (`Meta`, `Layout`, `Index`, `Content`). */
  payloads: string[];
  error?: { code: string; message: string };
}

/** Decode every payload, stream the content to nowhere: every checksum and digest verified. */
export async function checkStone(path: string): Promise<CheckReport> {
  const payloads: string[] = [];
  let reader: StoneReader | undefined;
  try {
    reader = StoneReader.open(path);
    const records = reader.records();
    checkLayoutAgainstIndex(records.layout, records.index, path);
    await streamContent(reader, records.index);
    for (const payload of reader.payloads) {
      const name = payloadKindName(payload.header.kind);
      payloads.push(name.charAt(0).toUpperCase() + name.slice(1));
    }
    return { path, ok: true, payloads };
  } catch (error) {
    if (!(error instanceof StoneError)) throw error;
    return { path, ok: false, payloads, error: { code: error.code, message: error.message } };
  } finally {
    reader?.close();
  }
}

function describePackage(meta: MetaRecord[], isIndex: boolean): InspectedPackage {
  const text = (tag: number) => {
    const record = meta.find((r) => r.tag === tag && r.value.type === "string");
    return record?.value.type === "string" ? record.value.value : null;
  };
  const int = (tag: number) => {
    const record = meta.find((r) => r.tag === tag && r.value.type === "int");
    return record?.value.type === "int" ? Number(record.value.value) : null;
  };
  const deps = (match: (r: MetaRecord) => boolean) =>
    meta.filter(match).map((r) => formatDependency((r.value as { value: Parameters<typeof formatDependency>[0] }).value));
  const pkg: InspectedPackage = {
    name: text(MetaTag.Name),
    version: text(MetaTag.Version),
    release: int(MetaTag.Release),
    buildRelease: int(MetaTag.BuildRelease),
    architecture: text(MetaTag.Architecture),
    summary: text(MetaTag.Summary),
    description: text(MetaTag.Description),
    homepage: text(MetaTag.Homepage),
    sourceId: text(MetaTag.SourceID),
    licenses: meta.filter((r) => r.tag === MetaTag.License && r.value.type === "string").map((r) => (r.value as { value: string }).value),
    dependencies: deps((r) => r.value.type === "dependency"),
    providers: deps((r) => r.tag === MetaTag.Provides && r.value.type === "provider"),
    conflicts: deps((r) => r.tag === MetaTag.Conflicts && r.value.type === "provider"),
  };
  if (isIndex) Object.assign(pkg, { uri: text(MetaTag.PackageURI), hash: text(MetaTag.PackageHash), size: int(MetaTag.PackageSize) });
  return pkg;
}

function describeLayout(record: LayoutRecord): InspectedLayoutEntry {
  const entry: InspectedLayoutEntry = {
    type: LAYOUT_TYPE_NAMES[record.entryType] ?? "unknown",
    uid: record.uid,
    gid: record.gid,
    mode: record.mode,
    tag: record.tag,
    target: `/usr/${record.target}`,
  };
  if (record.digest !== undefined) entry.digest = record.digest;
  if (record.source !== undefined) entry.source = record.source;
  return entry;
}

