/**
 * The `standard` analyzer: splits text into words close to Unicode's word-boundary rules (UAX #29, as
 * Lucene's StandardTokenizer does) and lowercases them. This is the default analyzer of text fields.
 *
 * Approximation in use until the full analysis chain lands (search issue): a token is a run of
 * letters, marks, digits and underscores, which may contain single `.`, `'`, `’` or `,`/`.` between
 * digits (so "don't", "u.s.a" and "3.14" stay whole, as in UAX #29); every Han, Hiragana and Katakana
 * character is a token of its own, as Lucene emits them. Tokens over 255 UTF-16 units are split.
 *
 * The rules are exactly those of this regular expression (run with the `gu` flags, each match
 * lowercased with String.prototype.toLowerCase, then cut into 255-unit pieces):
 *
 *   [\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]
 *   | [\p{L}\p{M}\p{N}_]+(?:[.'’][\p{L}\p{M}\p{N}_]+|,(?=\p{N})\p{N}+)*
 *
 * but implemented as a hand-written scanner over char codes (standard.test.ts checks it against the
 * regex on random text): an ASCII class table, a lazily filled table for the rest of the BMP
 * classified by the same Unicode property regexes, and the regexes themselves for astral code
 * points. Tokens go straight into a TokenRun (code units + hash), with no string per ASCII token;
 * a token with non-ASCII units is lowercased with toLowerCase on its slice, so case mappings that
 * change the length ('İ') or depend on context (final sigma) are exactly the built-in ones.
 */
import { termHashFinish, termHashStart, termHashStep, type TokenRun } from '../common/token-run.js';

/** Lucene's StandardTokenizer default max_token_length. */
export const STANDARD_MAX_TOKEN_LENGTH = 255;

/** Class bits: part of a word run ([\p{L}\p{M}\p{N}_]); a numeric (\p{N}); a one-char token (Han, Hiragana, Katakana). */
const WORD = 1;
const NUMBER = 2;
const IDEOGRAPH = 4;
/** Not classified yet (lazily filled BMP table). */
const UNKNOWN = 0x80;

const WORD_RE = /^[\p{L}\p{M}\p{N}_]$/u;
const NUMBER_RE = /^\p{N}$/u;
const IDEOGRAPH_RE = /^[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]$/u;

const APOSTROPHE = 0x27;
const RIGHT_SINGLE_QUOTE = 0x2019;
const FULL_STOP = 0x2e;
const COMMA = 0x2c;

/** Classifies one code point (given as a string) by the Unicode property regexes. */
function classifyString(ch: string): number {
  return (WORD_RE.test(ch) ? WORD : 0) | (NUMBER_RE.test(ch) ? NUMBER : 0) | (IDEOGRAPH_RE.test(ch) ? IDEOGRAPH : 0);
}

/** Classes of BMP code units: ASCII filled now, the rest on first use. Lone surrogates classify as 0. */
const BMP_CLASS = new Uint8Array(0x10000).fill(UNKNOWN);
for (let c = 0; c < 0x80; c++) BMP_CLASS[c] = classifyString(String.fromCharCode(c));

/** Class of a BMP code unit (that is not half of a surrogate pair). */
function bmpClass(c: number): number {
  const cls = BMP_CLASS[c];
  if (cls !== UNKNOWN) return cls;
  return (BMP_CLASS[c] = classifyString(String.fromCharCode(c)));
}

/** Classes of astral code points seen so far (rare: a small map beats a 1M-entry table). */
const astralClasses = new Map<number, number>();

function astralClass(codePoint: number): number {
  let cls = astralClasses.get(codePoint);
  if (cls === undefined) {
    cls = classifyString(String.fromCodePoint(codePoint));
    astralClasses.set(codePoint, cls);
  }
  return cls;
}

/** ASCII lowercase of every ASCII unit. */
const ASCII_LOWER = new Uint16Array(0x80);
for (let c = 0; c < 0x80; c++) ASCII_LOWER[c] = c >= 0x41 && c <= 0x5a ? c + 0x20 : c;

/**
 * Class of the non-ASCII code point starting at unit `i` of `text`, with its size in units (1, or 2
 * for a surrogate pair) in bits 8+: `cls | size << 8`.
 */
function classAt(text: string, i: number, n: number): number {
  const c = text.charCodeAt(i);
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
    const d = text.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) return astralClass(((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000) | (2 << 8);
  }
  return bmpClass(c) | (1 << 8);
}

