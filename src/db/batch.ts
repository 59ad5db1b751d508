/** Multi-row INSERT statements filled row by row (moss-behaviour §2.1: chunks under the parameter limit). */
import type { Database, SQLQueryBindings } from "bun:sqlite";
import { INSERT_PARAMETERS_PER_STATEMENT } from "./limits.ts";

/**
 * Collects rows for `INSERT … VALUES` and runs one statement per full chunk. Use inside a
 * transaction and call `flush()` at the end for the remainder.
 */
export class ChunkedInsert {
  private readonly rowsPerStatement: number;
  private readonly values: SQLQueryBindings[];
  private readonly fullChunkSql: string;
  private rows = 0;

  /** `head` is everything before the row tuples, e.g. `INSERT INTO t (a, b) VALUES`. */
  constructor(
    private readonly db: Database,
    private readonly head: string,
    private readonly columns: number,
  ) {
    this.rowsPerStatement = Math.max(1, Math.floor(INSERT_PARAMETERS_PER_STATEMENT / columns));
    this.values = new Array(this.rowsPerStatement * columns);
    this.fullChunkSql = this.sqlFor(this.rowsPerStatement);
  }

  push(...row: SQLQueryBindings[]): void {
    let at = this.rows * this.columns;
    for (const value of row) this.values[at++] = value;
    if (++this.rows === this.rowsPerStatement) this.flush();
  }

  flush(): void {
    if (this.rows === 0) return;
    const count = this.rows;
    this.rows = 0;
    // Bun caches statements by their text, so every chunk size is prepared once per connection.
    if (count === this.rowsPerStatement) this.db.query(this.fullChunkSql).run(...this.values);
    else this.db.query(this.sqlFor(count)).run(...this.values.slice(0, count * this.columns));
  }

  private sqlFor(count: number): string {
    const tuple = `(${new Array(this.columns).fill("?").join(",")})`;
    return `${this.head} ${new Array(count).fill(tuple).join(",")}`;
  }
}
