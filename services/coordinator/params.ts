/**
 * Query parameters as Elasticsearch reads them: booleans (`''` means true), integers, time values
 * (`30s`, `100ms`), `refresh`, `_source` filtering, and the concurrency-control parameters of writes.
 */
import { QuarryError, errors } from '../../lib/common/errors.js';
import type { RefreshPolicy, WriteConditions } from '../../lib/cluster/api.js';

/** Default `timeout` of a write (Elasticsearch's 1m). */
export const WRITE_TIMEOUT_MS_DEFAULT = 60_000;

/** A boolean parameter: absent → fallback; `''`/`true` → true; `false` → false; anything else → 400. */
export function booleanParam(query: Record<string, string>, name: string, fallback: boolean): boolean {
  const value = query[name];
  if (value === undefined) return fallback;
  if (value === '' || value === 'true') return true;
  if (value === 'false') return false;
  throw errors.illegalArgument(`Failed to parse value [${value}] as only [true] or [false] are allowed.`);
}

/** An integer parameter (Elasticsearch's paramAsInt/paramAsLong messages on bad input). */
export function integerParam(query: Record<string, string>, name: string, fallback: number): number;
export function integerParam(query: Record<string, string>, name: string, fallback?: number): number | undefined;
export function integerParam(query: Record<string, string>, name: string, fallback?: number): number | undefined {
  const value = query[name];
  if (value === undefined) return fallback;
  if (!/^[+-]?\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw errors.illegalArgument(`Failed to parse int parameter [${name}] with value [${value}]`);
  }
  return Number(value);
}

const TIME_UNITS_MS: Record<string, number> = { nanos: 1e-6, micros: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses an Elasticsearch time value (`30s`, `500ms`, `1m`, `-1`) into milliseconds. */
export function parseTimeValueMs(value: string, settingName: string): number {
  if (value === '-1') return -1;
  if (value === '0') return 0;
  const match = /^(\d+(?:\.\d+)?)\s*(nanos|micros|ms|s|m|h|d)$/.exec(value.trim().toLowerCase());
  if (!match) {
    throw new QuarryError('parse_exception', `failed to parse setting [${settingName}] with value [${value}] as a time value: unit is missing or unrecognized`);
  }
  return Math.round(Number(match[1]) * TIME_UNITS_MS[match[2]]);
}

/** A time parameter in milliseconds. */
export function timeParamMs(query: Record<string, string>, name: string, fallbackMs: number): number {
  const value = query[name];
  return value === undefined ? fallbackMs : parseTimeValueMs(value, name);
}

/** `?refresh=`: absent → false; `''`/`true` → true; `wait_for`; else 400. */
export function refreshParam(query: Record<string, string>): RefreshPolicy {
  const value = query.refresh;
  if (value === undefined || value === 'false') return 'false';
  if (value === '' || value === 'true') return 'true';
  if (value === 'wait_for') return 'wait_for';
  throw errors.illegalArgument(`Unknown value for refresh: [${value}].`);
}

/** Elasticsearch's request-validation error: "Validation Failed: 1: reason;". */
export function validationError(...reasons: string[]): QuarryError {
  return new QuarryError('action_request_validation_exception', `Validation Failed: ${reasons.map((r, i) => `${i + 1}: ${r};`).join('')}`);
}

/** Raw concurrency-control values of one write (from query params or a bulk action line). */
export interface RawConditions {
  ifSeqNo?: unknown;
  ifPrimaryTerm?: unknown;
  version?: unknown;
  versionType?: unknown;
}

/**
 * Validates concurrency control as Elasticsearch 8 does and returns the conditions (or undefined).
 * `op` matters: create refuses versions, update refuses `version`.
 */
export function writeConditions(raw: RawConditions, op: 'index' | 'create' | 'update' | 'delete'): WriteConditions | undefined {
  const ifSeqNo = optionalLong(raw.ifSeqNo, 'if_seq_no');
  const ifPrimaryTerm = optionalLong(raw.ifPrimaryTerm, 'if_primary_term');
  const version = optionalLong(raw.version, 'version');
  const versionTypeRaw = raw.versionType === undefined ? undefined : String(raw.versionType);
  if (versionTypeRaw !== undefined && versionTypeRaw !== 'internal' && versionTypeRaw !== 'external' && versionTypeRaw !== 'external_gte') {
    throw errors.illegalArgument(`No version type match [${versionTypeRaw}]`);
  }
  const versionType = versionTypeRaw as WriteConditions['versionType'];
  if (ifSeqNo === undefined && ifPrimaryTerm === undefined && version === undefined && (versionType === undefined || versionType === 'internal')) {
    return undefined;
  }
  if (ifSeqNo !== undefined && ifSeqNo < 0) throw validationError(`ifSeqNo must be non negative [${ifSeqNo}]`);
  if (ifPrimaryTerm !== undefined && ifPrimaryTerm < 0) throw validationError('ifPrimaryTerm must be non negative');
  if (ifSeqNo !== undefined && (ifPrimaryTerm === undefined || ifPrimaryTerm === 0)) {
    throw validationError(`ifSeqNo is set, but primary term is [${ifPrimaryTerm ?? 0}]`);
  }
  if (ifSeqNo === undefined && ifPrimaryTerm !== undefined && ifPrimaryTerm !== 0) {
    throw validationError(`ifSeqNo is unassigned, but primary term is [${ifPrimaryTerm}]`);
  }
  if (op === 'update' && (version !== undefined || versionType !== undefined)) {
    throw validationError("can't provide version in update");
  }
  if (version !== undefined || (versionType !== undefined && versionType !== 'internal')) {
    if (ifSeqNo !== undefined) throw validationError('compare and write operations can not be used with versioning');
    if (op === 'create') throw validationError('create operations do not support explicit versions. use index instead');
    if (versionType === undefined || versionType === 'internal') {
      throw validationError('internal versioning can not be used for optimistic concurrency control. Please use `if_seq_no` and `if_primary_term` instead');
    }
    if (version === undefined || version < 0) {
      throw validationError(`illegal version value [${version ?? -3}] for version type [${versionType.toUpperCase()}]`);
    }
  }
  const conditions: WriteConditions = {};
  if (ifSeqNo !== undefined) conditions.ifSeqNo = ifSeqNo;
  if (ifPrimaryTerm !== undefined) conditions.ifPrimaryTerm = ifPrimaryTerm;
  if (version !== undefined) conditions.version = version;
  if (versionType !== undefined) conditions.versionType = versionType;
  return conditions;
}

function optionalLong(value: unknown, name: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  const number = typeof value === 'number' ? value : typeof value === 'string' && /^[+-]?\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(number)) throw errors.illegalArgument(`Failed to parse long parameter [${name}] with value [${String(value)}]`);
  return number;
}

