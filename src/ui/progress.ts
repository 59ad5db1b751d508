/** A one-line progress bar on stderr, drawn only on a TTY (and never with NO_COLOR's cousin CI). */
import { writeSync } from "node:fs";

export interface Progress {
  update: (done: number, total: number) => void;
  done: () => void;
}

const WIDTH = 20;
const REDRAW_MS = 100;

export function createProgress(label: string): Progress | undefined {
  if (!process.stderr.isTTY || process.env.CI) return undefined;
  let last = 0;
  let drawn = false;
  return {
    update(done, total) {
      const now = performance.now();
      if (now - last < REDRAW_MS && done < total) return;
      last = now;
      const ratio = total > 0 ? Math.min(1, done / total) : 1;
      const filled = Math.round(ratio * WIDTH);
      writeSync(2, `\r\x1b[2K${label} |${"■".repeat(filled)}${" ".repeat(WIDTH - filled)}| ${Math.round(ratio * 100)}%`);
      drawn = true;
    },
    done() {
      if (drawn) writeSync(2, "\r\x1b[2K");
      drawn = false;
    },
  };
}
