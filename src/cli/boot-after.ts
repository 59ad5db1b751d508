/**
 * The boot sync that follows a change of state (boot-management §1.11 "Ours"): the new state is
 * live whatever happens here, so a failure is a warning naming the command that retries it, never
 * an error exit; a root with nothing to boot (no kernel, no systemd-boot) is left alone quietly.
 */
import { syncBoot, type BootSyncOutcome } from "../client/boot.ts";
import type { Session } from "../client/session.ts";
import { err } from "../ui/output.ts";
import type { GlobalOptions } from "./argv.ts";

export async function syncBootAfter(session: Session, globals: GlobalOptions, opts: { settlesRollback: boolean }): Promise<BootSyncOutcome | { status: "failed"; error: string }> {
  try {
    const outcome = await syncBoot(session.installation, session.dbs, {
      esp: globals.esp, xbootldr: globals.xbootldr, settlesRollback: opts.settlesRollback, warn: (message) => err(`Warning: ${message}`),
    });
    if (outcome.status === "not-applicable" && globals.verbose) err(`boot entries not updated: ${outcome.reason}`);
    if (outcome.status === "synced" && outcome.plan.droppedForSpace.length > 0) {
      err(`Warning: the ESP is too full for every state: state(s) ${outcome.plan.droppedForSpace.join(", ")} lost their boot entries`);
    }
    return outcome;
  } catch (error) {
    const message = (error as Error).message;
    err(`Warning: boot entries not updated: ${message}\nThe new state is active; run \`moss boot sync\` once this is fixed.`);
    return { status: "failed", error: message };
  }
}

/** After a transaction: what its triggers had to say, then the boot entries for the new state. */
export async function afterNewState(session: Session, globals: GlobalOptions, result: { triggerWarnings: readonly string[] }): Promise<void> {
  for (const warning of result.triggerWarnings) err(`Warning: ${warning}`);
  await syncBootAfter(session, globals, { settlesRollback: true });
}
