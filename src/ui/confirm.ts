/**
 * The one question moss asks (spec §3.4): `Do you wish to continue?`, default no. `-y` answers
 * yes; with no terminal to ask on, the answer is no and the error says that `-y` is needed
 * (Rust fails with "not a terminal", spec §9 #50). consola draws the prompt; it is imported only
 * when a question is actually asked.
 */
import { MossError } from "../errors.ts";

export class CancelledError extends MossError {
  constructor(message = "cancelled") {
    super("CANCELLED", message);
    this.name = "CancelledError";
  }
}

export async function confirmOrCancel(question: string, opts: { yes: boolean }): Promise<void> {
  if (opts.yes) return;
  if (!process.stdin.isTTY) throw new CancelledError(`${question} needs an answer, but stdin is not a terminal: pass -y to continue`);
  const { consola } = await import("consola");
  const answer = await consola.prompt(question, { type: "confirm", initial: false, cancel: "null" });
  if (answer !== true) throw new CancelledError();
}
