/** The `.stone` format: reader, content streaming, writer and the package view of meta records. */
export { StoneReader, type PayloadEntry, type StoneRecords } from "./reader.ts";
export { streamContent, isContiguous, DISCARD_SINK, type ContentSink, type ContentSummary, type ContentStreamOptions } from "./content.ts";
export { writeStone, indexFor, type ContentFile, type StoneDocument, type WriteOptions, type WriteSummary } from "./writer.ts";
export { packageFromMeta, metaId, stoneFileName, type PackageMeta } from "./package-meta.ts";
export { metaRecordsFor, type PackageInput } from "./package-records.ts";
export { parseDependency, formatDependency, compareDependencies } from "./dependency.ts";
export { StoneError, type StoneErrorCode } from "./errors.ts";
export * from "./types.ts";
export { checkLayoutAgainstIndex } from "./consistency.ts";
export { packTree, type PackTreeOptions, type PackSummary } from "./pack-tree.ts";
