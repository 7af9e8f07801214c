/**
 * Date math: a table of expressions evaluated at a fixed `now` (rounding down and up, calendar steps,
 * anchors, time zones) and the parse_exception reasons of malformed expressions.
 */
import { describe, expect, it } from 'vitest';
import { QuarryError } from '../common/errors.js';
import { isDateMath, parseDateMath } from './date-math.js';

/** 2020-06-15 is a Monday. */
const NOW_MS = Date.parse('2020-06-15T13:45:30.123Z');
const iso = (ms: number): string => new Date(ms).toISOString();

describe('parseDateMath', () => {
  it('evaluates the documented forms', () => {
    // Goal: each row is [expression, roundUp, time zone, expected instant].
    const table: Array<[string, boolean, string | undefined, string]> = [
      ['now', false, undefined, '2020-06-15T13:45:30.123Z'],
      ['now-1d', false, undefined, '2020-06-14T13:45:30.123Z'],
      ['now+1h', false, undefined, '2020-06-15T14:45:30.123Z'],
      ['now-90m', false, undefined, '2020-06-15T12:15:30.123Z'],
      ['now+30s', false, undefined, '2020-06-15T13:46:00.123Z'],
      ['now+2w', false, undefined, '2020-06-29T13:45:30.123Z'],
      ['now-1y', false, undefined, '2019-06-15T13:45:30.123Z'],
      ['now+M', false, undefined, '2020-07-15T13:45:30.123Z'], // N defaults to 1
      ['now/d', false, undefined, '2020-06-15T00:00:00.000Z'],
      ['now/d', true, undefined, '2020-06-15T23:59:59.999Z'],
      ['now-1d/d', false, undefined, '2020-06-14T00:00:00.000Z'],
      ['now/w', false, undefined, '2020-06-15T00:00:00.000Z'],
      ['now/w', true, undefined, '2020-06-21T23:59:59.999Z'],
      ['now-2d/w', false, undefined, '2020-06-08T00:00:00.000Z'],
      ['now/M', false, undefined, '2020-06-01T00:00:00.000Z'],
      ['now/M', true, undefined, '2020-06-30T23:59:59.999Z'],
      ['now/y', false, undefined, '2020-01-01T00:00:00.000Z'],
      ['now/y', true, undefined, '2020-12-31T23:59:59.999Z'],
      ['now/h', false, undefined, '2020-06-15T13:00:00.000Z'],
      ['now/H', true, undefined, '2020-06-15T13:59:59.999Z'],
      ['now/m', false, undefined, '2020-06-15T13:45:00.000Z'],
      ['now/s', false, undefined, '2020-06-15T13:45:30.000Z'],
      ['now+1M/M-1d', false, undefined, '2020-06-30T00:00:00.000Z'],
      ['2020-01-01||+1M/d', false, undefined, '2020-02-01T00:00:00.000Z'],
      ['2020-01-31||+1M', false, undefined, '2020-02-29T00:00:00.000Z'], // day clamped, leap year
      ['2019-01-31||+1M', false, undefined, '2019-02-28T00:00:00.000Z'],
      ['2020-03-10T10:00:00Z||-1y/M', false, undefined, '2019-03-01T00:00:00.000Z'],
      ['2020-01-02T03:04:05.678+01:00', false, undefined, '2020-01-02T02:04:05.678Z'],
      ['2020-01-02', false, undefined, '2020-01-02T00:00:00.000Z'],
      ['2020-01', true, undefined, '2020-01-31T23:59:59.999Z'], // lte rounds a partial date up
      ['2020', false, undefined, '2020-01-01T00:00:00.000Z'],
      ['1577836800000', false, undefined, '2020-01-01T00:00:00.000Z'], // epoch_millis
      ['now/d', false, '+02:00', '2020-06-14T22:00:00.000Z'], // Paris-summer midnight
      ['now/d', false, 'Europe/Paris', '2020-06-14T22:00:00.000Z'],
      ['now/d', false, '-0500', '2020-06-15T05:00:00.000Z'],
      ['2020-01-02', false, '+01:00', '2020-01-01T23:00:00.000Z'], // the zone applies to zoneless dates
      ['2020-01-02T00:00:00Z', false, '+01:00', '2020-01-02T00:00:00.000Z'], // an explicit offset wins
      ['2020-01-15||/M', false, 'America/New_York', '2020-01-01T05:00:00.000Z'],
    ];
    for (const [expression, roundUp, timeZone, expected] of table) {
      const options = timeZone === undefined ? { roundUp } : { roundUp, timeZone };
      expect([expression, roundUp, timeZone, iso(parseDateMath(expression, NOW_MS, options))]).toEqual([expression, roundUp, timeZone, expected]);
    }
  });

  it('refuses malformed expressions with Elasticsearch’s parse_exception reasons', () => {
    // Goal: type and reason of each failure, as JavaDateMathParser words them.
    const table: Array<[string, string, string]> = [
      ['now+', 'parse_exception', 'truncated date math [+]'],
      ['now-1', 'parse_exception', 'truncated date math [-1]'],
      ['now*1d', 'parse_exception', 'operator not supported for date math [*1d]'],
      ['now/2d', 'parse_exception', 'rounding `/` can only be used on single unit types [/2d]'],
      ['now+1x', 'parse_exception', 'unit [x] not supported for date math [+1x]'],
      ['2020-13-01||+1d', 'parse_exception', 'failed to parse date field [2020-13-01] with format [strict_date_optional_time||epoch_millis]'],
      ['yesterday', 'parse_exception', 'failed to parse date field [yesterday] with format [strict_date_optional_time||epoch_millis]'],
    ];
    for (const [expression, type, reason] of table) {
      let error: unknown;
      try {
        parseDateMath(expression, NOW_MS);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(QuarryError);
      expect([expression, (error as QuarryError).type, (error as QuarryError).message]).toEqual([expression, type, reason]);
    }
    let zoneError: unknown;
    try {
      parseDateMath('now/d', NOW_MS, { timeZone: 'Mars/Olympus' });
    } catch (e) {
      zoneError = e;
    }
    expect((zoneError as QuarryError).type).toBe('illegal_argument_exception');
    expect((zoneError as QuarryError).message).toBe('Unknown time-zone ID: Mars/Olympus');
  });

  it('tells date math from plain values', () => {
    // Goal: the shard can decide whether a range bound needs date math.
    expect(isDateMath('now-1d')).toBe(true);
    expect(isDateMath('2020-01-01||+1d')).toBe(true);
    expect(isDateMath('2020-01-01')).toBe(false);
  });
});
