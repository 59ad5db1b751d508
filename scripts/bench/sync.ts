/**
 * A fresh install from a local HTTP repository, next to `pacman -U` and the tar floor in the same
 * run: scripts/bench/install.ts with `--http` (its rounds, parking and settling), keeping only
 * those three. Arguments are passed on (`--rounds 5`, `--data DIR`, `--json`).
 *
 *   bun scripts/bench/sync.ts [--rounds 3]
 *
 * The update of 10% of the packages (`repo update` + `sync -u`) is measured by the shared peer
 * rig: MOSS=dist/moss ../shared/bench-peers/bench.sh.
 */
import path from "node:path";

const child = Bun.spawnSync([process.execPath, path.join(import.meta.dir, "install.ts"), "--http", "--only", "pacman,tar,from HTTP", "--activations", "0", ...process.argv.slice(2)], {
  stdio: ["inherit", "inherit", "inherit"],
});
process.exit(child.exitCode ?? 1);