/** `_source` fetch options: false, true, or include/exclude patterns. */
export type SourceFilter = boolean | { includes: string[]; excludes: string[] };

/** Reads `_source`, `_source_includes`, `_source_excludes` query parameters (undefined when absent). */
export function sourceParams(query: Record<string, string>): SourceFilter | undefined {
  const source = query._source;
  const includesParam = query._source_includes ?? query._source_include;
  const excludesParam = query._source_excludes ?? query._source_exclude;
  let fetch: boolean | undefined;
  let includes: string[] = [];
  if (source !== undefined) {
    if (source === 'true' || source === '') fetch = true;
    else if (source === 'false') fetch = false;
    else includes = splitList(source);
  }
  if (includesParam !== undefined) includes = splitList(includesParam);
  const excludes = excludesParam !== undefined ? splitList(excludesParam) : [];
  if (includes.length > 0 || excludes.length > 0) return { includes, excludes };
  return fetch;
}

/** Reads `_source` from a JSON body value (`true`, `false`, `"a.*"`, `["a","b"]`, `{includes, excludes}`). */
export function sourceFromJson(value: unknown, where: string): SourceFilter {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') return { includes: [value], excludes: [] };
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return { includes: value as string[], excludes: [] };
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const object = value as Record<string, unknown>;
    const list = (v: unknown, key: string): string[] => {
      if (v === undefined) return [];
      if (typeof v === 'string') return [v];
      if (Array.isArray(v) && v.every((s) => typeof s === 'string')) return v as string[];
      throw new QuarryError('parsing_exception', `[${where}] [${key}] must be a string or an array of strings`);
    };
    for (const key of Object.keys(object)) {
      if (!['includes', 'include', 'excludes', 'exclude'].includes(key)) throw new QuarryError('parsing_exception', `Unknown key for a ${'START_OBJECT'} in [${key}].`);
    }
    return { includes: list(object.includes ?? object.include, 'includes'), excludes: list(object.excludes ?? object.exclude, 'excludes') };
  }
  throw new QuarryError('parsing_exception', `Expected one of [true, false, string, array, object] for [${where}] but found [${String(value)}]`);
}

/** Splits a comma list, dropping empty entries. */
export function splitList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
