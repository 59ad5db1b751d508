/**
 * The `boot` configuration domain (`/usr/share/moss/boot.kdl`, `/etc/moss/boot.kdl`, and their
 * `boot.d/`, read as spec §1.6 reads domains; later files win):
 *
 *     tries 3     // boot counting: a new state's entries get this many tries (0 turns it off)
 *     states 5    // how many states get entries: the current one and those before it
 */
import fs from "node:fs";
import { configFiles } from "../config/loader.ts";
import { MossError } from "../errors.ts";

export interface BootConfig {
  tries: number;
  states: number;
}

export const DEFAULT_BOOT_CONFIG: BootConfig = { tries: 3, states: 5 };

export class BootConfigError extends MossError {
  constructor(file: string, problem: string) {
    super("BOOT_CONFIG", `${file}: ${problem}`);
    this.name = "BootConfigError";
  }
}

export async function loadBootConfig(root: string): Promise<BootConfig> {
  const config = { ...DEFAULT_BOOT_CONFIG };
  for (const file of configFiles(root, "boot")) {
    const text = fs.readFileSync(file.path, "utf8");
    let fields: Record<string, unknown>;
    if (file.format === "yaml") {
      const doc = Bun.YAML.parse(text);
      fields = doc && typeof doc === "object" && !Array.isArray(doc) ? (doc as Record<string, unknown>) : {};
    } else {
      const { parse } = await import("@bgotink/kdl");
      let doc;
      try {
        doc = parse(text);
      } catch (error) {
        throw new BootConfigError(file.path, (error as Error).message.split("\n")[0]!);
      }
      fields = Object.fromEntries(doc.nodes.map((node) => [node.getName(), node.getArgument(0)]));
    }
    for (const [key, value] of Object.entries(fields)) {
      if (key !== "tries" && key !== "states") throw new BootConfigError(file.path, `unknown setting ${JSON.stringify(key)} (known: tries, states)`);
      const min = key === "tries" ? 0 : 1;
      if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > 99) {
        throw new BootConfigError(file.path, `${key} must be a whole number from ${min} to 99, not ${JSON.stringify(value)}`);
      }
      config[key] = value;
    }
  }
  return config;
}
