/**
 * The `standard` analyzer: splits text into words close to Unicode's word-boundary rules (UAX #29, as
 * Lucene's StandardTokenizer does) and lowercases them. This is the default analyzer of text fields.
 *
 * Approximation in use until the full analysis chain lands (search issue): a token is a run of
 * letters, marks, digits and underscores, which may contain single `.`, `'`, `’` or `,`/`.` between
 * digits (so "don't", "u.s.a" and "3.14" stay whole, as in UAX #29); every Han, Hiragana and Katakana
 * character is a token of its own, as Lucene emits them. Tokens over 255 UTF-16 units are split.
 */

/** Lucene's StandardTokenizer default max_token_length. */
export const STANDARD_MAX_TOKEN_LENGTH = 255;

const TOKEN_RE =
  /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]|[\p{L}\p{M}\p{N}_]+(?:[.'’][\p{L}\p{M}\p{N}_]+|,(?=\p{N})\p{N}+)*/gu;

/** Analysed tokens of one field value: terms in order with their positions. */
export interface TokenStream {
  terms: string[];
  positions: number[];
  /** Position to continue from for the next value of a multi-valued field. */
  nextPosition: number;
}

/** Tokenizes and lowercases `text`, appending to `out` from `out.nextPosition`. */
export function analyzeStandard(text: string, out: TokenStream): void {
  TOKEN_RE.lastIndex = 0;
  let position = out.nextPosition;
  for (let m = TOKEN_RE.exec(text); m !== null; m = TOKEN_RE.exec(text)) {
    let token = m[0];
    // ASCII fast path: toLowerCase is cheap, but skipping it when not needed avoids a copy.
    token = token.toLowerCase();
    if (token.length > STANDARD_MAX_TOKEN_LENGTH) {
      for (let i = 0; i < token.length; i += STANDARD_MAX_TOKEN_LENGTH) {
        out.terms.push(token.slice(i, i + STANDARD_MAX_TOKEN_LENGTH));
        out.positions.push(position++);
      }
      continue;
    }
    out.terms.push(token);
    out.positions.push(position++);
  }
  out.nextPosition = position;
}

/** A fresh empty token stream. */
export function newTokenStream(): TokenStream {
  return { terms: [], positions: [], nextPosition: 0 };
}
