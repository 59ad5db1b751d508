/** The `moss` command tree. Sub-commands load lazily so start-up pays only for the one that runs. */
import { defineCommand, type CommandDef } from "citty";

export const SUBCOMMANDS: Record<string, () => Promise<CommandDef<any>>> = {
  boot: () => import("./boot.ts").then((m) => m.default),
  cache: () => import("./cache.ts").then((m) => m.default),
  extract: () => import("./extract.ts").then((m) => m.default),
  fetch: () => import("./fetch.ts").then((m) => m.default),
  index: () => import("./index-command.ts").then((m) => m.default),
  info: () => import("./info.ts").then((m) => m.default),
  inspect: () => import("./inspect.ts").then((m) => m.default),
  install: () => import("./install.ts").then((m) => m.default),
  list: () => import("./list.ts").then((m) => m.default),
  remove: () => import("./remove.ts").then((m) => m.default),
  repo: () => import("./repo.ts").then((m) => m.default),
  search: () => import("./search.ts").then((m) => m.default),
  "search-file": () => import("./search-file.ts").then((m) => m.default),
  state: () => import("./state.ts").then((m) => m.default),
  sync: () => import("./sync.ts").then((m) => m.default),
  version: () => import("./version.ts").then((m) => m.default),
};

export const app = defineCommand({
  meta: { name: "moss", description: "Advanced system state & package manager" },
  args: {
    directory: { type: "string", alias: "D", description: "Root directory", default: "/" },
    cache: { type: "string", description: "Cache directory" },
    "yes-all": { type: "boolean", alias: "y", description: "Assume yes for all questions" },
    verbose: { type: "boolean", alias: "v", description: "Prints additional information about what moss is doing" },
    version: { type: "boolean", alias: "V", description: "Prints version information about the binary" },
    log: { type: "string", description: "Logging configuration: <level>[:<format>][:<destination>]" },
    esp: { type: "string", description: "Use this directory as the mounted ESP (skips discovery; env MOSS_ESP)" },
    xbootldr: { type: "string", description: "Use this directory as the mounted XBOOTLDR (env MOSS_XBOOTLDR)" },
  },
  subCommands: SUBCOMMANDS,
});
