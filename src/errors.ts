/**
 * The root of every error moss-ts raises on purpose. The CLI prints `Error: <message>` for these
 * and exits 1; anything else that escapes is a bug and is reported as one.
 */
export class MossError extends Error {
  /** A stable, machine-readable code (e.g. `STONE_CHECKSUM`), kept across releases. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "MossError";
    this.code = code;
  }
}

/** A command line the argument parser cannot accept: printed on stderr, exit 2. */
export class UsageError extends MossError {
  constructor(message: string) {
    super("USAGE", message);
    this.name = "UsageError";
  }
}

export function isMossError(error: unknown): error is MossError {
  return error instanceof MossError;
}
