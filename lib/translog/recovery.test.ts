import { copyFile, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { FaultInjectingFileSystem, ioError } from './faulty-fs.js';
import { CHECKPOINT_SLOT_BYTES, CHECKPOINT_SLOT_STRIDE_BYTES, GENERATION_HEADER_BYTES, decodeCheckpoint } from './format.js';
import { indexOp, normalize, readAll, tempDirs } from './test-support.js';
import { CHECKPOINT_FILE_NAME, Translog, TranslogCorruptedError, TranslogFailedError, generationFileName } from './translog.js';
import type { TranslogLocation, TranslogOp } from './types.js';

const dirs = tempDirs();
afterEach(() => dirs.cleanup());

const GEN1 = generationFileName(1);

/** A translog whose checkpoint covers `covered` ops, followed by `tail` more ops written and synced but not checkpointed. */
async function buildWithUncheckpointedTail(covered: number, tail: number, sourceBytes = 40) {
  const dir = await dirs.make();
  const translog = await Translog.open(dir);
  const ops: TranslogOp[] = [];
  const locations: TranslogLocation[] = [];
  for (let i = 0; i < covered; i++) {
    ops.push(indexOp(i, sourceBytes));
    locations.push(translog.add(ops[i]));
  }
  await translog.sync();
  const oldCheckpoint = await readFile(join(dir, CHECKPOINT_FILE_NAME));
  const coveredEnd = translog.stats().sizeBytes;
  for (let i = covered; i < covered + tail; i++) {
    ops.push(indexOp(i, sourceBytes));
    locations.push(translog.add(ops[i]));
  }
  await translog.close();
  const tlog = await readFile(join(dir, GEN1));
  return { ops, locations, oldCheckpoint, coveredEnd, tlog };
}

/** Writes a translog dir from raw file contents. */
async function materialize(files: Record<string, Uint8Array>): Promise<string> {
  const dir = await dirs.make();
  for (const [name, bytes] of Object.entries(files)) await writeFile(join(dir, name), bytes);
  return dir;
}

/** A small deterministic PRNG so failures replay (the seed is printed on failure by the assertion text). */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('Translog recovery', () => {
  it('keeps complete records and drops the rest when the uncheckpointed tail is cut at any byte', async () => {
    // Goal: for every cut offset between the checkpoint and the end of the file, reopen keeps exactly
    // the records wholly before the cut (they may have been synced without a checkpoint update), drops
    // the torn one, and accepts new adds that survive another reopen.
    const { ops, locations, oldCheckpoint, coveredEnd, tlog } = await buildWithUncheckpointedTail(4, 3);
    expect(tlog.length).toBeGreaterThan(coveredEnd);
    for (let cut = coveredEnd; cut <= tlog.length; cut++) {
      const dir = await materialize({ [GEN1]: tlog.subarray(0, cut), [CHECKPOINT_FILE_NAME]: oldCheckpoint });
      let translog = await Translog.open(dir);
      const kept = ops.filter((_, i) => locations[i].offset + locations[i].sizeBytes <= cut);
      expect(await readAll(translog), `cut at ${cut}`).toEqual(kept.map(normalize));
      expect(translog.lastSyncedSeqNo).toBe(kept.length - 1);
      const next = indexOp(kept.length, 10);
      translog.add(next);
      await translog.sync();
      await translog.close();
      translog = await Translog.open(dir);
      expect(await readAll(translog), `reopen after cut at ${cut}`).toEqual([...kept, next].map(normalize));
      await translog.close();
    }
  });

  it('fails loudly on any single bit flip in the checkpointed region', async () => {
    // Goal: a flipped bit anywhere the checkpoint covers (header or records) makes open throw
    // TranslogCorruptedError naming the file; no op is silently dropped. 300 seeded random positions.
    // Every op is covered: close syncs and checkpoints.
    const dir = await dirs.make();
    const translog = await Translog.open(dir);
    for (let i = 0; i < 6; i++) translog.add(indexOp(i, 40));
    await translog.close();
    const tlog = await readFile(join(dir, GEN1));
    const ckp = await readFile(join(dir, CHECKPOINT_FILE_NAME));
    const seed = 0x5eed;
    const random = prng(seed);
    for (let trial = 0; trial < 300; trial++) {
      const bit = Math.floor(random() * tlog.length * 8);
      const flipped = Buffer.from(tlog);
      flipped[bit >> 3] ^= 1 << (bit & 7);
      const broken = await materialize({ [GEN1]: flipped, [CHECKPOINT_FILE_NAME]: ckp });
      const error = await Translog.open(broken).then(
        async (t) => {
          await t.close();
          return null;
        },
        (err: unknown) => err,
      );
      expect(error, `seed ${seed} trial ${trial} bit ${bit}`).toBeInstanceOf(TranslogCorruptedError);
      expect((error as TranslogCorruptedError).type).toBe('translog_corrupted_exception');
      expect((error as TranslogCorruptedError).message).toContain(GEN1);
    }
  });

  it('drops the flipped record and everything after it when the flip is past the checkpoint', async () => {
    // Goal: past the checkpoint nothing was acknowledged, so a corrupt record ends the log there:
    // earlier records are kept, it and later ones are dropped (even though later ones are valid).
    const { ops, locations, oldCheckpoint, coveredEnd, tlog } = await buildWithUncheckpointedTail(3, 4);
    const random = prng(42);
    for (let trial = 0; trial < 60; trial++) {
      const bit = coveredEnd * 8 + Math.floor(random() * (tlog.length - coveredEnd) * 8);
      const flipped = Buffer.from(tlog);
      flipped[bit >> 3] ^= 1 << (bit & 7);
      const dir = await materialize({ [GEN1]: flipped, [CHECKPOINT_FILE_NAME]: oldCheckpoint });
      const translog = await Translog.open(dir);
      const hit = locations.findIndex((l) => l.offset <= bit >> 3 && bit >> 3 < l.offset + l.sizeBytes);
      expect(await readAll(translog), `trial ${trial} bit ${bit}`).toEqual(ops.slice(0, hit).map(normalize));
      await translog.close();
      expect((await readFile(join(dir, GEN1))).length).toBe(locations[hit].offset);
    }
  });

  it('fails loudly when a rolled generation is damaged or missing', async () => {
    // Goal: older generations were synced and sealed at the roll, so any damage there is corruption.
    const dir = await dirs.make();
    const translog = await Translog.open(dir);
    for (let i = 0; i < 5; i++) translog.add(indexOp(i));
    await translog.rollGeneration();
    translog.add(indexOp(5));
    await translog.close();
    const gen1 = await readFile(join(dir, GEN1));
    const ckp = await readFile(join(dir, CHECKPOINT_FILE_NAME));
    const gen2 = await readFile(join(dir, generationFileName(2)));
    // Cut the seal off: the file still parses, but it no longer proves it is complete.
    const cut = await materialize({ [GEN1]: gen1.subarray(0, gen1.length - 10), [generationFileName(2)]: gen2, [CHECKPOINT_FILE_NAME]: ckp });
    await expect(Translog.open(cut)).rejects.toBeInstanceOf(TranslogCorruptedError);
    const flipped = Buffer.from(gen1);
    flipped[GENERATION_HEADER_BYTES + 10] ^= 4;
    const flip = await materialize({ [GEN1]: flipped, [generationFileName(2)]: gen2, [CHECKPOINT_FILE_NAME]: ckp });
    await expect(Translog.open(flip)).rejects.toThrow(/translog-1\.tlog\] generation \[1\] is corrupted at offset \[85\]/);
    const missing = await materialize({ [generationFileName(2)]: gen2, [CHECKPOINT_FILE_NAME]: ckp });
    await expect(Translog.open(missing)).rejects.toThrow(/missing/);
  });

  it('uses the other checkpoint slot when the newest one is torn', async () => {
    // Goal: garbage in the newest slot falls back to the older slot (and the valid tail past it is
    // kept); garbage in both slots fails loudly.
    const dir = await dirs.make();
    const translog = await Translog.open(dir);
    for (let i = 0; i < 6; i++) {
      translog.add(indexOp(i));
      await translog.sync();
    }
    await translog.close();
    const ckp = Buffer.from(await readFile(join(dir, CHECKPOINT_FILE_NAME)));
    const slots = [0, 1].map((s) => decodeCheckpoint(ckp.subarray(s * CHECKPOINT_SLOT_STRIDE_BYTES, s * CHECKPOINT_SLOT_STRIDE_BYTES + CHECKPOINT_SLOT_BYTES))!);
    const newest = slots[0].sequence > slots[1].sequence ? 0 : 1;
    expect(slots[newest].numOps).toBe(6);
    expect(slots[1 - newest].numOps).toBe(5);
    const torn = Buffer.from(ckp);
    torn.fill(0xa5, newest * CHECKPOINT_SLOT_STRIDE_BYTES + 20, newest * CHECKPOINT_SLOT_STRIDE_BYTES + 60);
    await writeFile(join(dir, CHECKPOINT_FILE_NAME), torn);
    const reopened = await Translog.open(dir);
    expect((await readAll(reopened)).length).toBe(6);
    await reopened.close();
    const both = Buffer.from(torn);
    both.fill(0xa5, 0, CHECKPOINT_SLOT_BYTES);
    both.fill(0xa5, CHECKPOINT_SLOT_STRIDE_BYTES, CHECKPOINT_SLOT_STRIDE_BYTES + CHECKPOINT_SLOT_BYTES);
    await writeFile(join(dir, CHECKPOINT_FILE_NAME), both);
    await expect(Translog.open(dir)).rejects.toThrow(/neither checkpoint slot is valid/);
  });

  it('refuses to start over when the checkpoint file is gone but generation files exist', async () => {
    // Goal: a missing checkpoint is corruption, never a reason to create an empty translog over old ops.
    const dir = await dirs.make();
    const translog = await Translog.open(dir);
    translog.add(indexOp(0));
    await translog.close();
    const other = await dirs.make();
    await copyFile(join(dir, GEN1), join(other, GEN1));
    await expect(Translog.open(other)).rejects.toBeInstanceOf(TranslogCorruptedError);
  });
});

