/**
 * Tuning numbers of the database layer, each with its reason. (They belong in src/constants.ts;
 * they live here until that file is opened to this module.)
 */

/**
 * How long a statement waits for a lock another process holds. Rust moss (rusqlite) waits 5 s by
 * default, so a moss-ts run beside a Rust reader behaves as two Rust runs would.
 */
export const BUSY_TIMEOUT_MS = 5000;

/**
 * Bound values per multi-row INSERT. Bun's per-call cost dominates single-row inserts (200,000
 * layout rows: ~1.0–1.4 s one row per statement, ~0.45–0.7 s at 64 rows × 8 columns; larger
 * statements were no faster). 512 also stays far under every SQLite build's parameter limit
 * (999 before 3.32, 32,766 since), as moss-behaviour §2.1 requires.
 */
export const INSERT_PARAMETERS_PER_STATEMENT = 512;
