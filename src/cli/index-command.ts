import path from "node:path";
import { writeIndex } from "../repository/index-writer.ts";
import { signFile } from "../repository/signature.ts";
import { json, out } from "../ui/output.ts";
import { mossCommand } from "./command.ts";

export default mossCommand({
  meta: { name: "index", description: "Index a collection of packages" },
  args: {
    dir: { type: "positional", description: "directory holding the .stone files", required: true },
    "output-dir": { type: "string", alias: "o", description: "where stone.index is written (default: the indexed directory)" },
    sign: { type: "string", description: "Sign stone.index with this ed25519 private key (PEM), writing stone.index.sig" },
    json: { type: "boolean", description: "Print the indexed packages as JSON" },
  },
  async run(args) {
    const inputDir = path.resolve(args.dir);
    const outDir = path.resolve(args["output-dir"] ?? args.dir);
    const packages = await writeIndex(inputDir, outDir, {
      onStart: args.json ? undefined : (count) => out(`Indexing ${count} files\n`),
      onFile: args.json ? undefined : (file) => out(`Indexed ${file.uri}${file.reused ? " (unchanged)" : ""}`),
    });
    const written = path.join(outDir, "stone.index");
    const publicKey = args.sign === undefined ? undefined : signFile(written, args.sign);
    if (args.json) {
      return json({
        index: written,
        ...(publicKey === undefined ? {} : { signature: `${written}.sig`, publicKey }),
        packages: packages.map((p) => ({ name: p.name, version: p.version, release: p.release, buildRelease: p.buildRelease, uri: p.uri, hash: p.hash, size: p.downloadSize })),
      });
    }
    out(`\nIndex file written to "${written}"`);
    if (publicKey !== undefined) out(`Signed: ${written}.sig (public-key ${publicKey})`);
  },
});
