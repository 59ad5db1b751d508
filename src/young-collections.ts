/**
 * Young-generation collections paced by the work a loop does (rows read or written, entries
 * walked): the engine lets short-lived garbage of a long synchronous loop pile up far past what
 * is live, and a young collection every few thousand units keeps it from becoming peak memory.
 */
export class YoungCollections {
  private since = 0;

  constructor(private readonly every: number) {}

  /** `units` more done: collect once `every` have been done since the last collection. */
  done(units: number): void {
    this.since += units;
    if (this.since < this.every) return;
    this.since = 0;
    Bun.gc(false);
  }
}
