/**
 * Goal: the pure helpers the bench figures rest on are right — batching gives every engine the same
 * batch boundaries, bulk bodies are valid `_bulk` NDJSON, percentiles follow nearest-rank, ratios and
 * tables print missing figures as "–" rather than 0. Method: small hand-checked examples, plus
 * fast-check properties for batching and percentiles.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatMegabytes, formatNumber, formatRatio, formatTargetMark, ratioOf, renderTable } from './format.js';
import { bulkIndexBody, parseCorpusLine, splitNdjsonLines, toBatches } from './ndjson.js';
import { parseBenchOptions, QUICK_DOCS } from './options.js';
import { recoveryOps, replayLogLines } from './scenarios/recovery.js';
import { percentile, ratePerSecond, summarizeLatenciesMs } from './stats.js';

describe('NDJSON batching', () => {
  it('splits lines, dropping blanks and CRs', () => {
    expect(splitNdjsonLines('{"a":1}\r\n\n{"b":2}')).toEqual(['{"a":1}', '{"b":2}']);
  });

  it('cuts batches of at most batchSize that concatenate back to the input', () => {
    fc.assert(
      fc.property(fc.array(fc.integer(), { maxLength: 300 }), fc.integer({ min: 1, max: 50 }), (items, batchSize) => {
        const batches = toBatches(items, batchSize);
        expect(batches.flat()).toEqual(items);
        expect(batches.every((batch) => batch.length >= 1 && batch.length <= batchSize)).toBe(true);
        expect(batches.slice(0, -1).every((batch) => batch.length === batchSize)).toBe(true);
      }),
    );
  });

  it('rejects a batch size that is not a positive integer', () => {
    expect(() => toBatches([1], 0)).toThrow(RangeError);
    expect(() => toBatches([1], 1.5)).toThrow(RangeError);
  });

  it('builds a _bulk body: action with _id, then {title, body}, newline-terminated', () => {
    const body = bulkIndexBody([
      { id: 'a"b', title: 'T', body: 'line\nbreak' },
      { id: 'c', title: 'U', body: 'V' },
    ]);
    expect(body.endsWith('\n')).toBe(true);
    const lines = body.slice(0, -1).split('\n').map((line) => JSON.parse(line) as unknown);
    expect(lines).toEqual([{ index: { _id: 'a"b' } }, { title: 'T', body: 'line\nbreak' }, { index: { _id: 'c' } }, { title: 'U', body: 'V' }]);
  });

  it('names the line of a malformed corpus doc', () => {
    expect(parseCorpusLine('{"id":"x","title":"t","body":"b"}', 1)).toEqual({ id: 'x', title: 't', body: 'b' });
    expect(() => parseCorpusLine('{"id":1,"title":"t","body":"b"}', 7)).toThrow(/line 7/);
  });
});

describe('percentile and rates', () => {
  it('uses nearest rank', () => {
    const values = [15, 20, 35, 40, 50];
    expect(percentile(values, 5)).toBe(15);
    expect(percentile(values, 30)).toBe(20);
    expect(percentile(values, 40)).toBe(20);
    expect(percentile(values, 50)).toBe(35);
    expect(percentile(values, 100)).toBe(50);
    expect(percentile([], 50)).toBeNaN();
    expect(() => percentile(values, 0)).toThrow(RangeError);
  });

  it('returns a measured value, monotone in p', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ noNaN: true, min: 0, max: 1e6 }), { minLength: 1, maxLength: 200 }), (values) => {
        const p50 = percentile(values, 50);
        const p99 = percentile(values, 99);
        expect(values).toContain(p50);
        expect(p99).toBeGreaterThanOrEqual(p50);
        expect(percentile(values, 100)).toBe(Math.max(...values));
      }),
    );
  });

  it('summarizes latencies and computes rates', () => {
    const summary = summarizeLatenciesMs([1, 2, 3, 4, 100]);
    expect(summary).toMatchObject({ count: 5, p50Ms: 3, p99Ms: 100, maxMs: 100, meanMs: 22 });
    expect(ratePerSecond(500, 250)).toBe(2000);
    expect(ratePerSecond(1, 0)).toBeNaN();
  });
});

describe('formatting', () => {
  it('prints ratios as ours ÷ peer and missing figures as –', () => {
    expect(formatRatio(3000, 1000)).toBe('3.00×');
    expect(formatRatio(1, 3)).toBe('0.33×');
    expect(formatRatio(undefined, 3)).toBe('–');
    expect(formatRatio(3, 0)).toBe('–');
    expect(ratioOf(Number.NaN, 1)).toBeUndefined();
    expect(formatNumber(12345.678)).toBe('12,346');
    expect(formatNumber(1.5, 2)).toBe('1.50');
    expect(formatNumber(undefined)).toBe('–');
    expect(formatMegabytes(3 * 1024 * 1024)).toBe('3.0');
    expect(formatTargetMark(true)).toBe('met');
    expect(formatTargetMark(false)).toBe('NOT met');
    expect(formatTargetMark(undefined)).toBe('n/a');
  });

  it('renders a table with the name column left and numbers right-aligned', () => {
    const table = renderTable(['metric', 'A', 'B'], [
      ['docs/s', '1,000', '–'],
      ['MB', '2.5', '10.25'],
    ]);
    expect(table.split('\n')).toEqual([
      'metric      A      B',
      '------  -----  -----',
      'docs/s  1,000      –',
      'MB        2.5  10.25',
    ]);
    expect(() => renderTable(['a', 'b'], [['1']])).toThrow(RangeError);
  });
});

describe('options', () => {
  it('defaults to everything, sequential, full corpora', () => {
    const options = parseBenchOptions([]);
    expect(options.corpora).toEqual(['debian', 'scifact']);
    expect(options.scenarios).toEqual(['index', 'recovery']);
    expect(options.concurrency).toBe(1);
    expect(options.docsLimit).toBe(Number.POSITIVE_INFINITY);
    expect(options.mapping).toBe('peers');
  });

  it('parses --mapping and rejects an unknown mode', () => {
    expect(parseBenchOptions(['--mapping', 'dynamic']).mapping).toBe('dynamic');
    expect(() => parseBenchOptions(['--mapping', 'all'])).toThrow(/--mapping all/);
  });

  it('parses --quick, --corpus, --scenario, --concurrency and rejects bad values with the value', () => {
    const options = parseBenchOptions(['--quick', '--corpus', 'scifact', '--scenario', 'index', '--concurrency', '4']);
    expect(options).toMatchObject({ corpora: ['scifact'], scenarios: ['index'], concurrency: 4, docsLimit: QUICK_DOCS });
    expect(() => parseBenchOptions(['--corpus', 'wiki'])).toThrow(/wiki/);
    expect(() => parseBenchOptions(['--concurrency', '0'])).toThrow(/--concurrency 0/);
  });
});

describe('recovery helpers', () => {
  it('pads the corpus with updates of existing ids up to the op count', () => {
    const docs = [
      { id: 'a', title: 'A', body: '' },
      { id: 'b', title: 'B', body: '' },
    ];
    const { ops, uniqueIds } = recoveryOps(docs, 5);
    expect(ops.map((op) => op.id)).toEqual(['a', 'b', 'a', 'b', 'a']);
    expect(ops[4]!.title).toBe('A (revision 3)');
    expect(uniqueIds).toBe(2);
    expect(recoveryOps(docs, 1).uniqueIds).toBe(1);
  });

  it('finds replay lines and their durations in JSON or plain logs', () => {
    const log = [
      '{"level":30,"time":1700000000000,"msg":"listening"}',
      '{"level":30,"time":1700000000001,"msg":"translog replayed","ops":100000,"tookMs":1234}',
      'replayed translog in 56 ms',
      '{"level":30,"msg":"quarry node started","dataPath":"/tmp/recovery-data","startupMs":99}',
      'quarry: listening (data in /tmp/bench-recovery-data)',
    ].join('\n');
    expect(replayLogLines(log).map((entry) => entry.durationMs)).toEqual([1234, 56]);
  });
});
