/**
 * Phase timings of a transaction, printed to stderr when `MOSS_PROFILE=1`: where an install's
 * seconds and megabytes go (unpack, database, VFS, blit, sync), with the resident memory and
 * its high-water mark at each mark. Inert otherwise: one flag test per phase.
 */
import fs from "node:fs";

export const PROFILE_ENV = "MOSS_PROFILE";

const enabled = process.env[PROFILE_ENV] === "1";
let last = performance.now();
let lastCpu = process.cpuUsage();
let lastThreadCpu = process.threadCpuUsage();

/** Mark the end of the phase that started at the previous mark (or at process start). */
export function profileMark(phase: string): void {
  if (!enabled) return;
  const now = performance.now();
  // CPU of every thread of the process: how many cores the phase kept busy.
  const cpu = process.cpuUsage(lastCpu);
  lastCpu = process.cpuUsage();
  const cores = (cpu.user + cpu.system) / 1000 / Math.max(now - last, 1e-3);
  // This thread's share: what the main thread itself spent (JS, its syscalls), apart from workers.
  const threadCpu = process.threadCpuUsage(lastThreadCpu);
  lastThreadCpu = process.threadCpuUsage();
  const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);
  const status = fs.readFileSync("/proc/self/status", "utf8");
  const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) * 1024;
  process.stderr.write(
    `[profile] ${phase.padEnd(24)} ${(now - last).toFixed(1).padStart(8)} ms  ${cores.toFixed(2)} cores  ` +
      `main ${(threadCpu.user / 1000).toFixed(0)}+${(threadCpu.system / 1000).toFixed(0)} ms  ` +
      `rss ${mib(kib("VmRSS"))} MiB (anon ${mib(kib("RssAnon"))}, peak ${mib(kib("VmHWM"))})  js heap ${mib(process.memoryUsage().heapUsed)} MiB\n`,
  );
  last = now;
}

/** A one-line fact for the profile (threads started, fallbacks taken); inert unless profiling. */
export function profileNote(text: string): void {
  if (enabled) process.stderr.write(`[profile] ${text}\n`);
}

export function profiling(): boolean {
  return enabled;
}
