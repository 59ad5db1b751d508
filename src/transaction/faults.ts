/**
 * Fault injection for the crash-safety tests: `MOSS_FAULT_KILL=<point>[,<point>…]` makes the
 * process SIGKILL itself when it reaches a named point of a transaction or an activation, exactly
 * as a power cut or `kill -9` would stop it there (no cleanup, no exit handlers). Compiled into
 * every build and inert unless the variable is set; the points are listed so tests can iterate
 * over all of them.
 */
export const TRANSACTION_POINTS = [
  "journal-written",
  "cached", // packages unpacked and recorded; staging may hold the part of the tree that did not wait for them
  "blit-half", // half of the entries are in staging
  "blitted",
  "metadata-written", // .stateID, os-release in staging
  "triggers-done", // the transaction triggers ran on the staging tree
  "staging-synced",
  "state-recorded", // the state row is committed, the swap has not happened
  "swapped", // the new tree is /usr, the old one sits in staging/usr
  "swap-synced",
  "archived",
  "links-done",
] as const;

export const ACTIVATION_POINTS = ["activate-journal-written", "activate-moved", "activate-swapped", "activate-archived"] as const;

export type FaultPoint = (typeof TRANSACTION_POINTS)[number] | (typeof ACTIVATION_POINTS)[number];

let armed: Set<string> | undefined;

/** Stop dead here if the test asked for it. Costs one Set lookup when armed, nothing otherwise. */
export function faultPoint(point: FaultPoint): void {
  armed ??= new Set((process.env.MOSS_FAULT_KILL ?? "").split(",").filter(Boolean));
  if (armed.size > 0 && armed.has(point)) process.kill(process.pid, "SIGKILL");
}

/**
 * `MOSS_FAULT_PAUSE=<point>` holds the process at a point for `MOSS_FAULT_PAUSE_MS` (default
 * 2000) with the event loop running, so a test can deliver signals inside a critical section.
 */
export async function pausePoint(point: FaultPoint): Promise<void> {
  if (process.env.MOSS_FAULT_PAUSE !== point) return;
  process.stderr.write(`moss: paused at ${point}\n`);
  await Bun.sleep(Number(process.env.MOSS_FAULT_PAUSE_MS ?? 2000));
}
