/**
 * Elasticsearch's `minimum_should_match` specification (Queries.calculateMinShouldMatch), resolved
 * against the number of optional clauses on the shard. Pure.
 *
 * Forms: `3` (at least 3), `-2` (all but 2), `75%` (75% rounded down), `-25%` (all but 25% rounded
 * down), and conditions `3<90%` (up to 3 optional clauses all are required, above that 90%) chained
 * as `2<-25% 9<-3` (each condition applies when the count exceeds its bound, the last one wins).
 * The result is never negative; it is not capped at the clause count (a bool asking for more should
 * clauses than it has matches nothing, as in Lucene).
 */
import { QuarryError } from '../common/errors.js';

/** Resolves a `minimum_should_match` spec for `optionalClauseCount` should clauses. */
export function resolveMinimumShouldMatch(spec: string | number, optionalClauseCount: number): number {
  return calculate(optionalClauseCount, String(spec).trim());
}

/**
 * Throws the error Elasticsearch gives for a spec it cannot read; returns the spec trimmed. Every
 * condition is checked (Elasticsearch reads a condition only when the clause count reaches it, so it
 * accepts `3<` for three clauses and fails it for four; we fail it at parse time).
 */
export function checkMinimumShouldMatch(spec: string | number | boolean): string {
  const text = String(spec).trim();
  calculate(2147483647, text);
  return text;
}

function calculate(optionalClauseCount: number, spec: string): number {
  let result = optionalClauseCount;
  if (spec.includes('<')) {
    // Spaces around '<' are allowed; conditions are separated by single spaces.
    const normalized = spec.replace(/(\s+<\s*)|(\s*<\s+)/g, '<');
    for (const condition of normalized.split(' ')) {
      const parts = condition.split('<');
      const upperBound = parseJavaInt(parts[0] ?? '');
      if (parts.length !== 2) throw numberFormat(condition);
      if (optionalClauseCount <= upperBound) return result;
      result = calculate(optionalClauseCount, parts[1]);
    }
    return result;
  }
  if (spec.includes('%')) {
    // As Elasticsearch: the '%' is assumed last; float arithmetic, truncated toward zero.
    const percent = parseJavaInt(spec.slice(0, -1));
    const calc = Math.fround(Math.fround(result * percent) * Math.fround(1 / 100));
    result = calc < 0 ? result + Math.trunc(calc) : Math.trunc(calc);
  } else {
    const calc = parseJavaInt(spec);
    result = calc < 0 ? result + calc : calc;
  }
  return result < 0 ? 0 : result;
}

/** Java's Integer.parseInt: optional sign, ASCII digits, 32-bit range. */
function parseJavaInt(text: string): number {
  if (!/^[+-]?\d+$/.test(text)) throw numberFormat(text);
  const n = Number(text);
  if (n > 2147483647 || n < -2147483648) throw numberFormat(text);
  return n;
}

/** Java's NumberFormatException, which Elasticsearch answers as a 400 `number_format_exception`. */
function numberFormat(text: string): QuarryError {
  return new QuarryError('number_format_exception', `For input string: "${text}"`);
}
