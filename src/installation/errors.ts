import { MossError } from "../errors.ts";

/** Stable codes for what can be wrong with a root before any package work starts. */
export type InstallationErrorCode =
  | "INSTALLATION_ROOT"
  | "INSTALLATION_CACHE"
  | "INSTALLATION_LOCK"
  | "INSTALLATION_READ_ONLY"
  | "INSTALLATION_ROOT_LINKS"
  | "INSTALLATION_STATE_ID"
  | "INSTALLATION_IO";

export class InstallationError extends MossError {
  declare readonly code: InstallationErrorCode;

  constructor(code: InstallationErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = "InstallationError";
  }
}
