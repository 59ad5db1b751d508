import { extractStone } from "../client/extract.ts";
import { createProgress } from "../ui/progress.ts";
import { out } from "../ui/output.ts";
import { json } from "../ui/output.ts";
import { mossCommand } from "./command.ts";
import { blitSummary, rustDebugPath } from "./format.ts";

export default mossCommand({
  meta: { name: "extract", description: "Extract a `.stone` content to disk" },
  args: {
    paths: { type: "positional", description: "files to extract", required: true },
    "output-dir": { type: "string", alias: "o", description: "directory to extract the stone(s) to", default: "." },
    json: { type: "boolean", description: "Print one JSON document describing what was extracted" },
  },
  async run(args) {
    const outputDir = args["output-dir"] ?? ".";
    const results = [];
    for (const path of args._) {
      const progress = args.json ? undefined : createProgress(`Extracting ${path}`);
      try {
        const result = await extractStone(path, outputDir, { onProgress: progress?.update });
        results.push(result);
        progress?.done();
        if (args.json) continue;
        if (result.skipped) out(`${rustDebugPath(path)}: ${result.reason}`);
        else out(`Extract: ${rustDebugPath(path)} -> ${rustDebugPath(result.destination)}\n\n${blitSummary(result.entries, result.seconds)}`);
      } finally {
        progress?.done();
      }
    }
    if (args.json) json(results);
  },
});