describe('Translog under injected faults', () => {
  it('fails every waiter of a sync whose fsync fails, and every later add', async () => {
    // Goal: an fdatasync error (EIO) never reports success: all callers sharing the round reject with
    // TranslogFailedError, later adds and syncs throw, and a reopen keeps what was synced before.
    const dir = await dirs.make();
    const fs = new FaultInjectingFileSystem();
    const translog = await Translog.open(dir, {}, fs);
    translog.add(indexOp(0));
    await translog.sync();
    fs.failNext('datasync', ioError('EIO', 'fdatasync', GEN1), '.tlog');
    translog.add(indexOp(1));
    const waits = [translog.sync(), translog.sync(), translog.sync()];
    for (const wait of waits) await expect(wait).rejects.toBeInstanceOf(TranslogFailedError);
    await expect(waits[0]).rejects.toThrow(/EIO/);
    expect(translog.lastSyncedSeqNo).toBe(0);
    expect(() => translog.add(indexOp(2))).toThrow(TranslogFailedError);
    await expect(translog.sync()).rejects.toBeInstanceOf(TranslogFailedError);
    await expect(translog.rollGeneration()).rejects.toBeInstanceOf(TranslogFailedError);
    await translog.close();
    const reopened = await Translog.open(dir);
    const seqNos = (await readAll(reopened)).map((op) => op.seqNo);
    // Op 1 was written (not known durable); it may survive, op 0 must.
    expect(seqNos.slice(0, 1)).toEqual([0]);
    await reopened.close();
  });

  it('fails sync on ENOSPC during the write and on a failed checkpoint write', async () => {
    // Goal: a short or failed write, and a failed checkpoint write, both fail the translog.
    for (const [operation, path] of [
      ['write', '.tlog'],
      ['write', '.ckp'],
      ['datasync', '.ckp'],
    ] as const) {
      const fs = new FaultInjectingFileSystem();
      const translog = await Translog.open(await dirs.make(), {}, fs);
      fs.failNext(operation, ioError('ENOSPC', operation, path), path);
      translog.add(indexOp(0));
      await expect(translog.sync(), `${operation} ${path}`).rejects.toBeInstanceOf(TranslogFailedError);
      expect(() => translog.add(indexOp(1))).toThrow(TranslogFailedError);
      await translog.close();
    }
  });

  it('never loses an acknowledged op across a simulated power loss', async () => {
    // Goal: random adds and syncs, some syncs failing at the checkpoint write, then a crash that undoes
    // every write not covered by an fdatasync (optionally keeping a prefix of them, a torn tail).
    // After reopen the ops are a prefix of what was added and include everything a sync acknowledged.
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            { weight: 4, arbitrary: fc.integer({ min: 1, max: 6 }) },
            { weight: 4, arbitrary: fc.constant('sync' as const) },
            { weight: 1, arbitrary: fc.constant('ckp-fail' as const) },
          ),
          { maxLength: 30 },
        ),
        fc.nat({ max: 3 }),
        async (steps, keepPrefixWrites) => {
          const dir = await dirs.make();
          const fs = new FaultInjectingFileSystem();
          const translog = await Translog.open(dir, { generationThresholdBytes: 2048 }, fs);
          const added: TranslogOp[] = [];
          let acked = 0;
          let failed = false;
          for (const step of steps) {
            if (failed) break;
            if (typeof step === 'number') {
              for (let i = 0; i < step; i++) {
                added.push(indexOp(added.length, 50));
                translog.add(added[added.length - 1]);
              }
            } else {
              if (step === 'ckp-fail') fs.failNext('write', ioError('EIO', 'write', 'ckp'), '.ckp');
              const count = added.length;
              await translog.sync().then(
                () => (acked = count),
                () => (failed = true),
              );
            }
          }
          await fs.crash(keepPrefixWrites);
          const reopened = await Translog.open(dir);
          const recovered = await readAll(reopened);
          await reopened.close();
          expect(recovered.length).toBeGreaterThanOrEqual(acked);
          expect(recovered).toEqual(added.slice(0, recovered.length).map(normalize));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('completes a roll interrupted after the seal, on the next open', async () => {
    // Goal: if creating the next generation fails after the old one was sealed and synced, the
    // translog fails; reopen finds the seal past the checkpoint, finishes the roll and keeps every op.
    const dir = await dirs.make();
    const fs = new FaultInjectingFileSystem();
    const translog = await Translog.open(dir, {}, fs);
    for (let i = 0; i < 4; i++) translog.add(indexOp(i));
    fs.failNext('open', ioError('ENOSPC', 'open', 'translog-2'), generationFileName(2));
    await expect(translog.rollGeneration()).rejects.toBeInstanceOf(TranslogFailedError);
    await translog.close();
    const reopened = await Translog.open(dir);
    expect(reopened.currentGeneration).toBe(2);
    expect((await readAll(reopened)).map((op) => op.seqNo)).toEqual([0, 1, 2, 3]);
    reopened.add(indexOp(4));
    await reopened.close();
    const again = await Translog.open(dir);
    expect((await readAll(again)).map((op) => op.seqNo)).toEqual([0, 1, 2, 3, 4]);
    await again.close();
  });

  it('deletes files left over by an interrupted trim on the next open', async () => {
    // Goal: the new minimum is recorded before files are deleted, so a failed unlink is finished by open.
    const dir = await dirs.make();
    const fs = new FaultInjectingFileSystem();
    const translog = await Translog.open(dir, {}, fs);
    translog.add(indexOp(0));
    await translog.rollGeneration();
    translog.add(indexOp(1));
    await translog.rollGeneration();
    fs.failNext('unlink', ioError('EIO', 'unlink', GEN1), GEN1);
    await expect(translog.trimBelow(3)).rejects.toThrow(/EIO/);
    await translog.close();
    const reopened = await Translog.open(dir);
    expect((await readdir(dir)).filter((n) => n.endsWith('.tlog'))).toEqual([generationFileName(3)]);
    expect(await readAll(reopened)).toEqual([]);
    await reopened.close();
  });
});
