/**
 * Unpacking many packages at once. Nearly all of an unpack's time is the kernel creating
 * directories and files (measured: ~90% in mkdirat/openat/write/rename for the 65,000-file
 * distribution), and one JS thread makes those calls one after another; so this thread and
 * worker threads each unpack whole packages, as many at once as there are cores (zstd decoding
 * already runs on Bun's own pool). If workers cannot start (a build without their entry point), the packages are
 * unpacked on this thread, two at a time so that one's decoding overlaps the other's writing.
 */
import { UNPACK_GC_EVERY_BYTES, UNPACK_GC_OVERHEAD_BYTES, UNPACK_MAX_THREADS, UNPACK_THREADS_ENV } from "../constants.ts";
import { dropSpareChunkBuffers } from "../chunk-buffers.ts";
import { MossError } from "../errors.ts";
import type { LayoutRecord } from "../stone/index.ts";
import { unpackToStore, type StoreDirs } from "./unpack.ts";
import type { UnpackAssignment, UnpackReply } from "./unpack-worker.ts";
import { startWorker, threadCount } from "../worker-threads.ts";
import { profileNote } from "../transaction/profile.ts";

export interface UnpackedPackage {
  layout: LayoutRecord[];
  /** Distinct assets written. */
  written: number;
  /** Distinct assets already in the store with the right bytes. */
  reused: number;
  plainBytes: number;
}

export type UnpackCounts = Omit<UnpackedPackage, "layout">;

/**
 * Which packages can be unpacked yet, for an unpack that starts while they are still being
 * downloaded: `ready(i)` once the file of package i is whole, `fail(error)` when one never will
 * be (nothing more is started, and unpackAll throws that error).
 */
export class UnpackFeed {
  private order: number[] = [];
  private failure: { error: unknown } | undefined;
  private listener: (() => void) | undefined;

  ready(index: number): void {
    this.order.push(index);
    this.listener?.();
  }

  fail(error: unknown): void {
    this.failure ??= { error };
    this.listener?.();
  }

  /** unpackAll's: `listener` is called on every ready and fail from now on. */
  attach(listener: () => void): { order: readonly number[]; failure: () => { error: unknown } | undefined } {
    this.listener = listener;
    return { order: this.order, failure: () => this.failure };
  }
}

export interface UnpackAllOptions {
  /** When not every package file exists yet: which ones may be unpacked (default: all of them, now). */
  feed?: UnpackFeed;
  /** Threads unpacking at once; default `unpackThreads()`. 1 = this thread only. */
  threads?: number;
  /**
   * This thread has work of its own meanwhile (building and blitting the rest of the tree): every
   * unpack runs in a worker, one per thread, and this one only takes what a worker cannot.
   */
  workersOnly?: boolean;
  /**
   * Each package's result, in the order of the paths (one that finished early waits for those
   * before it). Its layout is handed over here only: nothing keeps it after this call.
   */
  onUnpacked?: (index: number, result: UnpackedPackage) => void;
}

/** Threads for unpacking: `MOSS_UNPACK_THREADS` if set, else one per CPU up to UNPACK_MAX_THREADS. */
export function unpackThreads(): number {
  return threadCount(UNPACK_THREADS_ENV, UNPACK_MAX_THREADS);
}

/**
 * Unpack every package into the store; the counts come back in the order of `stonePaths`, the
 * layouts through `onUnpacked`. On the first failure no further package is started, those under
 * way finish (so none leaves parts behind), nothing more is delivered, and that failure is thrown.
 */
