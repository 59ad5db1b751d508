/**
 * The transaction journal: one small file, `/.moss/root/.moss-transaction`, written (and made
 * durable) before a new state's tree is built and removed once the state is live and the old one
 * archived. Recovery reads it to tell a fresh state that never went live (discard it) from an
 * archived state caught between two renames (put it back). Rust moss writes no journal; without
 * one, recovery falls back to what the trees and the state rows say.
 */
import fs from "node:fs";
import path from "node:path";

export type Journal =
  | { kind: "new-state"; stateId: number; previous: number | null; pid: number }
  | { kind: "activate"; stateId: number; previous: number; pid: number };

export const JOURNAL_NAME = ".moss-transaction";

export function journalPath(rootsDir: string): string {
  return path.join(rootsDir, JOURNAL_NAME);
}

export function writeJournal(rootsDir: string, journal: Journal): void {
  const file = journalPath(rootsDir);
  const temp = `${file}.${process.pid}.tmp`;
  const fd = fs.openSync(temp, "w", 0o644);
  try {
    fs.writeSync(fd, JSON.stringify(journal));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(temp, file);
  fsyncDirectory(rootsDir);
}

/** The journal, or undefined when none (or an unreadable one, which recovery then ignores). */
export function readJournal(rootsDir: string): Journal | undefined {
  try {
    const value = JSON.parse(fs.readFileSync(journalPath(rootsDir), "utf8")) as Journal;
    return (value.kind === "new-state" || value.kind === "activate") && Number.isInteger(value.stateId) ? value : undefined;
  } catch {
    return undefined;
  }
}

export function clearJournal(rootsDir: string): void {
  fs.rmSync(journalPath(rootsDir), { force: true });
  for (const name of fs.readdirSync(rootsDir)) {
    if (name.startsWith(`${JOURNAL_NAME}.`) && name.endsWith(".tmp")) fs.rmSync(path.join(rootsDir, name), { force: true });
  }
}

/** A rename or a new entry is durable only once its directory is. */
export function fsyncDirectory(dir: string): void {
  const fd = fs.openSync(dir, "r");
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
