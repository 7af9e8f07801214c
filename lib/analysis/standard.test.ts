// Goal: the hand-written `standard` tokenizer emits exactly the tokens, positions and lowercasing of
// the regular expression it replaced (kept here as the oracle), and every token's hash is the term
// hash of its units, on random text built from the characters where the rules have edges.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { termHash, termHashOfString, TokenRun } from '../common/token-run.js';
import { analyze } from './index.js';
import { analyzeStandard, STANDARD_MAX_TOKEN_LENGTH } from './standard.js';

/** The previous implementation: a Unicode regex, toLowerCase per match, 255-unit pieces. */
const TOKEN_RE =
  /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]|[\p{L}\p{M}\p{N}_]+(?:[.'’][\p{L}\p{M}\p{N}_]+|,(?=\p{N})\p{N}+)*/gu;

function oracle(text: string, position: number): { terms: string[]; positions: number[]; next: number } {
  const terms: string[] = [];
  const positions: number[] = [];
  TOKEN_RE.lastIndex = 0;
  for (let m = TOKEN_RE.exec(text); m !== null; m = TOKEN_RE.exec(text)) {
    const token = m[0].toLowerCase();
    for (let i = 0; i < token.length; i += STANDARD_MAX_TOKEN_LENGTH) {
      terms.push(token.slice(i, i + STANDARD_MAX_TOKEN_LENGTH));
      positions.push(position++);
    }
  }
  return { terms, positions, next: position };
}

function scanned(run: TokenRun, from: number): { terms: string[]; positions: number[] } {
  const terms: string[] = [];
  const positions: number[] = [];
  for (let i = from; i < run.count; i++) {
    const term = run.tokenString(i);
    terms.push(term);
    positions.push(run.positions[i]);
    expect(run.hashes[i]).toBe(termHash(run.chars, run.starts[i], run.lengths[i]));
    expect(run.hashes[i]).toBe(termHashOfString(term));
  }
  return { terms, positions };
}

/** Characters at the rules' edges, plus a few long runs to cross the 255-unit split. */
const EDGE_UNITS = [
  'a', 'b', 'Z', 'Q', '0', '7', '_', '.', "'", '’', ',', ' ', '-', '/', '\n',
  '漢', '字', 'ひ', 'カ', 'ー', '々', '〇', // Han, Hiragana, Katakana (and marks of those scripts)
  '\u0301', '\u0308', // combining marks (\p{M})
  '𝐀', '😀', '𠀀', '\u{1D7D8}', // astral: a letter, a symbol, a Han ideograph, a digit
  '\uD800', '\uDC00', // lone surrogates
  'İ', 'Σ', 'É', 'ß', 'ǅ', 'Ω', 'K', // uppercase whose toLowerCase changes length, depends on context, or is special
  '٣', '²', 'Ⅻ', '½', // other \p{N}
  'é', 'ж', 'ا', '\u200d', '\u00a0',
  'a'.repeat(100), 'İ'.repeat(90), 'X'.repeat(130), '9'.repeat(120),
];

const textArb = fc.string({ unit: fc.constantFrom(...EDGE_UNITS), maxLength: 40 });

describe('standard tokenizer', () => {
  it('matches the regex tokenizer exactly on random edge-case text', () => {
    fc.assert(
      fc.property(textArb, fc.nat(1000), (text, position) => {
        const run = new TokenRun(16, 16); // tiny: growth is exercised too
        run.pushString('before', 7); // a run may already hold tokens of other fields
        const next = analyzeStandard(text, run, position);
        const expected = oracle(text, position);
        expect(scanned(run, 1)).toEqual({ terms: expected.terms, positions: expected.positions });
        expect(next).toBe(expected.next);
        expect(run.tokenString(0)).toBe('before');
      }),
      { numRuns: 3000, seed: 20261125 },
    );
  });

  it('matches the regex tokenizer on hand-picked cases', () => {
    const cases = [
      "Don't stop U.S.A. 3.14 1,000,000 1,2a a,1 x.y. ’tis o’neil",
      'İstanbul ΣΑΣ ΌΣΟΣ straße ǅemal',
      '漢字かなカナabc漢字 abc漢字 日本語テキスト',
      'a\u0301b \u0301x 𝐀𝐁𝐂 😀a 𠀀𠀁 \uD800a \uDC00b',
      'x'.repeat(600) + ' ' + 'İ'.repeat(200) + ' ' + 'é'.repeat(300),
      '',
      '   ...,,,   ',
    ];
    for (const text of cases) {
      const run = new TokenRun();
      const next = analyzeStandard(text, run, 0);
      const expected = oracle(text, 0);
      expect(scanned(run, 0)).toEqual({ terms: expected.terms, positions: expected.positions });
      expect(next).toBe(expected.next);
    }
  });

  it('continues positions across values and keeps other analyzers working on the same run', () => {
    const run = new TokenRun();
    let position = analyze('standard', 'Hello World', run, 0);
    position = analyze('keyword', 'As Is', run, position);
    position = analyze('simple', 'Foo-BAR 42', run, position);
    position = analyze('whitespace', 'Foo-BAR 42', run, position);
    expect(scanned(run, 0)).toEqual({ terms: ['hello', 'world', 'As Is', 'foo', 'bar', 'Foo-BAR', '42'], positions: [0, 1, 2, 3, 4, 5, 6] });
    expect(position).toBe(7);
  });
});