export async function unpackAll(stonePaths: readonly string[], store: StoreDirs, opts: UnpackAllOptions = {}): Promise<UnpackCounts[]> {
  const count = stonePaths.length;
  const counts: UnpackCounts[] = new Array(count);
  const threads = Math.min(opts.threads ?? unpackThreads(), count);
  const workerCount = opts.workersOnly ? threads : threads > 1 ? threads - 1 : 0;
  const control = new Int32Array(new SharedArrayBuffer((CONTROL.current + workerCount + count) * 4));
  control.fill(-1, CONTROL.current, CONTROL.current + workerCount);
  const readyOrder = CONTROL.current + workerCount;
  // Finished out of order, waiting for the packages before them.
  const waiting = new Map<number, UnpackedPackage>();
  let delivered = 0;
  let failure: unknown;
  // This thread's unpackers waiting for a package to become ready (they cannot block on the words).
  let sleepers: (() => void)[] = [];
  const wake = () => {
    const woken = sleepers;
    sleepers = [];
    for (const resolve of woken) resolve();
  };
  const fail = (error: unknown) => {
    failure ??= error;
    Atomics.store(control, CONTROL.failed, 1);
    Atomics.notify(control, CONTROL.ready);
    wake();
  };

  // Packages become takeable in the order they are ready: published into the shared words, which
  // waiting workers watch.
  let published = 0;
  const publish = (order: readonly number[], feedFailure: () => { error: unknown } | undefined) => {
    for (; published < order.length; published++) control[readyOrder + published] = order[published]!;
    Atomics.store(control, CONTROL.ready, published);
    Atomics.notify(control, CONTROL.ready);
    const failed = feedFailure();
    if (failed) fail(failed.error);
    wake();
  };
  if (opts.feed) {
    const { order, failure: feedFailure } = opts.feed.attach(() => publish(order, feedFailure));
    publish(order, feedFailure);
  } else {
    publish(Array.from({ length: count }, (_, i) => i), () => undefined);
  }

  const take = async (): Promise<number | undefined> => {
    const slot = claimJob(control, count);
    if (slot === undefined) return undefined;
    while (Atomics.load(control, CONTROL.ready) <= slot && Atomics.load(control, CONTROL.failed) === 0) {
      await new Promise<void>((resolve) => sleepers.push(resolve));
    }
    return Atomics.load(control, CONTROL.failed) === 0 ? control[readyOrder + slot] : undefined;
  };
  const done = (index: number, result: UnpackedPackage) => {
    counts[index] = { written: result.written, reused: result.reused, plainBytes: result.plainBytes };
    waiting.set(index, result);
    for (let ready = waiting.get(delivered); ready !== undefined && failure === undefined; ready = waiting.get(delivered)) {
      waiting.delete(delivered);
      try {
        opts.onUnpacked?.(delivered++, ready);
      } catch (error) {
        fail(error);
      }
    }
  };

  const inThread = async (first?: number): Promise<void> => {
    for (let index = first ?? (await take()); index !== undefined; index = await take()) {
      try {
        const { layout, written, reused, plainBytes } = await unpackToStore(stonePaths[index]!, store);
        done(index, { layout, written, reused, plainBytes });
        collectBufferGarbage(plainBytes);
      } catch (error) {
        fail(error);
      }
    }
  };

  // A worker takes its packages from the shared words itself, as this thread does: it never
  // waits for this thread's event loop to hand it the next one (that wait was ~40 ms a package
  // while this thread was busy unpacking, and left the worker idle for a third of the time).
  const inWorker = (slot: number): Promise<void> =>
    new Promise<void>((resolve) => {
      let answered = false;
      const finish = (then?: Promise<void>) => {
        worker?.terminate();
        resolve(then ?? Promise.resolve());
      };
      const worker = startWorker("store/unpack-worker.ts", (event) => {
        // Before any answer: the worker could not start, or died on its first package, which
        // is unpacked here instead.
        const current = Atomics.load(control, CONTROL.current + slot);
        if (!answered) return finish(inThread(current >= 0 ? current : undefined));
        fail(new MossError("UNPACK_WORKER", `an unpack worker failed: ${event.message}`));
        finish();
      });
      if (!worker) {
        resolve(inThread());
        return;
      }
      worker.addEventListener("message", (event: MessageEvent<UnpackReply>) => {
        const reply = event.data;
        if ("finished" in reply) return finish();
        answered = true;
        if ("error" in reply) fail(rebuildError(reply.error));
        else done(reply.job, { layout: reply.layout, written: reply.written, reused: reply.reused, plainBytes: reply.plainBytes });
      });
      worker.postMessage({ stonePaths, store, control: control.buffer as SharedArrayBuffer, slot, readyOrder } satisfies UnpackAssignment);
    });

  profileNote(`unpack: ${count} packages, ${opts.workersOnly ? "" : "this thread and "}${workerCount} worker threads`);
  // This thread unpacks too: it would only wait otherwise, and each worker is a heap of its own
  // (~20 MiB of peak memory). While packages are still arriving it leaves them to the workers:
  // it is the thread receiving them, and a download it does not read piles up in memory (300
  // packages over HTTP on 2 cores: 182 MiB peak, and no faster than downloading first).
  const afterArrivals = async () => {
    while (published < count && Atomics.load(control, CONTROL.failed) === 0) await new Promise<void>((resolve) => sleepers.push(resolve));
    await inThread();
  };
  const inWorkers = Array.from({ length: workerCount }, (_, slot) => inWorker(slot));
  const runners = opts.workersOnly ? inWorkers : threads > 1 ? [opts.feed ? afterArrivals() : inThread(), ...inWorkers] : [inThread(), inThread()];
  await Promise.all(runners);
  dropSpareChunkBuffers();
  if (failure !== undefined) throw failure;
  return counts;
}

