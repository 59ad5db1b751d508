/**
 * Signed repository indexes (moss-ts only): `moss index --sign KEY` writes `stone.index.sig`, the
 * base64 ed25519 signature of the whole `stone.index`, and a repository configured with the
 * matching `public-key` refuses an index whose signature is missing or wrong. Keys are what
 * `openssl genpkey -algorithm ed25519` makes; the public key is given as the base64 of its 32
 * raw bytes (one line in a config file) or as a PEM block.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import { MossError } from "../errors.ts";

export const SIGNATURE_SUFFIX = ".sig";
/** DER prefix of an ed25519 SubjectPublicKeyInfo, before the 32 key bytes. */
const SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

export class SignatureError extends MossError {
  constructor(code: string, message: string) {
    super(code, message);
    this.name = "SignatureError";
  }
}

export function parsePublicKey(text: string): crypto.KeyObject {
  const trimmed = text.trim();
  try {
    const key = trimmed.startsWith("-----BEGIN")
      ? crypto.createPublicKey(trimmed)
      : crypto.createPublicKey({ key: Buffer.concat([SPKI_PREFIX, rawKey(trimmed)]), format: "der", type: "spki" });
    if (key.asymmetricKeyType !== "ed25519") throw new Error(`a ${key.asymmetricKeyType} key`);
    return key;
  } catch (error) {
    throw new SignatureError("PUBLIC_KEY_INVALID", `public-key is not an ed25519 public key (${(error as Error).message.split("\n")[0]})`);
  }
}

function rawKey(base64: string): Buffer {
  const bytes = Buffer.from(base64, "base64");
  if (bytes.length !== 32 || bytes.toString("base64") !== base64) throw new Error("expected the base64 of 32 bytes");
  return bytes;
}

/** The base64 of the key's 32 raw bytes: what goes into a repository's `public-key`. */
export function publicKeyText(key: crypto.KeyObject): string {
  return key.export({ format: "der", type: "spki" }).subarray(-32).toString("base64");
}

/** Signs `file` with the ed25519 private key in `keyFile` (PEM), writing `<file>.sig`; the public key. */
export function signFile(file: string, keyFile: string): string {
  let privateKey: crypto.KeyObject;
  try {
    privateKey = crypto.createPrivateKey(fs.readFileSync(keyFile));
  } catch (error) {
    throw new SignatureError("PRIVATE_KEY_INVALID", `${keyFile}: not a private key (${(error as Error).message.split("\n")[0]})`);
  }
  if (privateKey.asymmetricKeyType !== "ed25519") throw new SignatureError("PRIVATE_KEY_INVALID", `${keyFile}: a ${privateKey.asymmetricKeyType} key, not ed25519`);
  const signature = crypto.sign(null, fs.readFileSync(file), privateKey);
  fs.writeFileSync(`${file}${SIGNATURE_SUFFIX}`, `${signature.toString("base64")}\n`);
  return publicKeyText(crypto.createPublicKey(privateKey));
}

/** Throws unless `signatureText` is `publicKey`'s signature of the bytes of `file`. */
export function verifyFile(file: string, signatureText: string, publicKey: crypto.KeyObject, label: string): void {
  const signature = Buffer.from(signatureText.trim(), "base64");
  if (signature.length !== 64 || !crypto.verify(null, fs.readFileSync(file), publicKey, signature)) {
    throw new SignatureError("INDEX_SIGNATURE", `the signature of ${label} does not match the repository's public-key: refusing the index`);
  }
}
