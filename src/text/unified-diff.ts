/**
 * A unified diff of two small texts, line by line, with three lines of context: what moss shows
 * when it rewrites a configuration file (a few dozen lines, so a plain LCS table is enough).
 */
const CONTEXT = 3;

/** A line kept, removed or added, and how many lines of each side come before it. */
type Op = { kind: " " | "-" | "+"; line: string; aBefore: number; bBefore: number };

function lines(text: string): string[] {
  const split = text.split("\n");
  if (split.at(-1) === "") split.pop();
  return split;
}

/** The edit script from `a` to `b`: every line kept, removed or added, in order. */
function editScript(a: string[], b: string[]): Op[] {
  const common = Array.from({ length: a.length + 1 }, () => new Uint32Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) common[i]![j] = a[i] === b[j] ? common[i + 1]![j + 1]! + 1 : Math.max(common[i + 1]![j]!, common[i]![j + 1]!);
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const at = { aBefore: i, bBefore: j };
    if (i < a.length && j < b.length && a[i] === b[j]) {
      ops.push({ kind: " ", line: a[i++]!, ...at });
      j++;
    } else if (i < a.length && (j === b.length || common[i + 1]![j]! >= common[i]![j + 1]!)) {
      // Removals before additions, as diff(1) prints them.
      ops.push({ kind: "-", line: a[i++]!, ...at });
    } else {
      ops.push({ kind: "+", line: b[j++]!, ...at });
    }
  }
  return ops;
}

/** `--- fromName` / `+++ toName` and hunks; empty when the texts are the same. */
export function unifiedDiff(from: string, to: string, fromName: string, toName: string): string {
  const ops = editScript(lines(from), lines(to));
  const changed = ops.flatMap((op, index) => (op.kind === " " ? [] : [index]));
  if (changed.length === 0) return "";
  const out = [`--- ${fromName}`, `+++ ${toName}`];
  let start = 0;
  while (start < changed.length) {
    // A hunk: changes less than two contexts apart share one.
    let end = start;
    while (end + 1 < changed.length && changed[end + 1]! - changed[end]! <= 2 * CONTEXT) end++;
    const first = Math.max(0, changed[start]! - CONTEXT);
    const last = Math.min(ops.length - 1, changed[end]! + CONTEXT);
    const hunk = ops.slice(first, last + 1);
    const fromCount = hunk.filter((op) => op.kind !== "+").length;
    const toCount = hunk.filter((op) => op.kind !== "-").length;
    // Line numbers are 1-based; an empty side names the line before it.
    const { aBefore, bBefore } = ops[first]!;
    out.push(`@@ -${aBefore + (fromCount > 0 ? 1 : 0)},${fromCount} +${bBefore + (toCount > 0 ? 1 : 0)},${toCount} @@`);
    for (const op of hunk) out.push(`${op.kind}${op.line}`);
    start = end + 1;
  }
  return `${out.join("\n")}\n`;
}
