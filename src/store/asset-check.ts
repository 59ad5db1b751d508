/**
 * Is an asset in the store what its name says? The bytes are hashed again (XXH3-128); a size that
 * differs from the expected one settles it without reading. Unpack treats anything but "ok" as a
 * reason to write the asset again; `verifyAsset` keeps "could not check" (an error) apart from
 * "checked and wrong".
 */
import fs from "node:fs";
import { READ_CHUNK_SIZE } from "../constants.ts";
import { createXxh3_128, type StreamingHasher } from "../hash/xxh3.ts";
import { errnoOf, storeIoError } from "./errors.ts";
import { assetName, assetPath } from "./paths.ts";

export type AssetState = "ok" | "missing" | "corrupt";

/** Errno values that mean "nothing there": the asset or one of its directories is absent. */
const ABSENT = new Set(["ENOENT", "ENOTDIR"]);

/** Checks the asset of `digestHex` (32-digit or shortened form). Throws a StoreError only when it cannot look. */
export async function verifyAsset(assetsDir: string, digestHex: string): Promise<AssetState> {
  const file = assetPath(assetsDir, digestHex);
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch (error) {
    if (ABSENT.has(errnoOf(error) ?? "")) return "missing";
    throw storeIoError("cannot open asset", file, error);
  }
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) return "corrupt";
    using hasher = await createXxh3_128();
    const actual = hashOpenFile(fd, stat.size, hasher);
    return actual !== undefined && assetName(actual) === assetName(digestHex) ? "ok" : "corrupt";
  } catch (error) {
    throw storeIoError("cannot read asset", file, error);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Unpack's check before it decides to write: "ok" only when `file` is a regular file of `size`
 * bytes hashing to `digestHex` (32 digits). Failing to look counts as "corrupt": write it again.
 */
export function checkExistingAsset(file: string, size: number, digestHex: string, hasher: StreamingHasher): AssetState {
  let stat: fs.Stats | undefined;
  try {
    // A stat that reports absence without an exception: most assets of a new package are absent.
    stat = fs.statSync(file, { throwIfNoEntry: false });
  } catch (error) {
    return ABSENT.has(errnoOf(error) ?? "") ? "missing" : "corrupt";
  }
  if (!stat) return "missing";
  if (!stat.isFile() || stat.size !== size) return "corrupt";
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch {
    return "corrupt";
  }
  try {
    return hashOpenFile(fd, size, hasher) === digestHex ? "ok" : "corrupt";
  } catch {
    return "corrupt";
  } finally {
    fs.closeSync(fd);
  }
}

let scratch: Uint8Array | undefined;

/** The 32-digit digest of exactly `size` bytes from the start of `fd`, or undefined if the file is shorter. */
function hashOpenFile(fd: number, size: number, hasher: StreamingHasher): string | undefined {
  // One buffer for every call: hashing is synchronous, so no two calls ever share it at once.
  const buffer = (scratch ??= new Uint8Array(READ_CHUNK_SIZE));
  hasher.reset();
  for (let done = 0; done < size; ) {
    const count = fs.readSync(fd, buffer, 0, Math.min(buffer.length, size - done), done);
    if (count === 0) return undefined;
    hasher.update(count === buffer.length ? buffer : buffer.subarray(0, count));
    done += count;
  }
  return hasher.digestHex();
}
