/** Analysis: turning field values into terms. Today the `standard` and `keyword` analyzers. */
export { analyzeStandard, STANDARD_MAX_TOKEN_LENGTH } from './standard.js';
import { analyzeStandard } from './standard.js';
import { errors } from '../common/errors.js';
import type { TokenRun } from '../common/token-run.js';

/** Names of analyzers available today. */
export const BUILTIN_ANALYZERS = ['standard', 'keyword', 'simple', 'whitespace'] as const;

const SIMPLE_RE = /\p{L}+/gu;
const WHITESPACE_RE = /\S+/gu;

/**
 * Analyses `text` with the named analyzer, appending its tokens to `run` from `position`; returns the
 * position after the last token (positions continue across the values of a multi-valued field).
 */
export function analyze(analyzer: string, text: string, run: TokenRun, position: number): number {
  switch (analyzer) {
    case 'standard':
      return analyzeStandard(text, run, position);
    case 'keyword':
      run.pushString(text, position);
      return position + 1;
    case 'simple':
      for (const m of text.matchAll(SIMPLE_RE)) run.pushString(m[0].toLowerCase(), position++);
      return position;
    case 'whitespace':
      for (const m of text.matchAll(WHITESPACE_RE)) run.pushString(m[0], position++);
      return position;
    default:
      throw errors.illegalArgument(`failed to find analyzer [${analyzer}]`);
  }
}

/** Whether `name` is an analyzer we can run. */
export function isKnownAnalyzer(name: string): boolean {
  return (BUILTIN_ANALYZERS as readonly string[]).includes(name);
}
