import { readdir } from 'node:fs/promises';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { QuarryError } from '../common/errors.js';
import { FaultInjectingFileSystem } from './faulty-fs.js';
import { indexOp, normalize, readAll, tempDirs } from './test-support.js';
import { TRANSLOG_DEFAULTS, Translog, generationFileName } from './translog.js';
import type { TranslogOp } from './types.js';

const dirs = tempDirs();
afterEach(() => dirs.cleanup());

/** Polls `condition` until it holds or `deadlineMs` passes. */
async function pollUntil(condition: () => boolean, deadlineMs: number): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error('condition not met before the deadline');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

const opArbitrary: fc.Arbitrary<Omit<TranslogOp, 'seqNo'>> = fc.oneof(
  fc.record(
    {
      type: fc.constant('index' as const),
      id: fc.string({ unit: 'binary', maxLength: 40 }),
      primaryTerm: fc.integer({ min: 1, max: 2 ** 40 }),
      version: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
      source: fc.uint8Array({ maxLength: 3000 }),
      routing: fc.string({ unit: 'grapheme', maxLength: 10 }),
    },
    { requiredKeys: ['type', 'id', 'primaryTerm', 'version', 'source'] },
  ),
  fc.record({
    type: fc.constant('delete' as const),
    id: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }),
    primaryTerm: fc.integer({ min: 1, max: 5 }),
    version: fc.integer({ min: 1, max: 1000 }),
  }),
  fc.record({
    type: fc.constant('noop' as const),
    id: fc.constant(''),
    primaryTerm: fc.integer({ min: 1, max: 5 }),
    version: fc.constant(1),
    reason: fc.string({ maxLength: 30 }),
  }),
);

type Step = { kind: 'add'; ops: Omit<TranslogOp, 'seqNo'>[] } | { kind: 'sync' } | { kind: 'roll' } | { kind: 'reopen' };

