/**
 * A critical section that SIGINT and SIGTERM cannot cut: the signal is held until the section
 * ends and then honoured (exit 130/143), so a Ctrl-C during a swap leaves a finished transaction
 * rather than a half one. A second Ctrl-C explains why nothing happens yet. SIGKILL and power
 * cuts cannot be held; recovery (recovery.ts) covers those.
 */
import { err } from "../ui/output.ts";

const EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;
type HeldSignal = keyof typeof EXIT_CODES;

export async function withSignalsHeld<T>(what: string, work: () => T | Promise<T>): Promise<T> {
  let pending: HeldSignal | undefined;
  let presses = 0;
  const handlers = {} as Record<HeldSignal, () => void>;
  for (const signal of Object.keys(EXIT_CODES) as HeldSignal[]) {
    handlers[signal] = () => {
      pending ??= signal;
      if (++presses === 2) err(`moss: ${what}; stopping now would leave the system half-switched. It will stop as soon as this step is done.`);
    };
    process.on(signal, handlers[signal]);
  }
  try {
    return await work();
  } finally {
    for (const signal of Object.keys(EXIT_CODES) as HeldSignal[]) process.off(signal, handlers[signal]);
    if (pending) process.exit(EXIT_CODES[pending]);
  }
}
