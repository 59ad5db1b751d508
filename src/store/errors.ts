import { MossError } from "../errors.ts";

/** Stable codes for what can go wrong in the content store and the download cache. */
export type StoreErrorCode =
  /** A download hash too short (or not hex) to name a cache path (spec §1.3). */
  | "STORE_MALFORMED_HASH"
  /** A content digest that is not 1–32 hex digits. */
  | "STORE_MALFORMED_DIGEST"
  /** Index records but no content payload (spec §3.6 step 3). */
  | "STORE_MISSING_CONTENT"
  /** A file system call failed; the message names the path. */
  | "STORE_IO";

export class StoreError extends MossError {
  declare readonly code: StoreErrorCode;

  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = "StoreError";
  }
}

/** An errno failure, placed once at the path it concerns. */
export function storeIoError(action: string, where: string, error: unknown): StoreError {
  const reason = (error as NodeJS.ErrnoException)?.code ?? (error as Error)?.message ?? String(error);
  return new StoreError("STORE_IO", `${action} ${where}: ${reason}`, { cause: error });
}

export function errnoOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}
