import { out } from "../ui/output.ts";
import { fullVersion, simpleVersion } from "../version.ts";
import { mossCommand } from "./command.ts";

export default mossCommand({
  meta: { name: "version", description: "Display version and exit" },
  args: {
    full: { type: "boolean", alias: "f", description: "Print the full build and version info" },
  },
  run(args) {
    out(`moss ${args.full ? fullVersion() : simpleVersion()}`);
  },
});
