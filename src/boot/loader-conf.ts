/**
 * `loader/loader.conf` on the ESP (boot-management §4.5 "Ours"): only its `default` line is
 * moss's; every other setting the admin wrote (timeout, editor, console-mode, comments) stays as
 * it was. Rust rewrites the whole file on every sync.
 */

/** The file with `default` set to `pattern`; `undefined` text is a file that does not exist yet. */
export function withDefault(text: string | undefined, pattern: string): string {
  const wanted = `default ${pattern}`;
  if (text === undefined || text === "") return `${wanted}\n`;
  const lines = text.split("\n");
  const trailingNewline = lines.at(-1) === "";
  if (trailingNewline) lines.pop();
  let replaced = false;
  const out: string[] = [];
  for (const line of lines) {
    if (/^\s*default(\s|$)/.test(line)) {
      // One default line: the first is replaced, any later ones (which systemd-boot would let win) go.
      if (!replaced) out.push(wanted);
      replaced = true;
    } else {
      out.push(line);
    }
  }
  if (!replaced) out.push(wanted);
  return `${out.join("\n")}\n`;
}

/** The `default` value a loader.conf sets, if any (the last line wins, as systemd-boot reads it). */
export function defaultOf(text: string): string | undefined {
  let value: string | undefined;
  for (const line of text.split("\n")) {
    const match = /^\s*default\s+(.*?)\s*$/.exec(line);
    if (match) value = match[1]!.replace(/^"(.*)"$/, "$1");
  }
  return value;
}
