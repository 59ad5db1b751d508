/** Index records (stone §6.3): where each unique file sits in the decompressed content. */
import { ByteBuilder, Cursor, hex, unhex } from "../cursor.ts";
import { StoneError } from "../errors.ts";
import type { IndexRecord } from "../types.ts";

export const INDEX_RECORD_SIZE = 32;

export function decodeIndexRecord(cursor: Cursor, index: number): IndexRecord {
  const what = `index record ${index}`;
  const start = cursor.u64Number(`${what} start`);
  const end = cursor.u64Number(`${what} end`);
  const digest = hex(cursor.bytesView(16, `${what} digest`));
  if (end < start) throw new StoneError("STONE_INDEX", `${what} ends (${end}) before it starts (${start})`);
  return { start, end, digest };
}

export function encodeIndexRecord(out: ByteBuilder, record: IndexRecord): void {
  out.u64(record.start).u64(record.end).bytes(unhex(record.digest, 16, "index digest"));
}
