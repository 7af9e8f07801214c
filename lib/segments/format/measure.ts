/**
 * Measures the segment data layer on the debian corpus (run by hand:
 * `npx tsx lib/segments/format/measure.ts [docs...]`): docs/s into the builder, writeSegment time and the
 * longest event-loop stall during it, bytes on disk, postings decode speed for a frequent term, and merge time.
 * Tokenizes with a plain regex: the real analyzer lives elsewhere.
 */
import { readFileSync, mkdtempSync, rmSync, statSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { SegmentBuilder } from '../builder.js';
import { closeShardStorage, openShardStorage } from '../env.js';
import { mergeSegments } from '../merger.js';
import { openSegmentReader } from '../reader.js';
import { NO_MORE_DOCS, type DocumentInput } from '../types.js';
import { writeSegment } from '../writer.js';

const corpusPath = process.env.CORPUS ?? '/work/shared/corpora/debian.ndjson';
const lines = readFileSync(corpusPath, 'utf8').split('\n').filter(Boolean);
const encoder = new TextEncoder();
const tokenize = (text: string) => text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];

function toDoc(line: string, seqNo: number): DocumentInput {
  const json = JSON.parse(line) as { id: string; title: string; body: string };
  const title = tokenize(json.title);
  const body = tokenize(json.body);
  return {
    id: json.id,
    seqNo,
    version: 1,
    primaryTerm: 1,
    source: encoder.encode(line),
    inverted: [
      { field: 'title', indexOptions: 'positions', norms: true, terms: title, length: title.length },
      { field: 'body', indexOptions: 'positions', norms: true, terms: body, length: body.length },
    ],
    docValues: [{ field: 'len', type: 'numeric', values: [body.length] }],
  };
}

async function measure(count: number): Promise<void> {
  const docs = lines.slice(0, count).map(toDoc);
  const sourceBytes = docs.reduce((a, d) => a + d.source.length, 0);
  const tokens = docs.reduce((a, d) => a + d.inverted.reduce((b, f) => b + (f.terms?.length ?? 0), 0), 0);
  const dir = mkdtempSync(join(tmpdir(), 'quarry-measure-'));
  const storage = openShardStorage(dir);
  try {
    const builder = new SegmentBuilder();
    let t = performance.now();
    for (const doc of docs) builder.addDocument(doc);
    const buildMs = performance.now() - t;
    // Drop the analysed inputs (millions of token strings) so GC during the write sees a realistic heap.
    docs.length = 0;
    (globalThis as { gc?: () => void }).gc?.();

    let last = performance.now();
    let maxGapMs = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      maxGapMs = Math.max(maxGapMs, now - last);
      last = now;
    }, 1);
    t = performance.now();
    const { info } = await writeSegment(storage, 1, builder);
    const writeMs = performance.now() - t;
    clearInterval(timer);
    await storage.root.flushed;
    const fileBytes = readdirSync(dir).reduce((a, f) => a + statSync(join(dir, f)).size, 0);

    const reader = openSegmentReader(storage, info);
    const frequent = [...reader.terms('body')].sort((a, b) => b[1].docFreq - a[1].docFreq)[0];
    let scanned = 0;
    let freqSum = 0;
    t = performance.now();
    const rounds = 20;
    for (let r = 0; r < rounds; r++) {
      const cursor = reader.postings('body', frequent[0])!;
      for (let doc = cursor.next(); doc !== NO_MORE_DOCS; doc = cursor.next()) {
        freqSum += cursor.freq();
        scanned++;
      }
    }
    const scanMs = performance.now() - t;
    t = performance.now();
    let posCount = 0;
    const cursor = reader.postings('body', frequent[0])!;
    for (let doc = cursor.next(); doc !== NO_MORE_DOCS; doc = cursor.next()) posCount += cursor.positions().length;
    const posMs = performance.now() - t;
    // Buffer view: the same scan through builder.asReader() (encodes the term on demand).
    t = performance.now();
    const view = builder.asReader().postings('body', frequent[0])!;
    while (view.next() !== NO_MORE_DOCS) view.freq();
    const viewMs = performance.now() - t;

    t = performance.now();
    const half = Math.floor(info.maxDoc / 2);
    const liveDocs = new Uint8Array((info.maxDoc + 7) >>> 3).fill(0xff);
    for (let d = 0; d < half; d += 2) liveDocs[d >>> 3] &= ~(1 << (d & 7));
    const merged = await mergeSegments(storage, 2, [{ info, liveDocs }]);
    const mergeMs = performance.now() - t;

    const mb = (n: number) => (n / 1024 / 1024).toFixed(1) + ' MB';
    console.log(
      [
        `## ${count} docs (${mb(sourceBytes)} of source, ${tokens} tokens, ${builder.ramBytesUsed > 0 ? mb(builder.ramBytesUsed) : 0} buffer RAM)`,
        `builder: ${buildMs.toFixed(0)} ms = ${Math.round(count / (buildMs / 1000))} docs/s (${Math.round(tokens / (buildMs / 1000) / 1e6 * 10) / 10} M tokens/s)`,
        `writeSegment: ${writeMs.toFixed(0)} ms, longest event-loop gap ${maxGapMs.toFixed(1)} ms`,
        `segment: sizeBytes ${mb(info.sizeBytes)} (keys+values before LZ4), LMDB files ${mb(fileBytes)}`,
        `full scan of "${frequent[0]}" (docFreq ${frequent[1].docFreq}) with freqs: ${Math.round(scanned / (scanMs / 1000) / 1e6 * 10) / 10} M docs/s; with positions: ${Math.round(frequent[1].docFreq / (posMs / 1000) / 1e6 * 10) / 10} M docs/s (${posCount} positions); via buffer view ${viewMs.toFixed(1)} ms`,
        `merge (dropping ${Math.ceil(half / 2)} deleted docs): ${mergeMs.toFixed(0)} ms → ${merged.info.maxDoc} docs`,
        '',
      ].join('\n'),
    );
    void freqSum;
  } finally {
    await closeShardStorage(storage);
    rmSync(dir, { recursive: true, force: true });
  }
}

const counts = process.argv.slice(2).map(Number);
for (const count of counts.length ? counts : [10_000, 64_000]) await measure(Math.min(count, lines.length));
