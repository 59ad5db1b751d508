/**
 * The tree of a new state, built while its packages are still being cached. The rows go in as
 * spec §3.9 orders them, database row order: first the packages already in the layout database,
 * read now, a slice at a time between the unpacks' callbacks; then, once caching is done, the
 * packages it recorded (their rows are the newest). On two cores an update left one core idle
 * during the unpack and the other during the tree build; now the build fills the unpack's gaps.
 * The cached packages' rows are not kept from their unpack for the tree: a fresh install would
 * then hold its whole tree beside the unpack's buffers (146 MiB peak instead of 126).
 */
import { TREE_READ_SLICE_ROWS } from "../constants.ts";
import { profileMark } from "./profile.ts";
import type { LayoutDb } from "../db/index.ts";
import { VfsBuilder, type BuildVfsOptions, type Vfs, type VfsRow } from "../vfs/index.ts";

export class SelectionTree {
  private readonly builder: VfsBuilder;
  private readonly caching: readonly string[];
  private stopped = false;
  /** The tree is wanted now: the rows left are read without yielding. */
  private hurried = false;
  private failure: { error: unknown } | undefined;
  private readonly reading: Promise<void>;

  /**
   * Starts reading the rows of every selected package that is not in `caching`: the packages
   * being cached now, whose rows (if they had any) are about to be replaced.
   */
  constructor(private readonly layout: LayoutDb, selectedIds: readonly string[], caching: ReadonlySet<string>, opts: BuildVfsOptions = {}) {
    this.builder = new VfsBuilder(opts);
    this.caching = selectedIds.filter((id) => caching.has(id));
    const present = selectedIds.filter((id) => !caching.has(id));
    this.reading = this.read(present).catch((error: unknown) => {
      this.failure = { error };
      this.stopped = true;
    });
  }

  private async read(ids: readonly string[]): Promise<void> {
    let rows = 0;
    for (const row of this.layout.entries(ids)) {
      if (this.stopped) return;
      this.builder.add(row);
      // Let the unpack's callbacks (results, downloads, this thread's own unpacker) run between slices.
      if (!this.hurried && ++rows % TREE_READ_SLICE_ROWS === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /** The finished tree, once caching recorded every package; throws what reading or building found. */
  finish(): Promise<Vfs> {
    return this.finishWith(this.layout.entries(this.caching));
  }

  /**
   * The finished tree, with the cached packages' rows given here: from the database once caching
   * recorded them (finish), or read from their files in the order caching records them, so that
   * the tree is whole before caching is.
   */
  async finishWith(cachedRows: Iterable<VfsRow>): Promise<Vfs> {
    this.hurried = true;
    await this.reading;
    if (this.failure) throw this.failure.error;
    profileMark("tree: kept rows");
    for (const row of cachedRows) this.builder.add(row);
    profileMark("tree: new rows");
    return this.builder.finish();
  }

  /** The caching failed: stop reading, and wait until the reader has let go of the database. */
  async abandon(): Promise<void> {
    this.stopped = true;
    await this.reading;
  }
}
