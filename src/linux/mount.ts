/**
 * mount(2), umount2(2), unshare(2) and pivot_root(2): the ESP and XBOOTLDR mounted when nothing
 * else has (boot-management §1.9), and the trigger container's namespaces and root (spec §5.6).
 */
import { SyscallError } from "./errors.ts";
import { cPath, lastErrno, libc } from "./libc.ts";

const SYMBOLS = {
  mount: { args: ["ptr", "ptr", "ptr", "u64", "ptr"], returns: "i32" },
  umount2: { args: ["ptr", "i32"], returns: "i32" },
  unshare: { args: ["i32"], returns: "i32" },
  syscall: { args: ["i64", "ptr", "ptr"], returns: "i64" },
} as const;

export const MS_RDONLY = 0x1;
export const MS_NOSUID = 0x2;
export const MS_NODEV = 0x4;
export const MS_REMOUNT = 0x20;
export const MS_BIND = 0x1000;
export const MS_REC = 0x4000;
export const MS_PRIVATE = 0x40000;
export const MS_SLAVE = 0x80000;
export const MNT_DETACH = 0x2;

export const CLONE_NEWNS = 0x00020000;
export const CLONE_NEWUTS = 0x04000000;
export const CLONE_NEWIPC = 0x08000000;
export const CLONE_NEWPID = 0x20000000;
export const CLONE_NEWNET = 0x40000000;

const SYS_PIVOT_ROOT: Readonly<Record<string, number>> = { x64: 155, arm64: 41, riscv64: 41 };

let symbols: ReturnType<typeof open> | undefined;

function open() {
  return libc().ffi.dlopen("libc.so.6", SYMBOLS).symbols;
}

function text(value: string, what: string): Uint8Array {
  const bytes = cPath(value);
  if (!bytes) throw new SyscallError({ syscall: "mount", errno: 22, subject: `${what} ${JSON.stringify(value)} contains a NUL` });
  return bytes;
}

/** Mount `device` (a block device node) on `target` with a filesystem type and option string. */
export function mount(device: string, target: string, fsType: string, options = ""): void {
  mountWith({ source: device, target, fsType, data: options });
}

export interface MountCall {
  /** Null for a remount or a propagation change. */
  source?: string;
  target: string;
  fsType?: string;
  flags?: number;
  data?: string;
}

/** mount(2) with every argument: binds, remounts and propagation changes too. */
export function mountWith(call: MountCall): void {
  symbols ??= open();
  const { source, target, fsType, flags = 0, data = "" } = call;
  const rc = symbols.mount(
    source === undefined ? null : text(source, "source"), text(target, "target"), fsType === undefined ? null : text(fsType, "type"),
    BigInt(flags), data === "" ? null : text(data, "options"),
  );
  if (rc !== 0) {
    const what = `${source === undefined ? "" : `${JSON.stringify(source)} on `}${JSON.stringify(target)} (${fsType ?? "flags"} 0x${flags.toString(16)}${data ? `, ${data}` : ""})`;
    throw new SyscallError({ syscall: "mount", errno: lastErrno(), subject: what, paths: source === undefined ? [target] : [source, target] });
  }
}

export function unmount(target: string, flags = 0): void {
  symbols ??= open();
  if (symbols.umount2(text(target, "target"), flags) !== 0) throw new SyscallError({ syscall: "umount2", errno: lastErrno(), subject: JSON.stringify(target), paths: [target] });
}

/** unshare(2) for the calling thread (and the children it starts afterwards). */
export function unshare(flags: number): void {
  symbols ??= open();
  if (symbols.unshare(flags) !== 0) throw new SyscallError({ syscall: "unshare", errno: lastErrno(), subject: `0x${flags.toString(16)}` });
}

/** pivot_root(2): `newRoot` becomes `/`, the old root is moved to `putOld` (inside it). */
export function pivotRoot(newRoot: string, putOld: string): void {
  symbols ??= open();
  const number = SYS_PIVOT_ROOT[process.arch];
  if (number === undefined) throw new SyscallError({ syscall: "pivot_root", errno: 38, subject: `unknown on ${process.arch}` });
  if (Number(symbols.syscall(number, text(newRoot, "new root"), text(putOld, "old root"))) !== 0) {
    throw new SyscallError({ syscall: "pivot_root", errno: lastErrno(), subject: `${JSON.stringify(newRoot)} ${JSON.stringify(putOld)}`, paths: [newRoot, putOld] });
  }
}
