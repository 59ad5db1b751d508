/** The 32-byte container header (stone §2) and the 32-byte payload header (stone §3). */
import { ByteBuilder } from "./cursor.ts";
import { StoneError } from "./errors.ts";
import type { ContainerHeader, PayloadHeader } from "./types.ts";

export const HEADER_SIZE = 32;
export const PAYLOAD_HEADER_SIZE = 32;
export const STONE_MAGIC = 0x006d6f73;
export const STONE_VERSION = 1;
/** The numbers 1…7, each after two zero bytes: bytes 6..26 of every v1 header. */
export const INTEGRITY_BYTES = new Uint8Array([0, 0, 1, 0, 0, 2, 0, 0, 3, 0, 0, 4, 0, 0, 5, 0, 0, 6, 0, 0, 7]);

export function decodeContainerHeader(bytes: Uint8Array): ContainerHeader {
  if (bytes.length < HEADER_SIZE) {
    throw new StoneError("STONE_TRUNCATED", `file is ${bytes.length} bytes, shorter than the 32-byte stone header`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, HEADER_SIZE);
  const magic = view.getUint32(0);
  if (magic !== STONE_MAGIC) {
    throw new StoneError("STONE_BAD_MAGIC", `not a stone file (magic 0x${magic.toString(16).padStart(8, "0")}, expected 0x006d6f73)`);
  }
  const version = view.getUint32(28);
  if (version !== STONE_VERSION) throw new StoneError("STONE_BAD_VERSION", `unsupported stone version ${version} (only 1 is known)`);
  for (let i = 0; i < INTEGRITY_BYTES.length; i++) {
    if (bytes[6 + i] !== INTEGRITY_BYTES[i]) throw new StoneError("STONE_CORRUPT_HEADER", "corrupt header: the integrity bytes do not match");
  }
  return { numPayloads: view.getUint16(4), fileType: bytes[27]!, version };
}

export function encodeContainerHeader(header: Pick<ContainerHeader, "numPayloads" | "fileType">): Uint8Array {
  if (header.numPayloads > 0xffff) {
    throw new StoneError("STONE_UNSUPPORTED", `a stone holds at most 65535 payloads, not ${header.numPayloads}`);
  }
  return new ByteBuilder().u32(STONE_MAGIC).u16(header.numPayloads).bytes(INTEGRITY_BYTES)
    .u8(header.fileType).u32(STONE_VERSION).finish();
}

export function decodePayloadHeader(bytes: Uint8Array): PayloadHeader {
  const view = new DataView(bytes.buffer, bytes.byteOffset, PAYLOAD_HEADER_SIZE);
  const storedSize = view.getBigUint64(0);
  const plainSize = view.getBigUint64(8);
  const limit = BigInt(Number.MAX_SAFE_INTEGER);
  if (storedSize > limit || plainSize > limit) {
    throw new StoneError("STONE_PAYLOAD_SIZE", `payload size ${storedSize > limit ? storedSize : plainSize} is beyond any real file`);
  }
  return {
    storedSize: Number(storedSize),
    plainSize: Number(plainSize),
    checksum: view.getBigUint64(16),
    numRecords: view.getUint32(24),
    version: view.getUint16(28),
    kind: bytes[30]!,
    compression: bytes[31]!,
  };
}

export function encodePayloadHeader(header: PayloadHeader): Uint8Array {
  return new ByteBuilder().u64(header.storedSize).u64(header.plainSize).u64(header.checksum)
    .u32(header.numRecords).u16(header.version).u8(header.kind).u8(header.compression).finish();
}
