/**
 * Downloads on a terminal: one line per package being fetched (name, share, bytes, rate) and a
 * total below (bytes, rate, time left), redrawn at most every 100 ms on stderr. Lines printed
 * meanwhile (`Installed nano`) go above the block. Nothing is drawn off a terminal.
 */
import { writeSync } from "node:fs";
import { formatBytes } from "./bytes.ts";

export interface DownloadProgress {
  start(name: string, size: number | undefined): void;
  bytes(name: string, count: number): void;
  finish(name: string): void;
  /** A permanent line, printed above the block. */
  log(line: string): void;
  done(): void;
}

const REDRAW_MS = 100;

function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return "--";
  const s = Math.round(seconds);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s` : `${s}s`;
}

export function createDownloadProgress(totalBytes: number, stream: NodeJS.WriteStream = process.stderr): DownloadProgress | undefined {
  if (!stream.isTTY || process.env.CI) return undefined;
  const started = performance.now();
  const active = new Map<string, { size?: number; got: number; since: number }>();
  let received = 0;
  let drawnLines = 0;
  let last = 0;
  const clear = () => {
    if (drawnLines > 0) writeSync(2, `\x1b[${drawnLines}F\x1b[J`);
    drawnLines = 0;
  };
  const draw = (force = false) => {
    const now = performance.now();
    if (!force && now - last < REDRAW_MS) return;
    last = now;
    const width = stream.columns || 80;
    const lines: string[] = [];
    for (const [name, item] of active) {
      const share = item.size ? `${Math.min(100, Math.floor((item.got / item.size) * 100)).toString().padStart(3)}%` : "   ?";
      const rate = item.got / Math.max(0.001, (now - item.since) / 1000);
      lines.push(`${share} ${name} ${formatBytes(item.got)} ${formatBytes(rate)}/s`.slice(0, width - 1));
    }
    const elapsed = (now - started) / 1000;
    const rate = received / Math.max(0.001, elapsed);
    const left = totalBytes > received ? (totalBytes - received) / Math.max(1, rate) : 0;
    lines.push(`${formatBytes(received)}/${formatBytes(totalBytes)} ${formatBytes(rate)}/s ${formatSeconds(left)} left`.slice(0, width - 1));
    clear();
    writeSync(2, `${lines.join("\n")}\n`);
    drawnLines = lines.length;
  };
  return {
    start(name, size) {
      active.set(name, { size, got: 0, since: performance.now() });
      draw();
    },
    bytes(name, count) {
      received += count;
      const item = active.get(name);
      if (item) item.got += count;
      draw();
    },
    finish(name) {
      active.delete(name);
      draw(true);
    },
    log(line) {
      clear();
      writeSync(1, `${line}\n`);
      draw(true);
    },
    done() {
      clear();
    },
  };
}
