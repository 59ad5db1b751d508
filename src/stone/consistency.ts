/** Cross-payload checks no single record can make (stone §6.3): layout and index must agree. */
import { EMPTY_FILE_DIGEST } from "../constants.ts";
import { StoneError } from "./errors.ts";
import { LayoutEntryType, type IndexRecord, type LayoutRecord } from "./types.ts";

/**
 * Every regular file must have its content in the package; the empty file is exempt because
 * moss creates it instead of linking an asset.
 */
export function checkLayoutAgainstIndex(layout: LayoutRecord[], index: IndexRecord[], file?: string): void {
  const digests = new Set(index.map((record) => record.digest));
  for (const entry of layout) {
    if (entry.entryType !== LayoutEntryType.Regular || entry.digest === EMPTY_FILE_DIGEST) continue;
    if (!digests.has(entry.digest!)) {
      throw new StoneError("STONE_INDEX", `layout entry /usr/${entry.target} refers to content ${entry.digest} that the package does not contain`, { file });
    }
  }
}
