/**
 * Index settings: parsing Elasticsearch's three spellings (nested `{index:{...}}`, flat
 * `"index.x"`, bare `{x}`) into one flat map, validating the settings we know, and resolving them
 * into `IndexSettings` with every default filled in.
 */
import type { IndexSettings } from '../../lib/cluster/api.js';
import { QuarryError, errors } from '../../lib/common/errors.js';
import {
  MAX_RESULT_WINDOW,
  NUMBER_OF_SHARDS_DEFAULT,
  NUMBER_OF_SHARDS_MAX,
  REFRESH_INTERVAL_MS_DEFAULT,
  TRANSLOG_SYNC_INTERVAL_MS_DEFAULT,
} from '../../lib/common/limits.js';

/** Settings a user may give at index creation (flat names without the `index.` prefix). Prefixes end in '.'. */
const KNOWN_SETTINGS = [
  'number_of_shards',
  'number_of_replicas',
  'refresh_interval',
  'translog.durability',
  'translog.sync_interval',
  'translog.flush_threshold_size',
  'search.idle.after',
  'max_result_window',
  'codec',
  'auto_expand_replicas',
  'unassigned.node_left.delayed_timeout',
  'number_of_routing_shards',
  'hidden',
  'analysis.',
  'similarity.',
  'blocks.',
  'routing.',
  'mapping.',
  'merge.',
  'query.',
  'max_inner_result_window',
  'highlight.',
  'sort.',
  'priority',
];

/** Flattens a settings object into `index.*` keys with string values, as Elasticsearch stores them. */
export function flattenSettings(settings: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (obj: Record<string, unknown>, prefix: string) => {
    for (const [key, value] of Object.entries(obj)) {
      const path = prefix ? `${prefix}.${key}` : key;
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) walk(value as Record<string, unknown>, path);
      else if (Array.isArray(value)) out[path] = JSON.stringify(value);
      else out[path] = String(value);
    }
  };
  if (settings) walk(settings, '');
  const normalised: Record<string, string> = {};
  for (const [key, value] of Object.entries(out)) normalised[key.startsWith('index.') ? key : `index.${key}`] = value;
  return normalised;
}

/** Parses an Elasticsearch time value ("1s", "500ms", "2m", "-1") into ms; -1 stays -1. */
export function parseTimeValueMs(value: string, settingName: string): number {
  const v = value.trim();
  if (v === '-1') return -1;
  if (v === '0') return 0;
  const m = /^(\d+(?:\.\d+)?)\s*(nanos|micros|ms|s|m|h|d)$/.exec(v);
  if (!m) {
    throw errors.illegalArgument(`failed to parse setting [${settingName}] with value [${value}] as a time value: unit is missing or unrecognized`);
  }
  const n = Number(m[1]);
  const unitMs: Record<string, number> = { nanos: 1e-6, micros: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  return n * unitMs[m[2]];
}

function parseIntSetting(raw: Record<string, string>, key: string, def: number, min: number, max: number): number {
  const value = raw[key];
  if (value === undefined) return def;
  if (!/^-?\d+$/.test(value)) throw errors.illegalArgument(`Failed to parse value [${value}] for setting [${key}]`);
  const n = Number(value);
  if (n < min) throw errors.illegalArgument(`Failed to parse value [${value}] for setting [${key}] must be >= ${min}`);
  if (n > max) throw errors.illegalArgument(`Failed to parse value [${value}] for setting [${key}] must be <= ${max}`);
  return n;
}

/** Validates flat settings and resolves them with defaults. Unknown settings are rejected as Elasticsearch does. */
export function resolveSettings(raw: Record<string, string>): IndexSettings {
  for (const key of Object.keys(raw)) {
    const name = key.slice('index.'.length);
    const known = KNOWN_SETTINGS.some((k) => (k.endsWith('.') ? name.startsWith(k) : name === k));
    if (!known && !['index.uuid', 'index.creation_date', 'index.provided_name', 'index.version.created'].includes(key)) {
      throw errors.illegalArgument(`unknown setting [${key}] please check that any required plugins are installed, or check the breaking changes documentation for removed settings`);
    }
  }
  const durability = raw['index.translog.durability'] ?? 'request';
  if (durability !== 'request' && durability !== 'async') {
    throw errors.illegalArgument(`No enum constant org.elasticsearch.index.translog.Translog.Durability.${durability.toUpperCase()}`);
  }
  const realtime = raw['index.search.realtime'] ?? 'false';
  if (realtime !== 'true' && realtime !== 'false') {
    throw errors.illegalArgument(`Failed to parse value [${realtime}] as only [true] or [false] are allowed.`);
  }
  const refreshIntervalMs = raw['index.refresh_interval'] !== undefined ? parseTimeValueMs(raw['index.refresh_interval'], 'index.refresh_interval') : REFRESH_INTERVAL_MS_DEFAULT;
  const syncIntervalMs = raw['index.translog.sync_interval'] !== undefined ? parseTimeValueMs(raw['index.translog.sync_interval'], 'index.translog.sync_interval') : TRANSLOG_SYNC_INTERVAL_MS_DEFAULT;
  if (syncIntervalMs < 100) {
    throw errors.illegalArgument(`failed to parse value [${raw['index.translog.sync_interval']}] for setting [index.translog.sync_interval], must be >= [100ms]`);
  }
  return {
    numberOfShards: parseIntSetting(raw, 'index.number_of_shards', NUMBER_OF_SHARDS_DEFAULT, 1, NUMBER_OF_SHARDS_MAX),
    numberOfReplicas: parseIntSetting(raw, 'index.number_of_replicas', 1, 0, 1000),
    refreshIntervalMs,
    translogDurability: durability,
    translogSyncIntervalMs: syncIntervalMs,
    searchRealtime: realtime === 'true',
    maxResultWindow: parseIntSetting(raw, 'index.max_result_window', MAX_RESULT_WINDOW, 1, 2 ** 31 - 1),
    raw,
  };
}

/** A QuarryError for an invalid settings object shape. */
export function settingsShapeError(): QuarryError {
  return new QuarryError('illegal_argument_exception', 'settings must be an object');
}
