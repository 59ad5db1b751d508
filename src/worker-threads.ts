/**
 * Starting a worker thread from an entry point below `src/`, the same way from sources and from
 * the compiled binary. In the binary every module shares the entry's `import.meta.url`
 * (`$bunfs/root/<binary>`), so a URL made relative to the calling module points nowhere; the
 * worker entry points are embedded at their path below `src/` (scripts/build.ts lists them), which
 * a plain `./store/…` specifier reaches. This module sits in `src/`, so from sources the same
 * relative path resolved against its own URL is the file itself.
 */
import os from "node:os";
import { profileNote } from "./transaction/profile.ts";

/** The entry points scripts/build.ts must embed next to `main.ts`. */
export const WORKER_ENTRY_POINTS = ["store/unpack-worker.ts", "transaction/blit-worker.ts"] as const;
export type WorkerEntryPoint = (typeof WORKER_ENTRY_POINTS)[number];

const compiled = import.meta.url.includes("/$bunfs/");

export function workerSpecifier(entry: WorkerEntryPoint): string {
  return compiled ? `./${entry}` : new URL(`./${entry}`, import.meta.url).href;
}

/**
 * A started worker, or undefined when this runtime cannot start it (the caller then does the work
 * on its own thread). Either outcome is shown under MOSS_PROFILE=1, so a binary that silently
 * lost its workers is seen, and tested.
 */
export function startWorker(entry: WorkerEntryPoint, onError: (event: ErrorEvent) => void): Worker | undefined {
  try {
    // smol: a heap that collects sooner; a worker holds one package at a time.
    const worker = new Worker(workerSpecifier(entry), { smol: true });
    worker.addEventListener("error", (event: ErrorEvent) => {
      profileNote(`worker ${entry} failed: ${event.message}`);
      onError(event);
    });
    return worker;
  } catch (error) {
    profileNote(`worker ${entry} cannot start: ${(error as Error).message}`);
    return undefined;
  }
}

/**
 * Threads for a job that spreads over cores: the integer in environment variable `overrideEnv`
 * if set (1 = the main thread only), else one per CPU, at most `max`.
 */
export function threadCount(overrideEnv: string, max: number): number {
  const forced = Number(process.env[overrideEnv]);
  if (Number.isInteger(forced) && forced >= 1) return forced;
  return Math.max(1, Math.min(max, os.availableParallelism()));
}
