/**
 * The boot sync that follows a change of state (boot-management §1.11 "Ours"): the new state is
 * live whatever happens here, so a failure is a warning naming the command that retries it, never
 * an error exit; a root with nothing to boot (no kernel, no systemd-boot) is left alone quietly.
 */
import { syncBoot } from "../client/boot.ts";
import type { Session } from "../client/session.ts";
import { err, warn } from "../ui/output.ts";
import type { GlobalOptions } from "./argv.ts";

/** Warns about states whose entries did not fit on the ESP. */
export function warnDroppedForSpace(states: readonly number[]): void {
  warn(`the ESP is too full for every state: state(s) ${states.join(", ")} lost their boot entries`);
}

export async function syncBootAfter(session: Session, globals: GlobalOptions, opts: { settlesRollback: boolean }): Promise<void> {
  try {
    const outcome = await syncBoot(session.installation, session.dbs, {
      esp: globals.esp, xbootldr: globals.xbootldr, settlesRollback: opts.settlesRollback, warn,
    });
    if (outcome.status === "not-applicable" && globals.verbose) err(`boot entries not updated: ${outcome.reason}`);
    if (outcome.status === "synced" && outcome.plan.droppedForSpace.length > 0) warnDroppedForSpace(outcome.plan.droppedForSpace);
  } catch (error) {
    warn(`boot entries not updated: ${(error as Error).message}\nThe new state is active; run \`moss boot sync\` once this is fixed.`);
  }
}

/** After a transaction: what its triggers had to say, then the boot entries for the new state. */
export async function afterNewState(session: Session, globals: GlobalOptions, result: { triggerWarnings: readonly string[] }): Promise<void> {
  for (const warning of result.triggerWarnings) warn(warning);
  await syncBootAfter(session, globals, { settlesRollback: true });
}
