/** Analysis: turning field values into terms. Today the `standard` and `keyword` analyzers. */
export { analyzeStandard, newTokenStream, STANDARD_MAX_TOKEN_LENGTH, type TokenStream } from './standard.js';
import { analyzeStandard, type TokenStream } from './standard.js';
import { errors } from '../common/errors.js';

/** Names of analyzers available today. */
export const BUILTIN_ANALYZERS = ['standard', 'keyword', 'simple', 'whitespace'] as const;

/** Analyses `text` with the named analyzer into `out` (positions continue across values). */
export function analyze(analyzer: string, text: string, out: TokenStream): void {
  switch (analyzer) {
    case 'standard':
      analyzeStandard(text, out);
      return;
    case 'keyword':
      out.terms.push(text);
      out.positions.push(out.nextPosition++);
      return;
    case 'simple': {
      for (const m of text.matchAll(/\p{L}+/gu)) {
        out.terms.push(m[0].toLowerCase());
        out.positions.push(out.nextPosition++);
      }
      return;
    }
    case 'whitespace': {
      for (const m of text.matchAll(/\S+/gu)) {
        out.terms.push(m[0]);
        out.positions.push(out.nextPosition++);
      }
      return;
    }
    default:
      throw errors.illegalArgument(`failed to find analyzer [${analyzer}]`);
  }
}

/** Whether `name` is an analyzer we can run. */
export function isKnownAnalyzer(name: string): boolean {
  return (BUILTIN_ANALYZERS as readonly string[]).includes(name);
}
