/**
 * Elasticsearch's date math (JavaDateMathParser), pure: `now`, `now-1d/d`, `2020-01-01||+1M/d`.
 *
 * An expression is an anchor (`now`, or a date followed by `||`) and then operations applied left to
 * right: `+N<unit>`, `-N<unit>` (N defaults to 1) and `/<unit>` (round down to the start of the unit).
 * Units: `y` years, `M` months, `w` weeks (Monday first), `d` days, `h`/`H` hours, `m` minutes,
 * `s` seconds. With `roundUp` (range `gt` and `lte`, as Elasticsearch does) rounding goes to the last
 * millisecond of the unit instead, and a date without math that lacks fields (`2020-01`) resolves to the
 * end of what it names.
 *
 * Dates: epoch milliseconds (digits, optional sign) and ISO 8601 / `strict_date_optional_time`
 * (`2020`, `2020-01`, `2020-01-02`, `2020-01-02T03:04`, `...:05`, `...:05.678`, with `Z` or `±hh:mm`).
 * Other `format`s are left to the shard, which knows the field's format.
 *
 * Time zones: `Z`, `UTC`, `GMT`, fixed offsets (`+01:00`, `-0530`, `+01`) and IANA names
 * (`Europe/Paris`, through `Intl`); rounding and calendar steps happen in the zone's local time, so
 * `now/d` in `Europe/Paris` is Paris midnight. Hour/minute/second steps are applied to local time too,
 * so across a DST change they may differ from Elasticsearch by the DST shift.
 */
import { QuarryError } from '../common/errors.js';

/** Options of one evaluation. */
export interface DateMathOptions {
  /** Round to the end of units (range `gt`/`lte`). Default false. */
  roundUp?: boolean;
  /** Zone for dates without an offset, for rounding and calendar steps. Default UTC. */
  timeZone?: string;
}

const MS_PER_SECOND = 1000;
const MS_PER_MINUTE = 60 * MS_PER_SECOND;
const MS_PER_HOUR = 60 * MS_PER_MINUTE;
const MS_PER_DAY = 24 * MS_PER_HOUR;

/** Local calendar fields (months 1-12). */
interface Fields {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
}

/** Evaluates a date-math expression to epoch milliseconds, with `nowMs` as `now`. */
export function parseDateMath(expression: string, nowMs: number, options: DateMathOptions = {}): number {
  const roundUp = options.roundUp ?? false;
  const zone = options.timeZone === undefined ? undefined : resolveZone(options.timeZone);
  let anchorMs: number;
  let math: string;
  if (expression.startsWith('now')) {
    anchorMs = nowMs;
    math = expression.slice(3);
  } else {
    const bar = expression.indexOf('||');
    if (bar < 0) return parseDate(expression, zone, roundUp);
    anchorMs = parseDate(expression.slice(0, bar), zone, false);
    math = expression.slice(bar + 2);
  }
  return applyMath(math, anchorMs, roundUp, zone ?? UTC);
}

/** Whether a string is date math rather than a plain date or number (has `now` or `||`). */
export function isDateMath(text: string): boolean {
  return text.startsWith('now') || text.includes('||');
}

