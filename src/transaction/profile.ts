/**
 * Phase timings of a transaction, printed to stderr when `MOSS_PROFILE=1`: where an install's
 * seconds and megabytes go (unpack, database, VFS, blit, sync). Inert otherwise: one property
 * read per phase.
 */
export const PROFILE_ENV = "MOSS_PROFILE";

const enabled = process.env[PROFILE_ENV] === "1";
let last = performance.now();

/** Mark the end of the phase that started at the previous mark (or at process start). */
export function profileMark(phase: string): void {
  if (!enabled) return;
  const now = performance.now();
  const rssMiB = process.memoryUsage.rss() / 2 ** 20;
  process.stderr.write(`[profile] ${phase.padEnd(24)} ${(now - last).toFixed(1).padStart(8)} ms  rss ${rssMiB.toFixed(0)} MiB\n`);
  last = now;
}

export function profiling(): boolean {
  return enabled;
}
