/**
 * A token run: the analysis chain's output for one document, as flat typed arrays instead of one
 * string per token. Lives in lib/common because lib/analysis writes it and lib/segments reads it
 * (neither may import the other).
 *
 * Token `i` is the UTF-16 code units `chars[starts[i] .. starts[i] + lengths[i])`, at `positions[i]`,
 * with `hashes[i]` = `termHash` of those units. The hash is defined here once: the tokenizer computes
 * it while it writes the (lowercased) units, the segment builder's term table keys on it, and string
 * lookups hash a string with `termHashOfString` to the same value.
 *
 * Lifetime: a run is reusable (`reset`); a `TokenSlice` remembers the run's generation so a consumer
 * can assert that the run was not reset (reused for another document) before it consumed the slice.
 */

/** FNV-1a offset basis (32-bit). */
const TERM_HASH_SEED = 0x811c9dc5 | 0;
/** FNV-1a prime (32-bit). */
const TERM_HASH_PRIME = 0x01000193;
/** Initial capacities of a fresh run (grown by doubling). */
const RUN_CHARS_INITIAL = 4096;
const RUN_TOKENS_INITIAL = 512;
/** A reset run larger than this (a huge document went through it) drops its arrays back to the initial sizes. */
const RUN_CHARS_RETAIN_MAX = 1 << 20;
const RUN_TOKENS_RETAIN_MAX = 1 << 18;
/** Strings up to this many units are built by appending units (see unitsToString). */
const SHORT_STRING_UNITS = 12;
/** Units per String.fromCharCode.apply call (stays far below engines' argument-count limits). */
const FROM_CHAR_CODE_CHUNK = 8192;

/** Start state of a term hash. */
export function termHashStart(): number {
  return TERM_HASH_SEED;
}

/** Folds one UTF-16 code unit into a term hash (FNV-1a over 16-bit units). */
export function termHashStep(h: number, unit: number): number {
  return Math.imul(h ^ unit, TERM_HASH_PRIME);
}

/** Final mix of a term hash (murmur3's fmix32, so the low bits used by power-of-two tables are well spread). */
export function termHashFinish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** The term hash of `length` units of `chars` from `start`. */
export function termHash(chars: Uint16Array, start: number, length: number): number {
  let h = TERM_HASH_SEED;
  for (let i = start, end = start + length; i < end; i++) h = Math.imul(h ^ chars[i], TERM_HASH_PRIME);
  return termHashFinish(h);
}

/** The term hash of a string's UTF-16 units (equal to `termHash` of the same units). */
export function termHashOfString(text: string): number {
  let h = TERM_HASH_SEED;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), TERM_HASH_PRIME);
  return termHashFinish(h);
}

/**
 * `text` with every lone surrogate replaced by U+FFFD: terms are UTF-8 bytes on disk, where a lone
 * surrogate can only be written as U+FFFD (as Lucene's UTF16toUTF8 does), so the buffer interns and
 * looks terms up in that form too, and two distinct lone surrogates are the same term everywhere.
 */
export function wellFormed(text: string): string {
  const s = text as string & { isWellFormed(): boolean; toWellFormed(): string };
  return s.isWellFormed() ? text : s.toWellFormed();
}

/** A string from `length` UTF-16 units of `chars` (lone surrogates kept as they are). */
export function unitsToString(chars: Uint16Array, start: number, length: number): string {
  if (length <= SHORT_STRING_UNITS) {
    // Appending one unit at a time is the fastest way to a short string (V8 keeps strings under 13
    // units flat); 4× faster than fromCharCode.apply over a subarray in a micro-benchmark.
    let out = '';
    for (let i = start, end = start + length; i < end; i++) out += String.fromCharCode(chars[i]);
    return out;
  }
  if (length <= FROM_CHAR_CODE_CHUNK) return String.fromCharCode.apply(null, chars.subarray(start, start + length) as unknown as number[]);
  let out = '';
  for (let i = 0; i < length; i += FROM_CHAR_CODE_CHUNK) {
    const n = Math.min(FROM_CHAR_CODE_CHUNK, length - i);
    out += String.fromCharCode.apply(null, chars.subarray(start + i, start + i + n) as unknown as number[]);
  }
  return out;
}

