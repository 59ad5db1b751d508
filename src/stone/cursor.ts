import { StoneError } from "./errors.ts";

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Reads big-endian fields from a decoded body, never past its end. Running out of bytes is a
 * record error: a body must hold exactly the records its header promises.
 */
export class Cursor {
  private readonly view: DataView;
  pos = 0;

  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  need(count: number, what: string): void {
    if (count > this.remaining) {
      throw new StoneError("STONE_RECORD", `${what} needs ${count} bytes at offset ${this.pos}, but only ${this.remaining} remain`);
    }
  }

  u8(what: string): number {
    this.need(1, what);
    return this.view.getUint8(this.pos++);
  }

  u16(what: string): number {
    this.need(2, what);
    const value = this.view.getUint16(this.pos);
    this.pos += 2;
    return value;
  }

  u32(what: string): number {
    this.need(4, what);
    const value = this.view.getUint32(this.pos);
    this.pos += 4;
    return value;
  }

  u64(what: string): bigint {
    this.need(8, what);
    const value = this.view.getBigUint64(this.pos);
    this.pos += 8;
    return value;
  }

  /** A u64 that is a size or offset: it must fit a JS number exactly. */
  u64Number(what: string): number {
    const value = this.u64(what);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new StoneError("STONE_RECORD", `${what} ${value} is beyond any real file`);
    }
    return Number(value);
  }

  bytesView(count: number, what: string): Uint8Array {
    this.need(count, what);
    const slice = this.bytes.subarray(this.pos, this.pos + count);
    this.pos += count;
    return slice;
  }

  skip(count: number, what: string): void {
    this.need(count, what);
    this.pos += count;
  }
}

/** Text fields may end in NULs that are counted in their length (stone §6.1, §6.2): strip them all. */
export function decodeText(bytes: Uint8Array, what: string): string {
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  try {
    return utf8.decode(bytes.subarray(0, end));
  } catch {
    throw new StoneError("STONE_UTF8", `${what} is not valid UTF-8`);
  }
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

export function unhex(text: string, length: number, what: string): Uint8Array {
  if (text.length !== length * 2 || !/^[0-9a-f]*$/i.test(text)) {
    throw new StoneError("STONE_RECORD", `${what} "${text}" is not ${length * 2} hex digits`);
  }
  return new Uint8Array(Buffer.from(text, "hex"));
}

/** A growable big-endian byte builder for the writer. */
export class ByteBuilder {
  private buffer = new Uint8Array(256);
  private view = new DataView(this.buffer.buffer);
  length = 0;

  private reserve(count: number): number {
    const at = this.length;
    if (at + count > this.buffer.length) {
      let size = this.buffer.length * 2;
      while (size < at + count) size *= 2;
      const grown = new Uint8Array(size);
      grown.set(this.buffer.subarray(0, at));
      this.buffer = grown;
      this.view = new DataView(grown.buffer);
    }
    this.length += count;
    return at;
  }

  // `reserve` may replace the buffer, so it is always called before the buffer is touched.
  u8(value: number): this {
    const at = this.reserve(1);
    this.view.setUint8(at, value);
    return this;
  }
  u16(value: number): this {
    const at = this.reserve(2);
    this.view.setUint16(at, value);
    return this;
  }
  u32(value: number): this {
    const at = this.reserve(4);
    this.view.setUint32(at, value);
    return this;
  }
  u64(value: bigint | number): this {
    const at = this.reserve(8);
    this.view.setBigUint64(at, BigInt(value));
    return this;
  }
  bytes(value: Uint8Array): this {
    const at = this.reserve(value.length);
    this.buffer.set(value, at);
    return this;
  }
  zeros(count: number): this {
    const at = this.reserve(count);
    this.buffer.fill(0, at, this.length);
    return this;
  }
  finish(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }
}
