/**
 * A strict reader for `.stone` v1 (stone §7): the header chain is walked and checked against the
 * file size before any body is touched, every record payload is checksummed before it is
 * decompressed, and the content payload is only ever streamed (see content.ts).
 */
import { MAX_RECORD_PAYLOAD_PLAIN, RECORD_WINDOW_LOG_MAX } from "../constants.ts";
import { xxh3_64 } from "../hash/xxh3.ts";
import { zstdDecodeSync } from "../zstd/index.ts";
import { Cursor } from "./cursor.ts";
import { StoneError } from "./errors.ts";
import { decodeContainerHeader, decodePayloadHeader, HEADER_SIZE, PAYLOAD_HEADER_SIZE } from "./headers.ts";
import { ATTRIBUTE_RECORD_MIN_SIZE, decodeAttributeRecord } from "./records/attribute.ts";
import { decodeIndexRecord, INDEX_RECORD_SIZE } from "./records/index-entry.ts";
import { decodeLayoutRecord, LAYOUT_RECORD_MIN_SIZE } from "./records/layout.ts";
import { decodeMetaRecord, META_RECORD_MIN_SIZE } from "./records/meta.ts";
import { BufferSource, FileSource, type ByteSource } from "./source.ts";
import {
  Compression, PayloadKind, payloadKindName,
  type AttributeRecord, type ContainerHeader, type IndexRecord, type LayoutRecord, type MetaRecord, type PayloadHeader,
} from "./types.ts";

export interface PayloadEntry {
  /** Position among the file's payloads, from 0. */
  ordinal: number;
  headerOffset: number;
  bodyOffset: number;
  header: PayloadHeader;
}

export interface StoneRecords {
  /** One list per meta payload, in file order: one for a package, one per package in an index. */
  metas: MetaRecord[][];
  layout: LayoutRecord[];
  index: IndexRecord[];
  attributes: AttributeRecord[];
  /** Payloads of an unknown kind or compression: skipped unchecked, as Rust does, but reported. */
  skipped: PayloadEntry[];
}

const MIN_RECORD_SIZE: Record<number, number> = {
  [PayloadKind.Meta]: META_RECORD_MIN_SIZE,
  [PayloadKind.Layout]: LAYOUT_RECORD_MIN_SIZE,
  [PayloadKind.Index]: INDEX_RECORD_SIZE,
  [PayloadKind.Attributes]: ATTRIBUTE_RECORD_MIN_SIZE,
};

export class StoneReader {
  readonly header: ContainerHeader;
  readonly payloads: PayloadEntry[];

  private constructor(readonly source: ByteSource) {
    try {
      this.header = decodeContainerHeader(source.read(0, Math.min(HEADER_SIZE, source.size)));
      this.payloads = scanPayloads(source, this.header.numPayloads);
    } catch (error) {
      source.close();
      throw located(error, { file: source.name });
    }
  }

  static open(path: string): StoneReader {
    return new StoneReader(new FileSource(path));
  }

  static fromBytes(name: string, bytes: Uint8Array): StoneReader {
    return new StoneReader(new BufferSource(name, bytes));
  }

  get fileName(): string {
    return this.source.name;
  }

  /** The content payload, if any (the scan refuses more than one). */
  get contentPayload(): PayloadEntry | undefined {
    return this.payloads.find((p) => p.header.kind === PayloadKind.Content);
  }

  describe(payload: PayloadEntry): string {
    return `payload ${payload.ordinal} (${payloadKindName(payload.header.kind)})`;
  }

  /**
   * Decode and verify every payload but the content; with `only`, just the payloads of that kind
   * (a package's meta is all that planning needs, and its layout and index can be large).
   */
  records(only?: (typeof PayloadKind)[keyof typeof PayloadKind]): StoneRecords {
    const result: StoneRecords = { metas: [], layout: [], index: [], attributes: [], skipped: [] };
    for (const payload of this.payloads) {
      const { kind, compression } = payload.header;
      if (kind === PayloadKind.Content || (only !== undefined && kind !== only)) continue;
      // Rust skips an unknown kind or compression unchecked; we keep it to report.
      if (!(kind in MIN_RECORD_SIZE) || (compression !== Compression.None && compression !== Compression.Zstd)) {
        result.skipped.push(payload);
        continue;
      }
      try {
        const body = this.plainBody(payload);
        const cursor = new Cursor(body);
        if (kind === PayloadKind.Meta) result.metas.push([]);
        for (let i = 0; i < payload.header.numRecords; i++) pushRecord(result, kind, cursor, i);
        if (cursor.remaining !== 0) {
          throw new StoneError("STONE_RECORD_COUNT", `${cursor.remaining} bytes left over after ${payload.header.numRecords} records`);
        }
      } catch (error) {
        throw located(error, { file: this.fileName, payload: this.describe(payload) });
      }
    }
    return result;
  }

