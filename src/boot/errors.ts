import { MossError } from "../errors.ts";

/**
 * A boot synchronisation that cannot be done: codes `BOOT_NO_ESP`, `BOOT_NOT_MOUNTED`,
 * `BOOT_NO_SPACE`, `BOOT_NO_OS_IDENTITY`, `BOOT_MOUNT`, `BOOT_UNSUPPORTED_FIRMWARE`.
 */
export class BootError extends MossError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = "BootError";
  }
}
