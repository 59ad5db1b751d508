/** Attribute records (stone §6.4): no writer produces them; decoded for completeness. */
import { ByteBuilder, Cursor } from "../cursor.ts";
import type { AttributeRecord } from "../types.ts";

export const ATTRIBUTE_RECORD_MIN_SIZE = 16;

export function decodeAttributeRecord(cursor: Cursor, index: number): AttributeRecord {
  const what = `attribute record ${index}`;
  const keyLength = cursor.u64Number(`${what} key length`);
  const valueLength = cursor.u64Number(`${what} value length`);
  const key = cursor.bytesView(keyLength, `${what} key`).slice();
  const value = cursor.bytesView(valueLength, `${what} value`).slice();
  return { key, value };
}

export function encodeAttributeRecord(out: ByteBuilder, record: AttributeRecord): void {
  out.u64(record.key.length).u64(record.value.length).bytes(record.key).bytes(record.value);
}
