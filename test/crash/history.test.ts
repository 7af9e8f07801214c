/**
 * The crash-test oracle itself (history.ts): it must accept every state the durability contract allows
 * and reject every state it forbids, or the kill -9 test proves nothing. Pure, no processes.
 */
import { describe, expect, it } from 'vitest';
import { WriteHistory, type WriteRecord } from './history.js';

const doc = (n: number) => ({ id: 'x', n });
const write = (partial: Partial<WriteRecord>): WriteRecord => ({ index: 'i', id: 'x', effect: 'index', via: 'put', outcome: 'acked', ...partial });

/** A history with one shard, so seq_no checks apply to everything. */
function history(...writes: WriteRecord[]): WriteHistory {
  const h = new WriteHistory(() => 0);
  for (const w of writes) h.record(w);
  return h;
}

describe('WriteHistory.check', () => {
  it('accepts the last acknowledged write and rejects older or different states', () => {
    // Goal: the highest acked seq_no wins; an older acked state means a lost write.
    const h = history(write({ source: doc(1), seqNo: 0, version: 1 }), write({ source: doc(2), seqNo: 1, version: 2 }));
    expect(h.check('i/x', { found: true, source: doc(2), seqNo: 1, version: 2 })).toBeUndefined();
    expect(h.check('i/x', { found: true, source: doc(1), seqNo: 0, version: 1 })).toMatch(/acknowledged write lost/);
    expect(h.check('i/x', { found: true, source: doc(3), seqNo: 1, version: 2 })).toMatch(/different content/);
    expect(h.check('i/x', { found: false })).toMatch(/missing/);
  });

  it('lets an in-flight write explain a newer state, whole, but never a torn one', () => {
    // Goal: unknown writes may have happened, but only entirely and only after the last ack.
    const h = history(write({ source: doc(1), seqNo: 0, version: 1 }), write({ source: doc(2), outcome: 'unknown' }), write({ effect: 'delete', via: 'delete', outcome: 'unknown' }));
    expect(h.check('i/x', { found: true, source: doc(2), seqNo: 1, version: 2 })).toBeUndefined();
    expect(h.check('i/x', { found: false })).toBeUndefined();
    expect(h.check('i/x', { found: true, source: { id: 'x' }, seqNo: 1, version: 2 })).toMatch(/neither/);
  });

  it('checks acknowledged deletes and the baseline of earlier cycles', () => {
    // Goal: an acked delete must stay deleted; without writes this cycle, the verified baseline must hold.
    const h = history(write({ source: doc(1), seqNo: 0, version: 1 }), write({ effect: 'delete', via: 'delete', seqNo: 1, version: 2 }));
    expect(h.check('i/x', { found: false })).toBeUndefined();
    expect(h.check('i/x', { found: true, source: doc(1), seqNo: 0, version: 1 })).toMatch(/lost/);
    h.nextCycle(new Map([['i/x', { found: true, source: doc(5), seqNo: 7, version: 4 }]]));
    expect(h.check('i/x', { found: true, source: doc(5), seqNo: 7, version: 4 })).toBeUndefined();
    expect(h.check('i/x', { found: false })).toMatch(/missing/);
  });

  it('flags duplicate seq_nos, seq_no reuse after a restart, and versions that do not grow', () => {
    // Goal: the bookkeeping invariants of a shard are checked as writes are recorded.
    const h = history(write({ id: 'a', source: doc(1), seqNo: 3, version: 1 }), write({ id: 'b', source: doc(1), seqNo: 3, version: 1 }));
    expect(h.violations.join()).toMatch(/_seq_no 3 acknowledged twice/);
    h.nextCycle(new Map());
    h.record(write({ id: 'c', source: doc(1), seqNo: 2, version: 1 }));
    expect(h.violations.join()).toMatch(/reuses a number/);
    const v = history(write({ source: doc(1), seqNo: 0, version: 2 }), write({ source: doc(2), seqNo: 1, version: 2 }));
    expect(v.check('i/x', { found: true, source: doc(2), seqNo: 1, version: 2 })).toMatch(/_version did not increase/);
  });
});