/** Int32 words shared by every thread of one `unpackAll`. */
export const CONTROL = {
  /** How many packages were claimed: the next claim is the package ready at that position. */
  next: 0,
  /** 1 once anything failed: no thread takes another package. */
  failed: 1,
  /** How many packages are ready: their indices are in the words from `readyOrder` on, in order. */
  ready: 2,
  /** From here, one per worker: the package it is on, or -1; then the ready order. */
  current: 3,
} as const;

/** A position in the ready order for this thread, or undefined when every package is claimed (or one failed). */
export function claimJob(control: Int32Array, count: number): number | undefined {
  if (Atomics.load(control, CONTROL.failed) !== 0) return undefined;
  const slot = Atomics.add(control, CONTROL.next, 1);
  return slot < count ? slot : undefined;
}

/**
 * For a worker thread, which may block: the next package to unpack, waiting until one is ready;
 * undefined when none is left or something failed.
 */
export function takeJobBlocking(control: Int32Array, count: number, readyOrder: number): number | undefined {
  const slot = claimJob(control, count);
  if (slot === undefined) return undefined;
  for (let ready = Atomics.load(control, CONTROL.ready); ready <= slot; ready = Atomics.load(control, CONTROL.ready)) {
    if (Atomics.load(control, CONTROL.failed) !== 0) return undefined;
    Atomics.wait(control, CONTROL.ready, ready, 1000);
  }
  return Atomics.load(control, CONTROL.failed) === 0 ? control[readyOrder + slot] : undefined;
}

/** A worker's error as the MossError it was (its code and message); anything else stays a bug. */
function rebuildError(error: { name: string; code: string | undefined; message: string; moss: boolean }): Error {
  if (error.moss && error.code !== undefined) {
    const rebuilt = new MossError(error.code, error.message);
    rebuilt.name = error.name;
    return rebuilt;
  }
  return new Error(`${error.name}: ${error.message}`);
}

let bytesSinceCollection = 0;

/**
 * Every unpack leaves its read and decode buffers (~3 MiB) and its decoded records as garbage,
 * and every download its received chunks, which the engine lets pile up far past what is live:
 * 300 packages peaked at 174 MiB, and at 127 MiB with a full collection (~10 ms; a young-generation
 * one frees too little) after every UNPACK_GC_EVERY_BYTES of content; downloading while unpacking
 * peaked at 153 MiB, and at 134 MiB with downloads counted too.
 */
export function collectBufferGarbage(bytes: number): void {
  bytesSinceCollection += bytes + UNPACK_GC_OVERHEAD_BYTES;
  if (bytesSinceCollection < UNPACK_GC_EVERY_BYTES) return;
  bytesSinceCollection = 0;
  Bun.gc(true);
}