function applyMath(math: string, anchorMs: number, roundUp: boolean, zone: Zone): number {
  let fields = zone.toLocal(anchorMs);
  let i = 0;
  while (i < math.length) {
    const c = math[i++];
    let round = false;
    let sign = 1;
    if (c === '/') round = true;
    else if (c === '-') sign = -1;
    else if (c !== '+') throw parseError(`operator not supported for date math [${math}]`);
    if (i >= math.length) throw parseError(`truncated date math [${math}]`);
    let num = 1;
    if (isDigit(math.charCodeAt(i))) {
      const from = i;
      while (i < math.length && isDigit(math.charCodeAt(i))) i++;
      if (i >= math.length) throw parseError(`truncated date math [${math}]`);
      num = Number(math.slice(from, i));
      if (num > 2147483647) throw parseError(`truncated date math [${math}]`);
    }
    if (round && num !== 1) throw parseError(`rounding \`/\` can only be used on single unit types [${math}]`);
    const unit = math[i++];
    const n = sign * num;
    switch (unit) {
      case 'y':
        fields = round ? roundTo(fields, 'y', roundUp) : addMonths(fields, 12 * n);
        break;
      case 'M':
        fields = round ? roundTo(fields, 'M', roundUp) : addMonths(fields, n);
        break;
      case 'w':
        fields = round ? roundTo(fields, 'w', roundUp) : addMs(fields, 7 * n * MS_PER_DAY);
        break;
      case 'd':
        fields = round ? roundTo(fields, 'd', roundUp) : addMs(fields, n * MS_PER_DAY);
        break;
      case 'h':
      case 'H':
        fields = round ? roundTo(fields, 'h', roundUp) : addMs(fields, n * MS_PER_HOUR);
        break;
      case 'm':
        fields = round ? roundTo(fields, 'm', roundUp) : addMs(fields, n * MS_PER_MINUTE);
        break;
      case 's':
        fields = round ? roundTo(fields, 's', roundUp) : addMs(fields, n * MS_PER_SECOND);
        break;
      default:
        throw parseError(`unit [${unit ?? ''}] not supported for date math [${math}]`);
    }
  }
  return zone.toUtc(fields);
}

/** Start of the unit, or with `roundUp` the last millisecond of it. */
function roundTo(f: Fields, unit: 'y' | 'M' | 'w' | 'd' | 'h' | 'm' | 's', roundUp: boolean): Fields {
  let start: Fields;
  let next: Fields;
  switch (unit) {
    case 'y':
      start = { ...f, month: 1, day: 1, hour: 0, minute: 0, second: 0, millisecond: 0 };
      next = addMonths(start, 12);
      break;
    case 'M':
      start = { ...f, day: 1, hour: 0, minute: 0, second: 0, millisecond: 0 };
      next = addMonths(start, 1);
      break;
    case 'w': {
      const day = { ...f, hour: 0, minute: 0, second: 0, millisecond: 0 };
      const dayOfWeek = new Date(fieldsToMs(day)).getUTCDay(); // 0 = Sunday
      start = addMs(day, -((dayOfWeek + 6) % 7) * MS_PER_DAY);
      next = addMs(start, 7 * MS_PER_DAY);
      break;
    }
    case 'd':
      start = { ...f, hour: 0, minute: 0, second: 0, millisecond: 0 };
      next = addMs(start, MS_PER_DAY);
      break;
    case 'h':
      start = { ...f, minute: 0, second: 0, millisecond: 0 };
      next = addMs(start, MS_PER_HOUR);
      break;
    case 'm':
      start = { ...f, second: 0, millisecond: 0 };
      next = addMs(start, MS_PER_MINUTE);
      break;
    case 's':
      start = { ...f, millisecond: 0 };
      next = addMs(start, MS_PER_SECOND);
      break;
  }
  return roundUp ? addMs(next, -1) : start;
}

/** Adds months the java.time way: the day is clamped to the target month's length. */
function addMonths(f: Fields, months: number): Fields {
  const index = f.year * 12 + (f.month - 1) + months;
  const year = Math.floor(index / 12);
  const month = index - year * 12 + 1;
  const day = Math.min(f.day, daysInMonth(year, month));
  return { ...f, year, month, day };
}

function addMs(f: Fields, ms: number): Fields {
  return msToFields(fieldsToMs(f) + ms);
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeap(year) ? 29 : 28;
  return [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
}

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** Fields read as if they were UTC (the "local time line"). */
function fieldsToMs(f: Fields): number {
  const d = new Date(0);
  d.setUTCFullYear(f.year, f.month - 1, f.day);
  d.setUTCHours(f.hour, f.minute, f.second, f.millisecond);
  return d.getTime();
}

function msToFields(ms: number): Fields {
  const d = new Date(ms);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    millisecond: d.getUTCMilliseconds(),
  };
}

/** A time zone: converts instants to local fields and back. */
interface Zone {
  toLocal(ms: number): Fields;
  toUtc(fields: Fields): number;
}

const UTC: Zone = { toLocal: msToFields, toUtc: fieldsToMs };

function fixedZone(offsetMs: number): Zone {
  return { toLocal: (ms) => msToFields(ms + offsetMs), toUtc: (f) => fieldsToMs(f) - offsetMs };
}