/**
 * Tokenizes and lowercases `text` into `run` from `position`; returns the position after the last
 * token (for the next value of a multi-valued field).
 */
export function analyzeStandard(text: string, run: TokenRun, position: number): number {
  const n = text.length;
  run.ensureChars(n);
  let chars = run.chars;
  let out = run.charCount;
  let i = 0;
  while (i < n) {
    const first = text.charCodeAt(i);
    if (first < 0x80) {
      if ((BMP_CLASS[first] & WORD) === 0) {
        i++;
        continue;
      }
    } else {
      const cs = classAt(text, i, n);
      if ((cs & IDEOGRAPH) !== 0) {
        const size = cs >>> 8;
        run.charCount = out;
        position = emitLowered(run, text, i, i + size, n, position);
        chars = run.chars;
        out = run.charCount;
        i += size;
        continue;
      }
      if ((cs & WORD) === 0) {
        i += cs >>> 8;
        continue;
      }
    }
    // [\p{L}\p{M}\p{N}_]+ then (?:[.'’]W+ | ,N+)*, greedy (the regex never needs to backtrack).
    // ASCII units are lowercased and hashed as they are copied; a non-ASCII unit sends the whole
    // token through toLowerCase afterwards (what is written here is then overwritten).
    const start = i;
    const at = out;
    let h = termHashStart();
    let ascii = true;
    let bit = WORD;
    for (;;) {
      while (i < n) {
        const c = text.charCodeAt(i);
        if (c < 0x80) {
          if ((BMP_CLASS[c] & bit) === 0) break;
          const u = ASCII_LOWER[c];
          chars[out++] = u;
          h = termHashStep(h, u);
          i++;
        } else {
          const cs = classAt(text, i, n);
          if ((cs & bit) === 0) break;
          ascii = false;
          i += cs >>> 8;
        }
      }
      if (i + 1 >= n) break;
      const sep = text.charCodeAt(i);
      if (sep === FULL_STOP || sep === APOSTROPHE || sep === RIGHT_SINGLE_QUOTE) bit = WORD;
      else if (sep === COMMA) bit = NUMBER;
      else break;
      const next = text.charCodeAt(i + 1);
      if (((next < 0x80 ? BMP_CLASS[next] : classAt(text, i + 1, n)) & bit) === 0) break;
      if (sep === RIGHT_SINGLE_QUOTE) ascii = false;
      else {
        chars[out++] = sep;
        h = termHashStep(h, sep);
      }
      i++;
    }
    if (!ascii) {
      run.charCount = at;
      position = emitLowered(run, text, start, i, n, position);
      chars = run.chars;
      out = run.charCount;
      continue;
    }
    const length = out - at;
    run.charCount = out;
    if (length > STANDARD_MAX_TOKEN_LENGTH) position = pushPieces(run, at, length, position);
    else run.push(at, length, termHashFinish(h), position++);
  }
  run.charCount = out;
  return position;
}

/** Emits text[start, end) lowercased by toLowerCase (exact for every script), split into 255-unit pieces. */
function emitLowered(run: TokenRun, text: string, start: number, end: number, textLength: number, position: number): number {
  const lowered = text.slice(start, end).toLowerCase();
  const length = lowered.length;
  // Room for this token and, unexpanded, the rest of the text (lowercasing may lengthen: 'İ' → 'i̇').
  run.ensureChars(length + (textLength - end));
  const chars = run.chars;
  const at = run.charCount;
  let h = termHashStart();
  for (let k = 0; k < length; k++) {
    const u = lowered.charCodeAt(k);
    chars[at + k] = u;
    h = termHashStep(h, u);
  }
  run.charCount = at + length;
  if (length > STANDARD_MAX_TOKEN_LENGTH) return pushPieces(run, at, length, position);
  run.push(at, length, termHashFinish(h), position);
  return position + 1;
}

/** Pushes already written units [at, at + length) as consecutive 255-unit tokens. */
function pushPieces(run: TokenRun, at: number, length: number, position: number): number {
  const chars = run.chars;
  for (let from = 0; from < length; from += STANDARD_MAX_TOKEN_LENGTH) {
    const pieceLength = Math.min(STANDARD_MAX_TOKEN_LENGTH, length - from);
    let h = termHashStart();
    for (let k = at + from, end = at + from + pieceLength; k < end; k++) h = termHashStep(h, chars[k]);
    run.push(at + from, pieceLength, termHashFinish(h), position++);
  }
  return position;
}
