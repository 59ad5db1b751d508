/** Layout records (stone §6.2): 32 fixed bytes, then `source`, then `target`. */
import { ByteBuilder, Cursor, decodeText, hex, unhex } from "../cursor.ts";
import { StoneError } from "../errors.ts";
import { LAYOUT_TYPE_NAMES, LayoutEntryType, type LayoutRecord } from "../types.ts";

export const LAYOUT_RECORD_MIN_SIZE = 32;
const utf8 = new TextEncoder();

export function decodeLayoutRecord(cursor: Cursor, index: number): LayoutRecord {
  const what = `layout record ${index}`;
  const uid = cursor.u32(`${what} uid`);
  const gid = cursor.u32(`${what} gid`);
  const mode = cursor.u32(`${what} mode`);
  const tag = cursor.u32(`${what} tag`);
  const sourceLength = cursor.u16(`${what} source length`);
  const targetLength = cursor.u16(`${what} target length`);
  const entryType = cursor.u8(`${what} type`);
  cursor.skip(11, `${what} padding`);
  // Always step over `source_len` bytes whatever the type; Rust trusts it to be 0 and drifts.
  const source = cursor.bytesView(sourceLength, `${what} source`);
  const target = decodeText(cursor.bytesView(targetLength, `${what} target`), `${what} target`);
  if (target.length === 0) throw new StoneError("STONE_RECORD", `${what} has an empty target path`);
  const record: LayoutRecord = { uid, gid, mode, tag, entryType, target };
  if (entryType === LayoutEntryType.Regular) {
    if (source.length !== 16) throw new StoneError("STONE_RECORD", `${what} (${target}): a regular file's digest must be 16 bytes, not ${source.length}`);
    record.digest = hex(source);
  } else if (entryType === LayoutEntryType.Symlink || entryType > LayoutEntryType.Socket || entryType === 0) {
    record.source = decodeText(source, `${what} source`);
  }
  return record;
}

/** Text fields are written without a NUL, as the Rust writer does. */
export function encodeLayoutRecord(out: ByteBuilder, record: LayoutRecord): void {
  const target = utf8.encode(record.target);
  let source: Uint8Array = new Uint8Array(0);
  if (record.entryType === LayoutEntryType.Regular) {
    source = unhex(record.digest ?? "", 16, `layout entry ${record.target} digest`);
  } else if (record.source !== undefined) {
    // Rust never reads the source of types 3–7 and would drift by its length (stone §6.2).
    if (record.entryType >= LayoutEntryType.Directory && record.entryType <= LayoutEntryType.Socket) {
      throw new StoneError("STONE_RECORD", `layout entry ${record.target}: a ${LAYOUT_TYPE_NAMES[record.entryType]} entry has no source`);
    }
    source = utf8.encode(record.source);
  }
  if (source.length > 0xffff || target.length > 0xffff) {
    throw new StoneError("STONE_RECORD", `layout entry ${record.target}: path longer than 65535 bytes`);
  }
  out.u32(record.uid).u32(record.gid).u32(record.mode).u32(record.tag)
    .u16(source.length).u16(target.length).u8(record.entryType).zeros(11)
    .bytes(source).bytes(target);
}
