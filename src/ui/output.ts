/**
 * The one place that writes to the terminal. Commands return data; renderers call these.
 * Colour only on a TTY and never when NO_COLOR is set (no-color.org).
 */
import { writeSync } from "node:fs";

export const colorEnabled = (stream: NodeJS.WriteStream = process.stdout): boolean =>
  !process.env.NO_COLOR && (process.env.FORCE_COLOR ? true : Boolean(stream.isTTY));

/** For text made by others (citty's usage) that colours itself regardless. */
export function plainUnlessColor(text: string, stream: NodeJS.WriteStream = process.stdout): string {
  return colorEnabled(stream) ? text : text.replace(/\x1b\[[0-9;]*m/g, "");
}

const style = (open: number, close: number) => (text: string) =>
  colorEnabled() ? `\x1b[${open}m${text}\x1b[${close}m` : text;

export const bold = style(1, 22);
export const dim = style(2, 22);
export const red = style(31, 39);
export const green = style(32, 39);
export const magenta = style(35, 39);
export const cyan = style(36, 39);

/** Synchronous, so output is complete and ordered even when the process exits right after. */
export function out(text = ""): void {
  writeAll(1, text + "\n");
}

export function outRaw(text: string): void {
  writeAll(1, text);
}

export function err(text = ""): void {
  writeAll(2, text + "\n");
}

/** `Warning: <message>` on stderr: something the user must know, that does not stop the command. */
export function warn(message: string): void {
  err(`Warning: ${message}`);
}

export function json(value: unknown): void {
  out(JSON.stringify(value, (_key, v) => (typeof v === "bigint" ? v.toString() : v), 2));
}

function writeAll(fd: number, text: string): void {
  const bytes = Buffer.from(text);
  let done = 0;
  while (done < bytes.length) {
    try {
      done += writeSync(fd, bytes, done);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EAGAIN") continue;
      if ((error as NodeJS.ErrnoException).code === "EPIPE") return;
      throw error;
    }
  }
}
