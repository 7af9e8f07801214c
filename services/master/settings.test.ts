// Goal: index settings accept Elasticsearch's three spellings and reject bad values with its messages.
import { describe, expect, it } from 'vitest';
import { flattenSettings, parseTimeValueMs, resolveSettings } from './settings.js';

describe('index settings', () => {
  it('flattens nested, flat and bare spellings to index.* keys', () => {
    expect(flattenSettings({ index: { number_of_shards: 3 } })).toEqual({ 'index.number_of_shards': '3' });
    expect(flattenSettings({ 'index.number_of_shards': 3 })).toEqual({ 'index.number_of_shards': '3' });
    expect(flattenSettings({ number_of_shards: 3, translog: { durability: 'async' } })).toEqual({
      'index.number_of_shards': '3',
      'index.translog.durability': 'async',
    });
  });

  it('resolves defaults and parses values', () => {
    const s = resolveSettings(flattenSettings({ refresh_interval: '-1', number_of_replicas: 0 }));
    expect(s).toMatchObject({ numberOfShards: 1, numberOfReplicas: 0, refreshIntervalMs: -1, translogDurability: 'request', maxResultWindow: 10000 });
    expect(parseTimeValueMs('500ms', 'x')).toBe(500);
    expect(parseTimeValueMs('2m', 'x')).toBe(120_000);
  });

  it('rejects unknown settings, bad numbers and time values without a unit', () => {
    expect(() => resolveSettings(flattenSettings({ foo: 1 }))).toThrow(/unknown setting \[index.foo\]/);
    expect(() => resolveSettings(flattenSettings({ number_of_shards: 0 }))).toThrow(/must be >= 1/);
    expect(() => resolveSettings(flattenSettings({ number_of_shards: 'x' }))).toThrow(/Failed to parse value \[x\]/);
    expect(() => resolveSettings(flattenSettings({ refresh_interval: '1' }))).toThrow(/unit is missing or unrecognized/);
    expect(() => resolveSettings(flattenSettings({ translog: { durability: 'never' } }))).toThrow(/Durability/);
  });
});
