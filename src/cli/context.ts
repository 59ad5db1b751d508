/** The parsed global options, set once by main before any sub-command runs. */
import type { GlobalOptions } from "./argv.ts";

let current: GlobalOptions | undefined;

export function setGlobals(globals: GlobalOptions): void {
  current = globals;
}

export function globals(): GlobalOptions {
  if (!current) throw new Error("global options read before they were parsed");
  return current;
}
