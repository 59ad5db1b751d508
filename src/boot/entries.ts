/**
 * Boot Loader Specification type #1 entries as moss writes them (boot-management §4.2, §4.3
 * "Ours"): `<os-id>-<kver>-<state>.conf` in `$BOOT/loader/entries/`, titled with the state, with
 * `sort-key` and `version` so that systemd-boot orders them newest state first whatever the kernel
 * versions, and an optional boot-counting suffix (`+3`, `+2-1`) that systemd-boot and
 * `moss boot bless` rename.
 */

export interface EntrySpec {
  /** `<os-id>-<kver>-<state>`: the file name without counter and `.conf`. */
  id: string;
  title: string;
  sortKey: string;
  version: string;
  /** `$BOOT`-absolute paths with `/` separators. */
  linux: string;
  initrds: string[];
  options: string;
}

export function entryId(osId: string, kernelVersion: string, stateId: number): string {
  return `${osId}-${kernelVersion}-${stateId}`;
}

export function renderEntry(entry: EntrySpec): string {
  return [
    `title ${entry.title}`,
    `sort-key ${entry.sortKey}`,
    `version ${entry.version}`,
    `linux ${entry.linux}`,
    ...entry.initrds.map((initrd) => `initrd ${initrd}`),
    `options ${entry.options}`,
    "",
  ].join("\n");
}

export interface Counter {
  left: number;
  done: number;
}

export interface EntryFileName {
  /** Without counter and `.conf`. */
  id: string;
  counter?: Counter;
}

/** `aerynos-6.1-7+2-1.conf` → id and counter; undefined for anything that is not a `.conf` entry. */
export function parseEntryFileName(name: string): EntryFileName | undefined {
  const match = /^(.+?)(?:\+(\d+)(?:-(\d+))?)?\.conf$/.exec(name);
  if (!match) return undefined;
  const parsed: EntryFileName = { id: match[1]! };
  if (match[2] !== undefined) parsed.counter = { left: Number(match[2]), done: match[3] === undefined ? 0 : Number(match[3]) };
  return parsed;
}

export function entryFileName(id: string, counter?: Counter): string {
  if (!counter) return `${id}.conf`;
  return counter.done > 0 ? `${id}+${counter.left}-${counter.done}.conf` : `${id}+${counter.left}.conf`;
}

/**
 * Whether an entry file is one moss (Rust or ours) writes for `osId`: the id, `-`, a kernel
 * version starting with a digit, optionally `-<state>`, an optional counter, `.conf`. A user's
 * `aerynos-custom.conf` is not. (Rust owns every file whose name starts with the id.)
 */
export function isOwnedEntry(name: string, osIds: readonly string[]): boolean {
  const parsed = parseEntryFileName(name);
  if (!parsed) return false;
  return osIds.some((osId) => parsed.id.startsWith(`${osId}-`) && /^[0-9]/.test(parsed.id.slice(osId.length + 1)));
}
