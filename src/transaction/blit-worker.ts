/**
 * A blit worker thread: takes chunks of a blit job (blit-runner.ts) until none is left, then
 * says so. It shares the main thread's fds (they are per process), so it opens nothing but the
 * directories of the items it makes.
 */
import type { BlitJobBuffers } from "./blit-job.ts";
import { runBlitChunks, type BlitFds } from "./blit-runner.ts";

export interface BlitWorkerMessage {
  job: BlitJobBuffers;
  fds: BlitFds;
}

declare const self: Worker;

self.onmessage = (event: MessageEvent<BlitWorkerMessage>) => {
  const { job, fds } = event.data;
  runBlitChunks(job, fds);
  self.postMessage("done");
};
