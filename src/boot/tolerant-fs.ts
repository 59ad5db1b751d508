/**
 * Reads where "not there" is an answer, not an error: a directory that does not exist lists
 * nothing, a file that cannot be read has no text. Probes and plans ask many such questions.
 */
import fs from "node:fs";

/** Names in `dir`, sorted; none when it does not exist or is not a directory. */
export function listNames(dir: string): string[] {
  try {
    return fs.readdirSync(dir).sort();
  } catch {
    return [];
  }
}

/** The text of `file`, or undefined when it cannot be read. */
export function readTextIfAny(file: string): string | undefined {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}
