/** Random access to a stone's bytes: a file read by offset, or bytes already in memory (tests, fuzzing). */
import fs from "node:fs";
import { MossError } from "../errors.ts";
import { StoneError } from "./errors.ts";

export interface ByteSource {
  readonly name: string;
  readonly size: number;
  /** Exactly `length` bytes at `offset`, or a StoneError. */
  read(offset: number, length: number): Uint8Array;
  /**
   * `target.length` bytes at `offset`, read into `target` (a file) or as a view of bytes already
   * in memory (a buffer): use the returned array, never assume which.
   */
  readInto(offset: number, target: Uint8Array): Uint8Array;
  close(): void;
}

export class BufferSource implements ByteSource {
  readonly size: number;
  constructor(readonly name: string, private readonly bytes: Uint8Array) {
    this.size = bytes.length;
  }
  read(offset: number, length: number): Uint8Array {
    if (offset + length > this.size) throw new StoneError("STONE_TRUNCATED", `unexpected end of file at offset ${this.size}`);
    return this.bytes.subarray(offset, offset + length);
  }
  readInto(offset: number, target: Uint8Array): Uint8Array {
    return this.read(offset, target.length);
  }
  close(): void {}
}

export class FileSource implements ByteSource {
  readonly size: number;
  private fd: number | null;

  constructor(readonly name: string) {
    try {
      this.fd = fs.openSync(name, "r");
      const stat = fs.fstatSync(this.fd);
      if (!stat.isFile()) {
        fs.closeSync(this.fd);
        throw new StoneError("STONE_IO", "not a regular file", { file: name });
      }
      this.size = stat.size;
    } catch (error) {
      if (error instanceof MossError) throw error;
      throw ioError(name, error);
    }
  }

  get descriptor(): number {
    if (this.fd === null) throw new StoneError("STONE_IO", "file is closed", { file: this.name });
    return this.fd;
  }

  read(offset: number, length: number): Uint8Array {
    return this.readInto(offset, new Uint8Array(length));
  }

  readInto(offset: number, buffer: Uint8Array): Uint8Array {
    const length = buffer.length;
    if (offset + length > this.size) throw new StoneError("STONE_TRUNCATED", `unexpected end of file at offset ${this.size}`);
    let done = 0;
    while (done < length) {
      const count = fs.readSync(this.descriptor, buffer, done, length - done, offset + done);
      if (count === 0) throw new StoneError("STONE_TRUNCATED", `file shrank while being read (at offset ${offset + done})`);
      done += count;
    }
    return buffer;
  }

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}

function ioError(name: string, error: unknown): StoneError {
  const code = (error as NodeJS.ErrnoException)?.code;
  const reason =
    code === "ENOENT" ? "no such file" :
    code === "EACCES" ? "permission denied" :
    code === "EISDIR" ? "is a directory" :
    (error as Error)?.message ?? String(error);
  return new StoneError("STONE_IO", reason, { file: name });
}
