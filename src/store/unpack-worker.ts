/**
 * An unpack worker thread: takes packages from the words it shares with every thread of the
 * unpack (unpack-pool.ts), waiting while none is ready (still downloading), unpacks each into the store (unpack.ts) and answers with what the
 * caller records (the layout and the counts); the content itself never crosses. It says
 * `finished` once no package is left to take.
 */
import { MossError } from "../errors.ts";
import type { LayoutRecord } from "../stone/index.ts";
import { collectBufferGarbage, CONTROL, takeJobBlocking } from "./unpack-pool.ts";
import { unpackToStore, type StoreDirs } from "./unpack.ts";

export interface UnpackAssignment {
  stonePaths: readonly string[];
  store: StoreDirs;
  /** unpack-pool.ts CONTROL words. */
  control: SharedArrayBuffer;
  /** This worker's word for the package it is on. */
  slot: number;
  /** Where the ready order starts in `control`. */
  readyOrder: number;
}

export type UnpackReply =
  | { job: number; layout: LayoutRecord[]; written: number; reused: number; plainBytes: number }
  | { job: number; error: { name: string; code: string | undefined; message: string; moss: boolean } }
  | { finished: true };

declare const self: Worker;

self.onmessage = async (event: MessageEvent<UnpackAssignment>) => {
  const { stonePaths, store, slot, readyOrder } = event.data;
  const control = new Int32Array(event.data.control);
  const take = () => takeJobBlocking(control, stonePaths.length, readyOrder);
  for (let job = take(); job !== undefined; job = take()) {
    Atomics.store(control, CONTROL.current + slot, job);
    try {
      const result = await unpackToStore(stonePaths[job]!, store);
      collectBufferGarbage(result.plainBytes);
      self.postMessage({ job, layout: result.layout, written: result.written, reused: result.reused, plainBytes: result.plainBytes } satisfies UnpackReply);
    } catch (error) {
      // No thread starts another package once one failed.
      Atomics.store(control, CONTROL.failed, 1);
      const { name, message, code } = error as Error & { code?: string };
      const moss = error instanceof MossError;
      self.postMessage({ job, error: { name: name ?? "Error", code, message: message ?? String(error), moss } } satisfies UnpackReply);
    }
    Atomics.store(control, CONTROL.current + slot, -1);
  }
  self.postMessage({ finished: true } satisfies UnpackReply);
};