const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: fc.array(opArbitrary, { minLength: 1, maxLength: 8 }).map((ops) => ({ kind: 'add' as const, ops })) },
  { weight: 2, arbitrary: fc.constant({ kind: 'sync' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'roll' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reopen' as const }) },
);

describe('Translog', () => {
  it('round-trips random ops across random syncs, rolls and reopens', async () => {
    // Goal: whatever mix of op shapes (binary sources, unicode ids, deletes, noops) and whatever order of
    // sync/roll/close+reopen, readOps returns exactly the added ops in order. Generations are small so
    // automatic rolls happen too.
    await fc.assert(
      fc.asyncProperty(fc.array(stepArbitrary, { minLength: 1, maxLength: 25 }), async (steps) => {
        const dir = await dirs.make();
        let translog = await Translog.open(dir, { generationThresholdBytes: 4096 });
        const added: TranslogOp[] = [];
        try {
          for (const step of steps) {
            if (step.kind === 'add') {
              for (const op of step.ops) {
                const full = { ...op, seqNo: added.length } as TranslogOp;
                translog.add(full);
                added.push(full);
              }
            } else if (step.kind === 'sync') {
              await translog.sync();
              expect(translog.lastSyncedSeqNo).toBe(added.length - 1);
            } else if (step.kind === 'roll') {
              const before = translog.currentGeneration;
              expect(await translog.rollGeneration()).toBe(before + 1);
            } else {
              await translog.close();
              translog = await Translog.open(dir, { generationThresholdBytes: 4096 });
              expect(translog.lastSyncedSeqNo).toBe(added.length - 1);
            }
          }
          expect(await readAll(translog)).toEqual(added.map(normalize));
          await translog.close();
          translog = await Translog.open(dir);
          expect(await readAll(translog)).toEqual(added.map(normalize));
          expect(translog.stats().operations).toBe(added.length);
        } finally {
          await translog.close();
        }
      }),
      { numRuns: 40 },
    );
  });

  it('returns locations that advance by record size within a generation', async () => {
    // Goal: locations name the generation and byte offset of each record, contiguous in the file.
    const translog = await Translog.open(await dirs.make());
    const first = translog.add(indexOp(0));
    const second = translog.add(indexOp(1));
    expect(second.generation).toBe(first.generation);
    expect(second.offset).toBe(first.offset + first.sizeBytes);
    await translog.rollGeneration();
    const third = translog.add(indexOp(2));
    expect(third.generation).toBe(first.generation + 1);
    expect(third.offset).toBe(first.offset); // right after the header
    await translog.close();
  });

  it('shares one fsync among concurrent sync callers (group commit)', async () => {
    // Goal: 50 callers syncing at once after adds cost at most two rounds (one in flight, one for
    // everyone who arrived during it), counted as data-file fdatasyncs through the file layer.
    const fs = new FaultInjectingFileSystem();
    const translog = await Translog.open(await dirs.make(), {}, fs);
    const before = fs.counts.datasync;
    const waits: Promise<void>[] = [];
    for (let i = 0; i < 50; i++) {
      translog.add(indexOp(i));
      waits.push(translog.sync());
    }
    await Promise.all(waits);
    // Each round is one data fdatasync plus one checkpoint fdatasync.
    expect(fs.counts.datasync - before).toBeLessThanOrEqual(4);
    expect(translog.lastSyncedSeqNo).toBe(49);
    // Nothing new: no fsync at all.
    const settled = fs.counts.datasync;
    await translog.sync();
    expect(fs.counts.datasync).toBe(settled);
    await translog.close();
  });

  it('makes a sync called during an fsync wait for the next round', async () => {
    // Goal: an op added while a round is in flight is not reported durable by that round.
    const translog = await Translog.open(await dirs.make());
    translog.add(indexOp(0));
    const first = translog.sync();
    translog.add(indexOp(1));
    const second = translog.sync();
    await first;
    // The first round captured only op 0 (op 1 was added after it was queued but before it ran, so it
    // may be included); the second must cover op 1 either way.
    await second;
    expect(translog.lastSyncedSeqNo).toBe(1);
    await translog.close();
  });

  it('persists the global checkpoint with a sync even without new ops', async () => {
    // Goal: setGlobalCheckpoint alone makes sync write a checkpoint, and reopen restores it.
    const dir = await dirs.make();
    let translog = await Translog.open(dir);
    expect(translog.globalCheckpoint).toBe(-1);
    translog.add(indexOp(0));
    await translog.sync();
    translog.setGlobalCheckpoint(0);
    await translog.sync();
    await translog.close();
    translog = await Translog.open(dir);
    expect(translog.globalCheckpoint).toBe(0);
    await translog.close();
  });

  it('rolls automatically past the generation threshold', async () => {
    // Goal: a sync that leaves the generation over generationThresholdBytes causes a roll; ops stay readable.
    const dir = await dirs.make();
    const translog = await Translog.open(dir, { generationThresholdBytes: 2048 });
    for (let i = 0; i < 40; i++) translog.add(indexOp(i, 100));
    await translog.sync();
    await pollUntil(() => translog.currentGeneration > 1, 5000);
    translog.add(indexOp(40));
    await translog.sync();
    expect((await readAll(translog)).map((op) => op.seqNo)).toEqual([...Array(41).keys()]);
    await translog.close();
  });

  it('trims generations below a bound, survives reopen, and filters readOps by seqNo', async () => {
    // Goal: trimBelow deletes the older files and records the minimum; readOps(from) skips lower seqNos.
    const dir = await dirs.make();
    let translog = await Translog.open(dir);
    for (let i = 0; i < 30; i++) {
      translog.add(indexOp(i));
      if (i % 10 === 9) await translog.rollGeneration(); // generations 1, 2, 3 hold 10 ops each
    }
    await translog.sync();
    expect(translog.currentGeneration).toBe(4);
    await translog.trimBelow(3);
    const files = (await readdir(dir)).filter((n) => n.endsWith('.tlog')).sort();
    expect(files).toEqual([generationFileName(3), generationFileName(4)]);
    expect(translog.stats().minGeneration).toBe(3);
    expect((await readAll(translog)).map((op) => op.seqNo)).toEqual([...Array(10).keys()].map((i) => i + 20));
    await translog.close();
    translog = await Translog.open(dir);
    expect(translog.minGeneration).toBe(3);
    expect(translog.stats().operations).toBe(10);
    expect((await readAll(translog, 25)).map((op) => op.seqNo)).toEqual([25, 26, 27, 28, 29]);
    await expect(translog.trimBelow(9)).rejects.toMatchObject({ type: 'illegal_argument_exception' });
    await translog.close();
  });

  it('includes ops that were added but not synced in readOps', async () => {
    // Goal: readOps writes the buffer first, so a reader sees every op added so far.
    const translog = await Translog.open(await dirs.make());
    translog.add(indexOp(0));
    await translog.sync();
    translog.add(indexOp(1));
    expect((await readAll(translog)).map((op) => op.seqNo)).toEqual([0, 1]);
    expect(translog.lastSyncedSeqNo).toBe(0);
    await translog.close();
  });

  it('syncs in the background with async durability', async () => {
    // Goal: with durability async, added ops become durable without anyone calling sync.
    const translog = await Translog.open(await dirs.make(), { durability: 'async', syncIntervalMs: 20 });
    translog.add(indexOp(0));
    expect(translog.lastSyncedSeqNo).toBe(-1);
    await pollUntil(() => translog.lastSyncedSeqNo === 0, 5000);
    await translog.close();
  });

  it('rejects bad options with the value in the message', async () => {
    // Goal: options are validated at open, as illegal_argument_exception.
    const dir = await dirs.make();
    await expect(Translog.open(dir, { syncIntervalMs: 0 })).rejects.toMatchObject({ type: 'illegal_argument_exception' });
    await expect(Translog.open(dir, { generationThresholdBytes: 10 })).rejects.toThrow(/\[10\]/);
    expect(TRANSLOG_DEFAULTS).toEqual({ durability: 'request', syncIntervalMs: 5000, generationThresholdBytes: 64 * 1024 * 1024 });
  });

  it('keeps its uuid across reopen and refuses a different expected uuid', async () => {
    // Goal: the uuid given at creation is the translog's identity; opening with another one fails loudly.
    const dir = await dirs.make();
    let translog = await Translog.open(dir, { translogUuid: 'abc-123' });
    expect(translog.uuid).toBe('abc-123');
    await translog.close();
    translog = await Translog.open(dir);
    expect(translog.uuid).toBe('abc-123');
    await translog.close();
    await expect(Translog.open(dir, { translogUuid: 'other' })).rejects.toMatchObject({ type: 'translog_corrupted_exception' });
  });

  it('refuses adds after close', async () => {
    // Goal: a closed translog throws a QuarryError on add and rejects sync of new work.
    const translog = await Translog.open(await dirs.make());
    translog.add(indexOp(0));
    await translog.close();
    expect(translog.lastSyncedSeqNo).toBe(0);
    expect(() => translog.add(indexOp(1))).toThrow(QuarryError);
  });

  it('rejects a malformed op before it can poison the log', async () => {
    // Goal: an op the reader could not decode (a bug upstream) throws at add and leaves the translog usable.
    const dir = await dirs.make();
    const translog = await Translog.open(dir);
    expect(() => translog.add({ ...indexOp(0), id: undefined as unknown as string })).toThrow(/assertion failed/);
    translog.add(indexOp(0));
    await translog.close();
    const reopened = await Translog.open(dir);
    expect((await readAll(reopened)).map((op) => op.seqNo)).toEqual([0]);
    await reopened.close();
  });

  it('reports stats over all retained generations', async () => {
    // Goal: stats count ops and bytes of every retained generation, including the buffer.
    const translog = await Translog.open(await dirs.make());
    for (let i = 0; i < 5; i++) translog.add(indexOp(i));
    await translog.rollGeneration();
    for (let i = 5; i < 8; i++) translog.add(indexOp(i));
    const stats = translog.stats();
    expect(stats.operations).toBe(8);
    expect(stats.generation).toBe(2);
    expect(stats.minGeneration).toBe(1);
    expect(stats.lastSyncedSeqNo).toBe(4);
    expect(stats.sizeBytes).toBeGreaterThan(8 * 64);
    expect(stats.earliestLastModifiedAgeMs).toBeGreaterThanOrEqual(0);
    await translog.close();
  });
});
