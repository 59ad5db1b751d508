import fs from "node:fs";
import path from "node:path";
import { fetchPackages } from "../client/fetch.ts";
import { availableSources } from "../client/repositories.ts";
import { MossError } from "../errors.ts";
import { firstProviding, providerText, type Candidate } from "../registry/candidates.ts";
import { json, out } from "../ui/output.ts";
import { mossCommand } from "./command.ts";
import { withSession } from "./session.ts";

/**
 * `moss fetch` (spec §4.12): each package's `.stone` from its repository into DIR, named as in
 * its URI, checked against the index's SHA-256 (Rust does not check). Dependencies are not fetched.
 */
export default mossCommand({
  meta: { name: "fetch", description: "Fetch packages from the repositories" },
  args: {
    packages: { type: "positional", description: "packages to fetch", required: true },
    "output-dir": { type: "string", alias: "o", description: "where the .stone files go", default: "." },
    json: { type: "boolean", description: "Print JSON" },
  },
  run: (args, globals) =>
    withSession(globals, false, async (session) => {
      const sources = await availableSources(session);
      const wanted: Candidate[] = args._.map((arg) => {
        const pick = firstProviding(sources, providerText(arg));
        if (!pick) throw new MossError("NO_PACKAGE", `no package found: ${arg}`);
        return { ...pick, path: undefined };
      });
      const dir = path.resolve(args["output-dir"]);
      fs.mkdirSync(dir, { recursive: true });
      if (globals.verbose && !args.json) {
        out("The following package(s) will be fetched:\n");
        for (const c of wanted) out(`${c.meta.name}  ${c.meta.uri}`);
        out();
      }
      // Through the download cache (verified there), then copied out under its own name.
      await fetchPackages(session.installation.cacheDir, wanted);
      const fetched = wanted.map((c) => {
        const target = path.join(dir, decodeURIComponent(new URL(c.meta.uri!).pathname.split("/").pop()!));
        fs.copyFileSync(c.path!, `${target}.part`);
        fs.renameSync(`${target}.part`, target);
        return { name: c.meta.name, path: target, hash: c.meta.hash };
      });
      if (args.json) return json(fetched);
      for (const f of fetched) out(`Fetched ${f.name} ${path.relative(process.cwd(), f.path) || f.path}`);
    }),
});
