/**
 * An unpack worker thread: unpacks one package at a time into the store (unpack.ts) and answers
 * with what the caller records (the layout and the counts); the content itself never crosses.
 */
import { MossError } from "../errors.ts";
import type { LayoutRecord } from "../stone/index.ts";
import { collectUnpackGarbage } from "./unpack-pool.ts";
import { unpackToStore, type StoreDirs } from "./unpack.ts";

export interface UnpackRequest {
  job: number;
  stonePath: string;
  store: StoreDirs;
}

export type UnpackReply =
  | { job: number; layout: LayoutRecord[]; written: number; reused: number; plainBytes: number }
  | { job: number; error: { name: string; code: string | undefined; message: string; moss: boolean } };

declare const self: Worker;

self.onmessage = async (event: MessageEvent<UnpackRequest>) => {
  const { job, stonePath, store } = event.data;
  try {
    const result = await unpackToStore(stonePath, store);
    collectUnpackGarbage(result.plainBytes);
    self.postMessage({ job, layout: result.layout, written: result.written, reused: result.reused, plainBytes: result.plainBytes } satisfies UnpackReply);
  } catch (error) {
    const { name, message, code } = error as Error & { code?: string };
    const moss = error instanceof MossError;
    self.postMessage({ job, error: { name: name ?? "Error", code, message: message ?? String(error), moss } } satisfies UnpackReply);
  }
};
