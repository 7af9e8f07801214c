/**
 * minimum_should_match: the table of Elasticsearch's documentation page, the float/truncation details
 * of Queries.calculateMinShouldMatch, and the errors of specs it cannot read.
 */
import { describe, expect, it } from 'vitest';
import { QuarryError } from '../common/errors.js';
import { checkMinimumShouldMatch, resolveMinimumShouldMatch } from './minimum-should-match.js';

describe('resolveMinimumShouldMatch', () => {
  it('resolves the documented forms', () => {
    // Goal: each row is [spec, optional clauses, required clauses] as Elasticsearch's docs explain them.
    const table: Array<[string | number, number, number]> = [
      [3, 5, 3], // integer
      ['3', 5, 3],
      ['-2', 5, 3], // negative integer: all but 2
      ['75%', 4, 3], // 3.0
      ['75%', 5, 3], // 3.75 rounded down
      ['-25%', 4, 3], // 25% (1) may be missing
      ['-25%', 5, 4], // 1.25 → 1 may be missing
      ['100%', 7, 7],
      ['0%', 7, 0],
      ['3<90%', 3, 3], // up to 3: all
      ['3<90%', 4, 3], // 3.6 → 3
      ['3<90%', 10, 9],
      ['2<-25% 9<-3', 1, 1],
      ['2<-25% 9<-3', 2, 2],
      ['2<-25% 9<-3', 4, 3],
      ['2<-25% 9<-3', 8, 6],
      ['2<-25% 9<-3', 9, 7],
      ['2<-25% 9<-3', 10, 7],
      ['2 < -25%  9<-3'.replace('  ', ' '), 8, 6], // spaces around '<' are allowed
      [' 2 ', 4, 2], // trimmed
      ['5', 3, 5], // not capped: the bool then matches nothing, as in Lucene
      ['-5', 3, 0], // never negative
      ['-100%', 3, 0],
      ['33%', 3, 0], // 0.99 in float → 0
      ['50%', 100, 50], // float rounding lands on 50, not 49
    ];
    for (const [spec, count, expected] of table) {
      expect([spec, count, resolveMinimumShouldMatch(spec, count)]).toEqual([spec, count, expected]);
    }
  });

  it('refuses unreadable specs with number_format_exception', () => {
    // Goal: Java's Integer.parseInt failures keep their type and message.
    for (const [spec, input] of [['abc', 'abc'], ['75.5%', '75.5'], ['3<', ''], ['x<2', 'x'], ['', '']] as const) {
      let error: unknown;
      try {
        checkMinimumShouldMatch(spec);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(QuarryError);
      expect((error as QuarryError).type).toBe('number_format_exception');
      expect((error as QuarryError).message).toBe(`For input string: "${input}"`);
    }
  });
});
