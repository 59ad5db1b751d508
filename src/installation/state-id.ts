import fs from "node:fs";
import path from "node:path";
import { errnoOf } from "../linux/index.ts";
import { writeFileAtomic } from "./atomic-write.ts";
import { InstallationError } from "./errors.ts";

/** The file inside a `/usr` tree naming the state it belongs to; it travels with the tree. */
export const STATE_ID_FILE = ".stateID";

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/**
 * The state a root's live `/usr` belongs to: `usr/.stateID`, else the legacy layout where `/usr`
 * was a symlink to `.moss/root/<id>/usr`, else undefined (a root moss has not populated).
 */
export function readActiveStateId(root: string): number | undefined {
  const usr = path.join(root, "usr");
  const recorded = readStateId(usr);
  if (recorded !== undefined) return recorded;
  let target: string;
  try {
    target = fs.readlinkSync(usr);
  } catch (error) {
    if (errnoOf(error) === "EINVAL" || errnoOf(error) === "ENOENT") return undefined;
    throw error;
  }
  return legacyStateId(target);
}

/** The id in `<usrDir>/.stateID`; undefined when the file is missing or does not hold one. */
export function readStateId(usrDir: string): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync(path.join(usrDir, STATE_ID_FILE), "utf8");
  } catch (error) {
    const errno = errnoOf(error);
    if (errno === "ENOENT" || errno === "ENOTDIR" || errno === "EISDIR") return undefined;
    throw error;
  }
  return parseStateId(text);
}

/**
 * A state id as Rust moss writes it: signed 32-bit decimal. Rust does not trim, so an id an editor
 * saved with a newline would be lost; we accept surrounding whitespace.
 */
export function parseStateId(text: string): number | undefined {
  const trimmed = text.trim();
  if (!/^[+-]?\d+$/.test(trimmed)) return undefined;
  const id = Number(trimmed);
  return id >= INT32_MIN && id <= INT32_MAX ? id : undefined;
}

/** `…/<id>/usr` → id, the legacy `/usr` symlink target; anything else → undefined. */
export function legacyStateId(usrTarget: string): number | undefined {
  const parts = usrTarget.split("/").filter((part) => part !== "" && part !== ".");
  if (parts.length < 2 || parts.at(-1) !== "usr") return undefined;
  // Parsed as Rust parses it: a sign is allowed, surrounding whitespace is not.
  const name = parts.at(-2)!;
  return name.trim() === name ? parseStateId(name) : undefined;
}

/**
 * Record which state `usrDir` belongs to: decimal, no trailing newline (what Rust writes and
 * reads), replaced atomically so a crash never leaves a tree with a half-written id.
 */
export function writeStateId(usrDir: string, id: number): void {
  if (!Number.isInteger(id) || id < INT32_MIN || id > INT32_MAX) {
    throw new InstallationError("INSTALLATION_STATE_ID", `state id ${id} is not a signed 32-bit integer`);
  }
  writeFileAtomic(path.join(usrDir, STATE_ID_FILE), String(id));
}
