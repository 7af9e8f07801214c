/**
 * Translog micro-benchmark (not part of `npm test`): `npx tsx lib/translog/bench.ts`.
 * Measures add+sync throughput for 1,000-op batches of ~1 KB sources, group commit under concurrent
 * single-op writers, and the open + read time of 100k ops (the replay part of a restart).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeFileSystem, type TranslogFileSystem } from './io.js';
import { Translog } from './translog.js';
import type { TranslogOp } from './types.js';

const BATCHES = 100;
const BATCH_OPS = 1000;
const SOURCE_BYTES = 1024;
const CONCURRENT_WRITERS = 64;
const CONCURRENT_DURATION_MS = 3000;
const REPLAY_OPS = 100_000;

/** A file layer that counts fdatasyncs of generation files. */
function countingFileSystem(): { fs: TranslogFileSystem; dataSyncs: () => number } {
  let count = 0;
  const fs: TranslogFileSystem = {
    ...nodeFileSystem,
    async open(path, mode) {
      const file = await nodeFileSystem.open(path, mode);
      if (!path.endsWith('.tlog')) return file;
      return {
        write: (b, o, l, p) => file.write(b, o, l, p),
        read: (b, o, l, p) => file.read(b, o, l, p),
        datasync: () => {
          count++;
          return file.datasync();
        },
        truncate: (n) => file.truncate(n),
        stat: () => file.stat(),
        close: () => file.close(),
      };
    },
  };
  return { fs, dataSyncs: () => count };
}

function makeSource(seqNo: number): Uint8Array {
  const json = JSON.stringify({ seq: seqNo, title: `document ${seqNo}`, body: 'lorem ipsum dolor sit amet '.repeat(40) });
  return new TextEncoder().encode(json.slice(0, SOURCE_BYTES - 1) + '}');
}

function op(seqNo: number, source: Uint8Array): TranslogOp {
  return { type: 'index', id: `doc-${seqNo}`, seqNo, primaryTerm: 1, version: 1, source };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

async function batches(dir: string): Promise<void> {
  const { fs, dataSyncs } = countingFileSystem();
  const translog = await Translog.open(dir, {}, fs);
  const source = makeSource(0);
  const latenciesMs: number[] = [];
  let seqNo = 0;
  const start = performance.now();
  for (let b = 0; b < BATCHES; b++) {
    const t0 = performance.now();
    for (let i = 0; i < BATCH_OPS; i++) translog.add(op(seqNo++, source));
    await translog.sync();
    latenciesMs.push(performance.now() - t0);
  }
  const seconds = (performance.now() - start) / 1000;
  latenciesMs.sort((a, b) => a - b);
  console.log(
    `batches: ${BATCHES}x${BATCH_OPS} ops of ${source.length} B: ${(seqNo / seconds).toFixed(0)} ops/s, ` +
      `${((translog.stats().sizeBytes / seconds) / 1e6).toFixed(1)} MB/s, ${(dataSyncs() / seconds).toFixed(0)} data fsyncs/s, ` +
      `batch p50 ${percentile(latenciesMs, 50).toFixed(1)} ms p99 ${percentile(latenciesMs, 99).toFixed(1)} ms`,
  );
  await translog.close();
}

async function concurrent(dir: string): Promise<void> {
  const { fs, dataSyncs } = countingFileSystem();
  const translog = await Translog.open(dir, {}, fs);
  const source = makeSource(0);
  let seqNo = 0;
  const end = performance.now() + CONCURRENT_DURATION_MS;
  const start = performance.now();
  const writer = async (): Promise<void> => {
    while (performance.now() < end) {
      translog.add(op(seqNo++, source));
      await translog.sync();
    }
  };
  await Promise.all(Array.from({ length: CONCURRENT_WRITERS }, writer));
  const seconds = (performance.now() - start) / 1000;
  console.log(
    `group commit: ${CONCURRENT_WRITERS} writers, 1 op + sync each: ${(seqNo / seconds).toFixed(0)} acked ops/s, ` +
      `${(dataSyncs() / seconds).toFixed(0)} data fsyncs/s (${(seqNo / dataSyncs()).toFixed(1)} ops per fsync)`,
  );
  await translog.close();
}

async function single(dir: string): Promise<void> {
  const translog = await Translog.open(dir);
  const source = makeSource(0);
  const rounds = 200;
  const start = performance.now();
  for (let i = 0; i < rounds; i++) {
    translog.add(op(i, source));
    await translog.sync();
  }
  console.log(`single writer: 1 op + sync: ${((performance.now() - start) / rounds).toFixed(2)} ms per acked op (2 fdatasyncs)`);
  await translog.close();
}

async function replay(dir: string): Promise<void> {
  let translog = await Translog.open(dir);
  for (let seqNo = 0; seqNo < REPLAY_OPS; ) {
    for (let i = 0; i < BATCH_OPS; i++, seqNo++) translog.add(op(seqNo, makeSource(seqNo)));
    await translog.sync();
  }
  const sizeMb = translog.stats().sizeBytes / 1e6;
  await translog.close();
  const t0 = performance.now();
  translog = await Translog.open(dir);
  const t1 = performance.now();
  let count = 0;
  for await (const batch of translog.readOpBatches()) count += batch.length;
  const t2 = performance.now();
  let count2 = 0;
  for await (const _op of translog.readOps()) count2++;
  const t3 = performance.now();
  console.log(
    `replay: ${REPLAY_OPS} ops, ${sizeMb.toFixed(0)} MB: open (validate) ${(t1 - t0).toFixed(0)} ms, ` +
      `readOpBatches ${(t2 - t1).toFixed(0)} ms (${count}), readOps ${(t3 - t2).toFixed(0)} ms (${count2})`,
  );
  await translog.close();
}

for (const scenario of [batches, single, concurrent, replay]) {
  const dir = await mkdtemp(join(tmpdir(), 'quarry-translog-bench-'));
  try {
    await scenario(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
