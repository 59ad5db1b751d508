/**
 * Package lines of `list` and `state query` (spec §4.5): `<name> <pad><version>-<release>`, the
 * release of every line ending in one column (longest name+version+release plus 7), then
 * ` - <summary>` when there is one. Explicit packages bold, transitive ones dim.
 */
import { bold, dim } from "./output.ts";

export interface PackageLine {
  name: string;
  version: string;
  release: number;
  summary?: string;
  explicit?: boolean;
}

export function packageLines(items: PackageLine[]): string[] {
  const length = (item: PackageLine) => item.name.length + item.version.length + String(item.release).length;
  const width = Math.max(0, ...items.map(length)) + 7;
  return items.map((item) => {
    const pad = " ".repeat(width - length(item) - 1);
    const name = item.explicit === false ? dim(item.name) : bold(item.name);
    return `${name}${pad}${item.version}-${item.release}${item.summary !== undefined ? ` - ${item.summary}` : ""}`;
  });
}

/** `2025-06-02 09:12:44 CEST`: local time and the zone's abbreviation. */
export function localTimestamp(unixSeconds: number): string {
  const date = new Date(unixSeconds * 1000);
  const two = (n: number) => String(n).padStart(2, "0");
  const zone = new Intl.DateTimeFormat("en-US", { timeZoneName: "short" }).formatToParts(date).find((p) => p.type === "timeZoneName")?.value ?? "";
  return `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())} ${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())} ${zone}`.trimEnd();
}