/** UTF-8 byte length of UTF-16 units, as TextEncoder encodes them (a lone surrogate is 3 bytes: U+FFFD). */
export function utf8LengthOfUnits(chars: Uint16Array, start: number, length: number): number {
  let bytes = 0;
  const end = start + length;
  for (let i = start; i < end; i++) {
    const c = chars[i];
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < end && chars[i + 1] >= 0xdc00 && chars[i + 1] <= 0xdfff) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/** Tokens of one document (or any batch): code units, starts, lengths, positions and hashes. */
export class TokenRun {
  chars: Uint16Array;
  /** Units of `chars` in use. */
  charCount = 0;
  starts: Int32Array;
  lengths: Int32Array;
  positions: Int32Array;
  hashes: Int32Array;
  /** Tokens in use. */
  count = 0;
  /** Bumped by every reset (see the module comment on lifetime). */
  generation = 0;

  constructor(charsInitial = RUN_CHARS_INITIAL, tokensInitial = RUN_TOKENS_INITIAL) {
    this.chars = new Uint16Array(Math.max(16, charsInitial));
    const n = Math.max(16, tokensInitial);
    this.starts = new Int32Array(n);
    this.lengths = new Int32Array(n);
    this.positions = new Int32Array(n);
    this.hashes = new Int32Array(n);
  }

  /** Empties the run for reuse; slices taken before become stale. */
  reset(): void {
    this.count = 0;
    this.charCount = 0;
    this.generation++;
    if (this.chars.length > RUN_CHARS_RETAIN_MAX) this.chars = new Uint16Array(RUN_CHARS_INITIAL);
    if (this.starts.length > RUN_TOKENS_RETAIN_MAX) {
      this.starts = new Int32Array(RUN_TOKENS_INITIAL);
      this.lengths = new Int32Array(RUN_TOKENS_INITIAL);
      this.positions = new Int32Array(RUN_TOKENS_INITIAL);
      this.hashes = new Int32Array(RUN_TOKENS_INITIAL);
    }
  }

  /** Makes room for `units` more code units after `charCount`. */
  ensureChars(units: number): void {
    const need = this.charCount + units;
    if (need <= this.chars.length) return;
    const grown = new Uint16Array(Math.max(need, this.chars.length * 2));
    grown.set(this.chars.subarray(0, this.charCount));
    this.chars = grown;
  }

  /** Makes room for `tokens` more tokens after `count`. */
  ensureTokens(tokens: number): void {
    const need = this.count + tokens;
    if (need <= this.starts.length) return;
    const size = Math.max(need, this.starts.length * 2);
    const grow = (a: Int32Array) => {
      const b = new Int32Array(size);
      b.set(a.subarray(0, this.count));
      return b;
    };
    this.starts = grow(this.starts);
    this.lengths = grow(this.lengths);
    this.positions = grow(this.positions);
    this.hashes = grow(this.hashes);
  }

  /** Appends a token whose units the caller already wrote at `chars[start .. start + length)`. */
  push(start: number, length: number, hash: number, position: number): void {
    if (this.count === this.starts.length) this.ensureTokens(1);
    const i = this.count++;
    this.starts[i] = start;
    this.lengths[i] = length;
    this.hashes[i] = hash;
    this.positions[i] = position;
  }

  /** Appends a token given as a string (copied and hashed). */
  pushString(term: string, position: number): void {
    term = wellFormed(term);
    const length = term.length;
    this.ensureChars(length);
    const chars = this.chars;
    const start = this.charCount;
    let h = TERM_HASH_SEED;
    for (let i = 0; i < length; i++) {
      const c = term.charCodeAt(i);
      chars[start + i] = c;
      h = Math.imul(h ^ c, TERM_HASH_PRIME);
    }
    this.charCount = start + length;
    this.push(start, length, termHashFinish(h), position);
  }

  /** Appends a copy of token `i` of this run (used to regroup a field's tokens contiguously). */
  pushCopyOf(i: number): void {
    const length = this.lengths[i];
    this.ensureChars(length);
    const start = this.charCount;
    const from = this.starts[i];
    this.chars.copyWithin(start, from, from + length);
    this.charCount = start + length;
    this.push(start, length, this.hashes[i], this.positions[i]);
  }

  /** Token `i` as a string (for tests and slow paths). */
  tokenString(i: number): string {
    return unitsToString(this.chars, this.starts[i], this.lengths[i]);
  }

  /** A slice of tokens [from, to) of this run, valid until the next reset. */
  slice(from: number, to: number): TokenSlice {
    return { run: this, from, to, generation: this.generation };
  }
}

/** Tokens [from, to) of a run, taken at run generation `generation`. */
export interface TokenSlice {
  run: TokenRun;
  from: number;
  to: number;
  generation: number;
}

/** The terms of a slice as strings (tests, slow paths). */
export function sliceTerms(slice: TokenSlice): string[] {
  const out: string[] = [];
  for (let i = slice.from; i < slice.to; i++) out.push(slice.run.tokenString(i));
  return out;
}

/** The positions of a slice. */
export function slicePositions(slice: TokenSlice): number[] {
  return Array.from(slice.run.positions.subarray(slice.from, slice.to));
}
