/**
 * EFI variables through efivarfs (boot-management §1.7): a file `<Name>-<vendor guid>` holding a
 * 4-byte little-endian attribute mask and then the value. The Boot Loader Interface stores its
 * strings as UTF-16LE with a terminating NUL.
 */
import fs from "node:fs";
import path from "node:path";

/** The Boot Loader Interface's vendor GUID (systemd-boot's variables). */
export const LOADER_GUID = "4a67b082-0a4c-41cf-b6c7-440b29bb8c4f";

/** The value of a variable, without its attributes; undefined when it is not set or unreadable. */
export function readEfiVariable(efivarsDir: string, name: string, guid = LOADER_GUID): Buffer | undefined {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(path.join(efivarsDir, `${name}-${guid}`));
  } catch {
    return undefined;
  }
  return bytes.length >= 4 ? bytes.subarray(4) : undefined;
}

/** UTF-16LE up to the first NUL (or the end); an odd trailing byte is ignored rather than fatal. */
export function decodeUtf16(value: Buffer): string {
  const units = Math.floor(value.length / 2);
  let text = "";
  for (let i = 0; i < units; i++) {
    const unit = value.readUInt16LE(i * 2);
    if (unit === 0) break;
    text += String.fromCharCode(unit);
  }
  return text;
}

export function readEfiString(efivarsDir: string, name: string, guid = LOADER_GUID): string | undefined {
  const value = readEfiVariable(efivarsDir, name, guid);
  return value === undefined ? undefined : decodeUtf16(value);
}

/** A string as an efivarfs file's bytes: attributes (non-volatile, boot and runtime access), UTF-16LE, NUL. */
export function encodeEfiString(text: string, attributes = 0x7): Buffer {
  const bytes = Buffer.alloc(4 + (text.length + 1) * 2);
  bytes.writeUInt32LE(attributes, 0);
  for (let i = 0; i < text.length; i++) bytes.writeUInt16LE(text.charCodeAt(i), 4 + i * 2);
  return bytes;
}
