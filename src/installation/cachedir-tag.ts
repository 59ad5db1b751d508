import fs from "node:fs";
import path from "node:path";

/**
 * The cache directory tag (bford.info/cachedir) that makes backup tools skip the cache; byte for
 * byte what Rust writes, without a final newline.
 */
export const CACHEDIR_TAG =
  "Signature: 8a477f597d28d172789f06886806bc55\n" +
  "# This file is a cache directory tag created by moss.\n" +
  "# For information about cache directory tags see https://bford.info/cachedir/";

/** Write the tag into `dir` unless one is there. Best effort, like the directories around it. */
export function ensureCachedirTag(dir: string): void {
  try {
    fs.writeFileSync(path.join(dir, "CACHEDIR.TAG"), CACHEDIR_TAG, { flag: "wx", mode: 0o644 });
  } catch {
    // EEXIST is the common case; on a root we cannot write, opening falls back to read-only anyway.
  }
}
