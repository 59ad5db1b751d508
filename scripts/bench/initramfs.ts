/**
 * What the moss module costs an initramfs: the VM suite's dracut+systemd image built uncompressed
 * with and without the module (dracut's default stripping), each compressed the way dracut
 * compresses it, and the difference. Next to it, the floor: the Bun runtime alone (the npm
 * package's `bun`), which every `bun build --compile` binary carries whole.
 *
 *   bun scripts/bench/initramfs.ts [--json]
 *
 * Needs root on a Debian machine (it installs the VM suite's tools and kernel like the tests).
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { buildInitramfs, CACHE, ensureKernel, ensureVmTools } from "../../test/e2e/vm/vm.ts";
import { freshBinary, ROOT } from "./binary.ts";

/** dracut's own command for each `--compress` choice (dracut 059), plus zstd's highest levels. */
const COMPRESSORS: { name: string; argv: string[]; decompress: string[] }[] = [
  { name: "gzip (dracut: gzip -n -9)", argv: ["gzip", "-n", "-9"], decompress: ["gzip", "-dc"] },
  { name: "zstd (dracut: zstd -15)", argv: ["zstd", "-15", "-q", "-T0"], decompress: ["zstd", "-dcq"] },
  { name: "zstd -19", argv: ["zstd", "-19", "-q", "-T0"], decompress: ["zstd", "-dcq"] },
  { name: "xz (dracut: xz --lzma2=dict=1MiB)", argv: ["xz", "--check=crc32", "--lzma2=dict=1MiB", "-T0"], decompress: ["xz", "-dc"] },
];

const json = process.argv.includes("--json");
const log = (line: string) => {
  if (!json) console.error(line);
};

const unavailable = ensureVmTools();
if (unavailable) {
  console.error(`initramfs bench: ${unavailable}`);
  process.exit(1);
}
const moss = freshBinary(log);
const kernel = ensureKernel();
const out = { with: path.join(CACHE, "bench-with-moss.cpio"), without: path.join(CACHE, "bench-without-moss.cpio") };
log("building the uncompressed images with dracut");
await buildInitramfs(kernel, moss, [
  { out: out.with, args: ["--no-compress"] },
  { out: out.without, args: ["--no-compress"], withoutMoss: true },
]);
const runtime = path.join(ROOT, "node_modules", "bun", "bin", "bun.exe");

/** Size of `file` compressed by `argv`, how long that took, and how long decompressing takes. */
function compress(file: string, argv: string[], decompress: string[]) {
  const packed = path.join(CACHE, "bench-packed");
  let started = performance.now();
  const result = spawnSync("sh", ["-c", `"$@" < "${file}" > "${packed}"`, "sh", ...argv]);
  const seconds = (performance.now() - started) / 1000;
  if (result.status !== 0) throw new Error(`${argv.join(" ")}: exit ${result.status} ${result.stderr}`);
  const bytes = fs.statSync(packed).size;
  started = performance.now();
  spawnSync("sh", ["-c", `"$@" < "${packed}" > /dev/null`, "sh", ...decompress]);
  const unpackSeconds = (performance.now() - started) / 1000;
  fs.rmSync(packed);
  return { bytes, seconds, unpackSeconds };
}

const rows = COMPRESSORS.map(({ name, argv, decompress }) => {
  log(`compressing with ${argv.join(" ")}`);
  const withMoss = compress(out.with, argv, decompress);
  const withoutMoss = compress(out.without, argv, decompress);
  const binary = compress(moss, argv, decompress);
  const bun = compress(runtime, argv, decompress);
  return {
    compressor: name,
    withMoss: withMoss.bytes,
    withoutMoss: withoutMoss.bytes,
    delta: withMoss.bytes - withoutMoss.bytes,
    binary: binary.bytes,
    bunRuntime: bun.bytes,
    compressSeconds: withMoss.seconds,
    decompressSeconds: withMoss.unpackSeconds,
  };
});
const sizes = {
  uncompressed: { withMoss: fs.statSync(out.with).size, withoutMoss: fs.statSync(out.without).size },
  binary: fs.statSync(moss).size,
  bunRuntime: fs.statSync(runtime).size,
};
for (const file of Object.values(out)) fs.rmSync(file, { force: true });

if (json) {
  console.log(JSON.stringify({ sizes, rows }, null, 2));
} else {
  const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
  console.log(`uncompressed: ${mb(sizes.uncompressed.withMoss)} MB with the module, ${mb(sizes.uncompressed.withoutMoss)} MB without; dist/moss ${mb(sizes.binary)} MB, of which the Bun runtime ${mb(sizes.bunRuntime)} MB`);
  console.log("| compression | initramfs with moss | without | delta | dist/moss alone | Bun runtime alone (floor) | compress s | decompress s |");
  console.log("| --- | --- | --- | --- | --- | --- | --- | --- |");
  for (const row of rows) {
    console.log(`| ${row.compressor} | ${mb(row.withMoss)} MB | ${mb(row.withoutMoss)} MB | +${mb(row.delta)} MB | ${mb(row.binary)} MB | ${mb(row.bunRuntime)} MB | ${row.compressSeconds.toFixed(1)} | ${row.decompressSeconds.toFixed(2)} |`);
  }
}
