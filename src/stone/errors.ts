import { MossError } from "../errors.ts";

/** Stable codes for everything that can be wrong with a `.stone` file. */
export type StoneErrorCode =
  | "STONE_IO"
  | "STONE_TRUNCATED"
  | "STONE_BAD_MAGIC"
  | "STONE_BAD_VERSION"
  | "STONE_CORRUPT_HEADER"
  | "STONE_TRAILING_DATA"
  | "STONE_PAYLOAD_SIZE"
  | "STONE_CHECKSUM"
  | "STONE_DECOMPRESS"
  | "STONE_PLAIN_SIZE"
  | "STONE_RECORD"
  | "STONE_RECORD_COUNT"
  | "STONE_UTF8"
  | "STONE_INDEX"
  | "STONE_DIGEST"
  | "STONE_DUPLICATE_CONTENT"
  | "STONE_MISSING_META"
  | "STONE_UNSUPPORTED";

/** Where in a stone a problem was found; every message names the file and, when known, the payload. */
export interface StoneErrorWhere {
  file?: string;
  /** e.g. `payload 2 (index)` */
  payload?: string;
}

export class StoneError extends MossError {
  declare readonly code: StoneErrorCode;
  readonly file?: string;
  readonly payload?: string;
  /** The bare problem, without file and payload. */
  readonly detail: string;

  constructor(code: StoneErrorCode, detail: string, where: StoneErrorWhere = {}, options?: { cause?: unknown }) {
    const prefix = [where.file, where.payload].filter(Boolean).join(": ");
    super(code, prefix ? `${prefix}: ${detail}` : detail, options);
    this.name = "StoneError";
    this.file = where.file;
    this.payload = where.payload;
    this.detail = detail;
  }

  /** The same error, placed in a file and payload that a lower layer did not know. */
  locate(where: StoneErrorWhere): StoneError {
    return new StoneError(
      this.code,
      this.detail,
      { file: this.file ?? where.file, payload: this.payload ?? where.payload },
      { cause: this.cause },
    );
  }
}
