/**
 * The content sink that fills the store: each asset to write goes to its own `.part` file beside
 * its final path, and nothing is published until the caller says the whole payload checked out.
 *
 * Part names carry the pid, the worker thread and a counter (`<asset>.<pid>-<thread>-<n>.part`),
 * so two unpacks of one asset, in one process, two workers or two processes, never write the same
 * file: both finish, and the second rename replaces identical bytes (the name is the content's
 * hash). A crash leaves `.part` files only; `cleanLeftovers` and the asset GC remove them.
 *
 * No fsync per asset: one syncfs before a new state goes live makes the whole store durable.
 */
import fs from "node:fs";
import { threadId } from "node:worker_threads";
import type { ContentSink, IndexRecord } from "../stone/index.ts";
import type { AssetsDir } from "./assets-dir.ts";
import { storeIoError } from "./errors.ts";

const PART_OWNER = `${process.pid}-${threadId}`;
let partCounter = 0;

interface PendingPart {
  /** Both relative to `assets/v2`. */
  part: string;
  target: string;
}

export class AssetWriter implements ContentSink {
  private readonly pending: PendingPart[] = [];
  private published = 0;
  private fd = -1;
  private current = "";

  /**
   * @param toWrite digest (32 digits) → asset path relative to `assets`, for every asset this
   *   package must write; entries are taken as they are written, so a digest the index repeats
   *   is written once.
   */
  constructor(
    private readonly toWrite: Map<string, string>,
    private readonly assets: AssetsDir,
  ) {}

  /** Assets written so far (their `.part` files, until `publish`). */
  get written(): number {
    return this.pending.length;
  }

  beginFile(record: IndexRecord): void {
    const target = this.toWrite.get(record.digest);
    if (target === undefined) return; // reused, or already written from an earlier record
    this.toWrite.delete(record.digest);
    const part = `${target}.${PART_OWNER}-${++partCounter}.part`;
    // The planning step made the asset's directory; if something removed it since, this makes it again.
    this.fd = this.assets.createExclusive(part);
    this.current = part;
    this.pending.push({ part, target });
  }

  write(chunk: Uint8Array): void {
    if (this.fd < 0) return;
    try {
      for (let done = 0; done < chunk.length; ) done += fs.writeSync(this.fd, chunk, done);
    } catch (error) {
      throw storeIoError("cannot write", this.assets.absolute(this.current), error);
    }
  }

  endFile(): void {
    if (this.fd < 0) return;
    const fd = this.fd;
    this.fd = -1;
    try {
      fs.closeSync(fd);
    } catch (error) {
      throw storeIoError("cannot write", this.assets.absolute(this.current), error);
    }
  }

  /** Rename every `.part` to its asset. Only call once the payload's checksum has been verified. */
  publish(): void {
    for (; this.published < this.pending.length; this.published++) {
      const { part, target } = this.pending[this.published]!;
      try {
        this.assets.rename(part, target);
      } catch (error) {
        throw storeIoError("cannot publish asset", this.assets.absolute(target), error);
      }
    }
  }

  /** After any failure: close the open file and delete every `.part` not yet published. */
  discard(): void {
    if (this.fd >= 0) {
      try {
        fs.closeSync(this.fd);
      } catch {
        // The descriptor is gone either way; what matters is removing the files below.
      }
      this.fd = -1;
    }
    for (const { part } of this.pending.slice(this.published)) this.assets.remove(part);
  }
}