/** Parses `Z`, `UTC`, `GMT`, `±hh[:mm]`, `±hhmm` or an IANA name; unknown zones are a parse_exception. */
function resolveZone(name: string): Zone {
  const offset = parseOffsetMs(name);
  if (offset !== undefined) return offset === 0 ? UTC : fixedZone(offset);
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: name,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  } catch {
    throw new QuarryError('illegal_argument_exception', `Unknown time-zone ID: ${name}`);
  }
  const offsetAt = (ms: number): number => {
    const parts: Record<string, number> = {};
    for (const p of format.formatToParts(new Date(ms))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
    const local = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second);
    return local - (ms - (((ms % 1000) + 1000) % 1000));
  };
  return {
    toLocal: (ms) => msToFields(ms + offsetAt(ms)),
    toUtc: (f) => {
      // Two passes settle the offset except inside a DST gap, where the later offset wins (java.time too).
      const local = fieldsToMs(f);
      const first = local - offsetAt(local);
      return local - offsetAt(first);
    },
  };
}

function parseOffsetMs(name: string): number | undefined {
  if (name === 'Z' || name === 'UTC' || name === 'GMT' || name === 'UT') return 0;
  const m = /^(?:UTC|GMT)?([+-])(\d{1,2})(?::?(\d{2}))?$/.exec(name);
  if (!m) return undefined;
  const hours = Number(m[2]);
  const minutes = m[3] === undefined ? 0 : Number(m[3]);
  if (hours > 18 || minutes > 59) return undefined;
  return (m[1] === '-' ? -1 : 1) * (hours * MS_PER_HOUR + minutes * MS_PER_MINUTE);
}

const ISO_DATE = /^([+-]?\d{4,9})(?:-(\d{2})(?:-(\d{2})(?:[T ](\d{2})(?::(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?)?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/;

/*
 * Parses `epoch_millis` or `strict_date_optional_time`. Missing fields are the start of what the date
 * names, or with `roundUp` its last millisecond (`2020-01` → 2020-01-31T23:59:59.999).
 */
function parseDate(text: string, zone: Zone | undefined, roundUp: boolean): number {
  if (/^-?\d+$/.test(text) && !(text.length === 4 && !text.startsWith('-'))) {
    const n = Number(text);
    if (Number.isSafeInteger(n)) return n;
  }
  const m = ISO_DATE.exec(text);
  if (!m) throw dateError(text);
  const year = Number(m[1]);
  const month = m[2] === undefined ? undefined : Number(m[2]);
  const day = m[3] === undefined ? undefined : Number(m[3]);
  const hour = m[4] === undefined ? undefined : Number(m[4]);
  const minute = m[5] === undefined ? undefined : Number(m[5]);
  const second = m[6] === undefined ? undefined : Number(m[6]);
  const millisecond = m[7] === undefined ? undefined : Number(m[7].slice(0, 3).padEnd(3, '0'));
  if ((month !== undefined && (month < 1 || month > 12)) || (hour !== undefined && hour > 23) || (minute !== undefined && minute > 59) || (second !== undefined && second > 59)) {
    throw dateError(text);
  }
  if (day !== undefined && (day < 1 || day > daysInMonth(year, month ?? 1))) throw dateError(text);
  let fields: Fields = { year, month: month ?? 1, day: day ?? 1, hour: hour ?? 0, minute: minute ?? 0, second: second ?? 0, millisecond: millisecond ?? 0 };
  if (roundUp) {
    const unit = month === undefined ? 'y' : day === undefined ? 'M' : hour === undefined ? 'd' : minute === undefined ? 'h' : second === undefined ? 'm' : millisecond === undefined ? 's' : undefined;
    if (unit) fields = roundTo(fields, unit, true);
  }
  const explicit = m[8] === undefined ? undefined : parseOffsetMs(m[8]);
  const z = explicit !== undefined ? (explicit === 0 ? UTC : fixedZone(explicit)) : (zone ?? UTC);
  return z.toUtc(fields);
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

function parseError(reason: string): QuarryError {
  return new QuarryError('parse_exception', reason);
}

function dateError(text: string): QuarryError {
  return new QuarryError('parse_exception', `failed to parse date field [${text}] with format [strict_date_optional_time||epoch_millis]`);
}
