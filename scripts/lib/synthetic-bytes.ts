/**
 * Seeded randomness and file contents for the synthetic distribution (see distro.ts). Contents are
 * a pure function of (kind, size, seed), so two files planned with the same triple are identical
 * and share a digest, and a seed gives the same bytes on every run. The mix aims at how a real
 * /usr compresses: text about 3x, machine code about 2x, already-compressed blobs not at all.
 */

/** mulberry32: tiny, fast and good enough to make test data; never use it for anything secret. */
export class Prng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  u32(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return Math.floor((this.u32() / 0x1_0000_0000) * n);
  }

  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.below(hi - lo + 1);
  }

  chance(probability: number): boolean {
    return this.u32() / 0x1_0000_0000 < probability;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)]!;
  }

  /** Mostly small indexes, a few large: a word list or a popularity ranking. */
  skewed(n: number): number {
    const r = this.u32() / 0x1_0000_0000;
    return Math.floor(r * r * n);
  }

  /**
   * Log-uniform over [lo, hi) with integer arithmetic only (an octave, then a point inside it), so
   * no platform's Math.log or Math.exp can change a size.
   */
  logUniform(lo: number, hi: number): number {
    let octaves = 1;
    while (lo * 2 ** octaves < hi) octaves++;
    const base = lo * 2 ** this.below(octaves);
    return base + this.below(Math.max(1, Math.min(base, hi - base)));
  }
}

const SYLLABLES = ["ka", "zo", "rin", "bel", "tor", "mix", "lu", "van", "dre", "po", "sil", "gra", "nek", "fa", "xu", "mor",
  "ti", "wen", "cal", "dy", "ost", "pre", "hu", "sta", "ber"];

/** A pronounceable made-up word of two or three syllables: package, file and symbol names. */
export function word(rng: Prng): string {
  let out = "";
  for (let i = rng.range(2, 3); i > 0; i--) out += rng.pick(SYLLABLES);
  return out;
}

export type ContentKind = "text" | "binary" | "compressed";

/** The bytes of one synthetic file; `prefix` (one byte per character, latin1) stands for a magic number or a shebang. */
export function syntheticBytes(kind: ContentKind, size: number, seed: number, prefix = ""): Uint8Array {
  const out = new Uint8Array(size);
  const rng = new Prng(seed);
  const head = Buffer.from(prefix, "latin1").subarray(0, size);
  out.set(head);
  if (kind === "text") fillText(out, head.length, size, rng);
  else if (kind === "binary") fillMachineCode(out, head.length, rng);
  else fillRandom(out, head.length, size, rng);
  return out;
}

/** A word list shared by every file, so text compresses against itself the way prose and code do. */
const VOCABULARY: Uint8Array[] = (() => {
  const rng = new Prng(0x5eed);
  const syllables = ["ka", "zo", "rin", "bel", "tor", "mix", "lu", "van", "qu", "dre", "po", "sil", "gra", "nek",
    "fa", "xu", "mor", "ti", "wen", "cal", "dy", "ost", "pre", "hu", "str", "ing", "buf", "len", "ptr", "ctx"];
  const fixed = ["the", "of", "and", "to", "a", "in", "is", "for", "return", "if", "else", "int", "const", "char",
    "void", "static", "struct", "self", "def", "NULL", "0", "1", "=", "==", "{", "}", "(", ")", ";", "->", "*"];
  const words = new Set(fixed);
  while (words.size < 3000) {
    let word = "";
    for (let i = rng.range(1, 4); i > 0; i--) word += rng.pick(syllables);
    if (rng.chance(0.15)) word += `_${rng.pick(syllables)}`;
    words.add(word);
  }
  return [...words].map((word) => new TextEncoder().encode(word));
})();

const SPACE = 0x20;
const NEWLINE = 0x0a;
const PUNCTUATION = [0x2c, 0x2e, 0x3b, 0x3a]; // , . ; :

function fillText(out: Uint8Array, from: number, to: number, rng: Prng): void {
  let pos = from;
  let wordsLeft = 0;
  while (pos < to) {
    if (wordsLeft === 0) {
      if (pos > from) out[pos++] = NEWLINE;
      const indent = rng.pick([0, 0, 2, 4, 4, 8]);
      for (let i = 0; i < indent && pos < to; i++) out[pos++] = SPACE;
      wordsLeft = rng.range(2, 12);
      continue;
    }
    const word = VOCABULARY[rng.skewed(VOCABULARY.length)]!;
    for (let i = 0; i < word.length && pos < to; i++) out[pos++] = word[i]!;
    if (--wordsLeft > 0 && pos < to) out[pos++] = rng.chance(0.08) ? PUNCTUATION[rng.below(4)]! : SPACE;
  }
  if (to > from) out[to - 1] = NEWLINE;
}

/**
 * Machine-code-like bytes: short "instructions" from a fixed pool (compilers emit the same
 * sequences over and over) with random operands, string tables, zero padding and some random data.
 */
const INSTRUCTIONS: Uint8Array[] = (() => {
  const rng = new Prng(0xc0de);
  const common = [0x48, 0x89, 0x8b, 0xe8, 0xff, 0x0f, 0x85, 0x24, 0x44, 0x4c, 0xc3, 0x83, 0x74, 0x8d, 0x00, 0x01];
  return Array.from({ length: 1024 }, () =>
    Uint8Array.from({ length: rng.range(2, 7) }, () => (rng.chance(0.6) ? rng.pick(common) : rng.below(256))));
})();

function fillMachineCode(out: Uint8Array, from: number, rng: Prng): void {
  const elf = [0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00];
  if (from === 0) for (let i = 0; i < elf.length && i < out.length; i++) out[i] = elf[i]!;
  let pos = Math.max(from, Math.min(64, out.length));
  while (pos < out.length) {
    const end = Math.min(out.length, pos + rng.logUniform(512, 65536));
    const section = rng.below(100);
    if (section < 58) {
      while (pos < end) {
        const insn = INSTRUCTIONS[rng.skewed(INSTRUCTIONS.length)]!;
        for (let i = 0; i < insn.length && pos < end; i++) out[pos++] = insn[i]!;
        if (rng.chance(0.2)) for (let i = 0; i < 4 && pos < end; i++) out[pos++] = rng.below(256);
      }
    } else if (section < 78) {
      fillText(out, pos, end, rng);
      for (let i = pos; i < end; i++) if (out[i] === NEWLINE) out[i] = 0;
      pos = end;
    } else if (section < 90) {
      pos = end; // zero padding between sections
    } else {
      fillRandom(out, pos, end, rng);
      pos = end;
    }
  }
}

function fillRandom(out: Uint8Array, from: number, to: number, rng: Prng): void {
  let pos = from;
  for (; pos + 4 <= to; pos += 4) {
    const word = rng.u32();
    out[pos] = word;
    out[pos + 1] = word >>> 8;
    out[pos + 2] = word >>> 16;
    out[pos + 3] = word >>> 24;
  }
  for (; pos < to; pos++) out[pos] = rng.below(256);
}
