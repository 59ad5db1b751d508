/**
 * mount(2) and umount2(2) for the ESP and XBOOTLDR (boot-management §1.9): moss mounts them itself
 * when nothing else has (AerynOS's systemd does not automount them), and unmounts what it mounted.
 */
import { SyscallError } from "./errors.ts";
import { cPath, lastErrno, libc } from "./libc.ts";

const MOUNT_SYMBOLS = {
  mount: { args: ["ptr", "ptr", "ptr", "u64", "ptr"], returns: "i32" },
  umount2: { args: ["ptr", "i32"], returns: "i32" },
} as const;

let symbols: ReturnType<typeof open> | undefined;

function open() {
  return libc().ffi.dlopen("libc.so.6", MOUNT_SYMBOLS).symbols;
}

function text(value: string, what: string): Uint8Array {
  const bytes = cPath(value);
  if (!bytes) throw new SyscallError({ syscall: "mount", errno: 22, subject: `${what} ${JSON.stringify(value)} contains a NUL` });
  return bytes;
}

/** Mount `device` (a block device node) on `target` with a filesystem type and option string. */
export function mount(device: string, target: string, fsType: string, options = ""): void {
  symbols ??= open();
  const rc = symbols.mount(text(device, "device"), text(target, "target"), text(fsType, "type"), 0n, options === "" ? null : text(options, "options"));
  if (rc !== 0) throw new SyscallError({ syscall: "mount", errno: lastErrno(), subject: `${JSON.stringify(device)} on ${JSON.stringify(target)} (${fsType}${options ? `, ${options}` : ""})`, paths: [device, target] });
}

export function unmount(target: string): void {
  symbols ??= open();
  if (symbols.umount2(text(target, "target"), 0) !== 0) throw new SyscallError({ syscall: "umount2", errno: lastErrno(), subject: JSON.stringify(target), paths: [target] });
}