  /** Verified, decompressed body of a record payload. */
  private plainBody(payload: PayloadEntry): Uint8Array {
    const { storedSize, plainSize, checksum, numRecords, kind, compression } = payload.header;
    if (plainSize > MAX_RECORD_PAYLOAD_PLAIN) {
      throw new StoneError("STONE_PAYLOAD_SIZE", `plain size ${plainSize} is larger than any ${payloadKindName(kind)} payload moss accepts (${MAX_RECORD_PAYLOAD_PLAIN})`);
    }
    if (numRecords * MIN_RECORD_SIZE[kind]! > plainSize) {
      throw new StoneError("STONE_RECORD_COUNT", `${numRecords} records cannot fit in ${plainSize} bytes`);
    }
    const stored = this.source.read(payload.bodyOffset, storedSize);
    const actual = xxh3_64(stored);
    if (actual !== checksum) {
      throw new StoneError("STONE_CHECKSUM", `checksum mismatch: header says ${hex64(checksum)}, body hashes to ${hex64(actual)}`);
    }
    let plain = stored;
    if (compression === Compression.Zstd) {
      try {
        plain = zstdDecodeSync(stored, { maxOutput: plainSize + 1, windowLogMax: RECORD_WINDOW_LOG_MAX });
      } catch (error) {
        throw new StoneError("STONE_DECOMPRESS", `zstd: ${(error as Error).message}`);
      }
    }
    if (plain.length !== plainSize) {
      throw new StoneError("STONE_PLAIN_SIZE", `decompressed to ${plain.length} bytes, but the header says ${plainSize}`);
    }
    return plain;
  }

  close(): void {
    this.source.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

function pushRecord(result: StoneRecords, kind: number, cursor: Cursor, i: number): void {
  switch (kind) {
    case PayloadKind.Meta:
      result.metas[result.metas.length - 1]!.push(decodeMetaRecord(cursor, i));
      return;
    case PayloadKind.Layout:
      result.layout.push(decodeLayoutRecord(cursor, i));
      return;
    case PayloadKind.Index:
      result.index.push(decodeIndexRecord(cursor, i));
      return;
    case PayloadKind.Attributes:
      result.attributes.push(decodeAttributeRecord(cursor, i));
  }
}

/** Walk the header chain: every body inside the file, the count exact, nothing after the last. */
function scanPayloads(source: ByteSource, count: number): PayloadEntry[] {
  const payloads: PayloadEntry[] = [];
  let pos = HEADER_SIZE;
  let contentSeen = false;
  for (let ordinal = 0; ordinal < count; ordinal++) {
    const where = { payload: `payload ${ordinal}` };
    if (pos + PAYLOAD_HEADER_SIZE > source.size) {
      throw new StoneError("STONE_TRUNCATED", `file ends at ${source.size} inside the header of payload ${ordinal} of ${count}`);
    }
    let header: PayloadHeader;
    try {
      header = decodePayloadHeader(source.read(pos, PAYLOAD_HEADER_SIZE));
    } catch (error) {
      throw located(error, where);
    }
    const bodyOffset = pos + PAYLOAD_HEADER_SIZE;
    const label = { payload: `payload ${ordinal} (${payloadKindName(header.kind)})` };
    if (bodyOffset + header.storedSize > source.size) {
      throw new StoneError("STONE_TRUNCATED", `body of ${header.storedSize} bytes runs past the end of the file (${source.size} bytes)`, label);
    }
    if (header.compression === Compression.None && header.storedSize !== header.plainSize) {
      throw new StoneError("STONE_PLAIN_SIZE", `uncompressed body of ${header.storedSize} bytes, but the header says ${header.plainSize}`, label);
    }
    if (header.kind === PayloadKind.Content) {
      if (contentSeen) throw new StoneError("STONE_UNSUPPORTED", "more than one content payload", label);
      contentSeen = true;
    }
    payloads.push({ ordinal, headerOffset: pos, bodyOffset, header });
    pos = bodyOffset + header.storedSize;
  }
  if (pos !== source.size) {
    throw new StoneError("STONE_TRAILING_DATA", `${source.size - pos} unexpected bytes after the last payload (offset ${pos})`);
  }
  return payloads;
}

export function hex64(value: bigint): string {
  return value.toString(16).padStart(16, "0");
}

/** Give an error its file and payload, and turn anything unexpected into a typed one. */
export function located(error: unknown, where: { file?: string; payload?: string }): StoneError {
  if (error instanceof StoneError) return error.locate(where);
  return new StoneError("STONE_IO", (error as Error)?.message ?? String(error), where, { cause: error });
}
