/**
 * Where things live in the content store and the download cache (spec §1.3, stone §5.3). Pure:
 * names and paths only, no file system access. Both layouts are shared with Rust moss on disk.
 */
import path from "node:path";
import { StoreError } from "./errors.ts";

/** Names shorter than this sit directly in `assets/v2/` (Rust: `hash.len() >= 10` nests). */
export const NESTED_NAME_MIN_LENGTH = 10;
const DIGEST_PATTERN = /^[0-9a-fA-F]{1,32}$/;
const HASH_PATTERN = /^[0-9a-fA-F]{5,}$/;

/**
 * The asset's file name: the 128-bit digest printed as an integer, lowercase hex without leading
 * zeros but at least 2 digits (Rust formats it with `{:02x}`), so `0…0` is `00` and `0…05` is `05`.
 * Accepts the zero-padded 32-digit form the records carry, or an already shortened name.
 */
export function assetName(digestHex: string): string {
  if (!DIGEST_PATTERN.test(digestHex)) {
    throw new StoreError("STORE_MALFORMED_DIGEST", `malformed content digest \`${digestHex}\`: expected up to 32 hex digits`);
  }
  let first = 0;
  while (first < digestHex.length && digestHex.charCodeAt(first) === 48 /* "0" */) first++;
  return digestHex.slice(first).toLowerCase().padStart(2, "0");
}

/** `<assetsDir>/v2/<a[0..2]>/<a[2..4]>/<a[4..6]>/<a>`, or `<assetsDir>/v2/<a>` for a name under 10 digits. */
export function assetPath(assetsDir: string, digestHex: string): string {
  return assetPathIn(assetsV2Dir(assetsDir), assetName(digestHex));
}

export function assetsV2Dir(assetsDir: string): string {
  return path.join(assetsDir, "v2");
}

/** The hot-loop form: `v2Dir` joined once by the caller, `name` already an asset name. */
export function assetPathIn(v2Dir: string, name: string): string {
  return `${v2Dir}/${relativeAssetPath(name)}`;
}

/** `<a[0..2]>/<a[2..4]>/<a[4..6]>/<a>` below v2 (or `<a>` itself under 10 digits), for an asset name. */
export function relativeAssetPath(name: string): string {
  if (name.length < NESTED_NAME_MIN_LENGTH) return name;
  return `${name.slice(0, 2)}/${name.slice(2, 4)}/${name.slice(4, 6)}/${name}`;
}

/** `<cacheDir>/downloads/v1/<h[0..5]>/<h[-5..]>/<h>` for the SHA-256 hex of a `.stone`. */
export function downloadPath(cacheDir: string, sha256Hex: string): string {
  if (!HASH_PATTERN.test(sha256Hex)) {
    // Rust only checks the length; a non-hex "hash" can never match a SHA-256, and could name
    // a path outside the cache, so it is refused here too.
    throw new StoreError("STORE_MALFORMED_HASH", `malformed hash \`${sha256Hex}\``);
  }
  return path.join(downloadsV1Dir(cacheDir), sha256Hex.slice(0, 5), sha256Hex.slice(-5), sha256Hex);
}

export function downloadsV1Dir(cacheDir: string): string {
  return path.join(cacheDir, "downloads", "v1");
}
