/** Meta records (stone §6.1): an 8-byte header, then a value of one primitive type. */
import { ByteBuilder, Cursor, decodeText } from "../cursor.ts";
import { dependencyFromKind } from "../dependency.ts";
import { StoneError } from "../errors.ts";
import { MetaPrimitive, type MetaRecord, type MetaValue } from "../types.ts";

const INT_WIDTH: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 2, 5: 4, 6: 4, 7: 8, 8: 8 };
const SIGNED = new Set<number>([MetaPrimitive.Int8, MetaPrimitive.Int16, MetaPrimitive.Int32, MetaPrimitive.Int64]);
const utf8 = new TextEncoder();

/** The smallest possible record, used to refuse a record count no body could hold. */
export const META_RECORD_MIN_SIZE = 8;

export function decodeMetaRecord(cursor: Cursor, index: number): MetaRecord {
  const what = `meta record ${index}`;
  const length = cursor.u32(`${what} length`);
  const tag = cursor.u16(`${what} tag`);
  const primitive = cursor.u8(`${what} type`);
  cursor.skip(1, `${what} padding`);
  const body = cursor.bytesView(length, `${what} value`);
  return { tag, value: decodeValue(primitive, body, what) };
}

function decodeValue(primitive: number, body: Uint8Array, what: string): MetaValue {
  const width = INT_WIDTH[primitive];
  if (width !== undefined) {
    if (body.length !== width) {
      throw new StoneError("STONE_RECORD", `${what}: an integer of type ${primitive} must be ${width} bytes long, not ${body.length}`);
    }
    return { type: "int", primitive, value: readInt(body, SIGNED.has(primitive)) };
  }
  switch (primitive) {
    case MetaPrimitive.String:
      return { type: "string", value: decodeText(body, `${what} string`) };
    case MetaPrimitive.Dependency:
    case MetaPrimitive.Provider: {
      if (body.length < 2) throw new StoneError("STONE_RECORD", `${what}: a dependency or provider needs a kind and a name`);
      const dependency = dependencyFromKind(body[0]!, decodeText(body.subarray(1), `${what} name`));
      if (dependency.name.length === 0) throw new StoneError("STONE_RECORD", `${what}: empty dependency or provider name`);
      return primitive === MetaPrimitive.Dependency ? { type: "dependency", value: dependency } : { type: "provider", value: dependency };
    }
    default:
      return { type: "unknown", primitive, bytes: body.slice() };
  }
}

function readInt(body: Uint8Array, signed: boolean): bigint {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  switch (body.length) {
    case 1: return BigInt(signed ? view.getInt8(0) : view.getUint8(0));
    case 2: return BigInt(signed ? view.getInt16(0) : view.getUint16(0));
    case 4: return BigInt(signed ? view.getInt32(0) : view.getUint32(0));
    default: return signed ? view.getBigInt64(0) : view.getBigUint64(0);
  }
}

/** Strings end in one NUL counted in `length`, as every writer does (stone §12). */
export function encodeMetaRecord(out: ByteBuilder, record: MetaRecord): void {
  const { tag, value } = record;
  switch (value.type) {
    case "int": {
      const width = INT_WIDTH[value.primitive];
      if (width === undefined) throw new StoneError("STONE_RECORD", `meta tag ${tag}: ${value.primitive} is not an integer type`);
      // DataView would wrap an out-of-range value silently (-1 as uint64 becomes 2^64 - 1).
      const bits = BigInt(width * 8);
      const [min, max] = SIGNED.has(value.primitive) ? [-(1n << (bits - 1n)), (1n << (bits - 1n)) - 1n] : [0n, (1n << bits) - 1n];
      if (value.value < min || value.value > max) {
        throw new StoneError("STONE_RECORD", `meta tag ${tag}: ${value.value} does not fit an integer of type ${value.primitive} (${min}..${max})`);
      }
      out.u32(width).u16(tag).u8(value.primitive).u8(0);
      const bytes = new Uint8Array(8);
      const view = new DataView(bytes.buffer);
      if (SIGNED.has(value.primitive)) view.setBigInt64(0, value.value);
      else view.setBigUint64(0, value.value);
      out.bytes(bytes.subarray(8 - width));
      return;
    }
    case "string": {
      const text = utf8.encode(value.value);
      out.u32(text.length + 1).u16(tag).u8(MetaPrimitive.String).u8(0).bytes(text).u8(0);
      return;
    }
    case "dependency":
    case "provider": {
      const text = utf8.encode(value.value.name);
      const primitive = value.type === "dependency" ? MetaPrimitive.Dependency : MetaPrimitive.Provider;
      out.u32(text.length + 2).u16(tag).u8(primitive).u8(0).u8(value.value.kindValue).bytes(text).u8(0);
      return;
    }
    case "unknown":
      out.u32(value.bytes.length).u16(tag).u8(value.primitive).u8(0).bytes(value.bytes);
  }
}
