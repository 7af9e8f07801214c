// Dev tool: fills a SegmentBuilder with a corpus (debian by default, the peers-like explicit
// mapping) up to INDEXING_BUFFER_BYTES_MAX, then measures on dist/: SegmentBuilder.freeze() (the
// only synchronous step a refresh in the segment-writer thread leaves on the event loop) and whole
// refreshes with refreshInWorker true and false, alternating: refresh latency, the longest gap
// between 1 ms timer ticks and perf_hooks.monitorEventLoopDelay's max/p99.
// Usage: npm run build && node scripts/measure-refresh.mjs [corpus.ndjson] [--rounds N]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { validateMappings, parseDocument } from '../dist/lib/mapping/index.js';
import { SegmentBuilder } from '../dist/lib/segments/builder.js';
import { SegmentManager } from '../dist/lib/segments/manager.js';
import { INDEXING_BUFFER_BYTES_MAX } from '../dist/lib/common/limits.js';

const args = process.argv.slice(2);
const corpusPath = args.find((a) => a.endsWith('.ndjson')) ?? join(process.env.QUARRY_CORPORA ?? '../shared/corpora', 'debian.ndjson');
const roundsArg = args.indexOf('--rounds');
const rounds = roundsArg >= 0 ? Number(args[roundsArg + 1]) : 3;
const mappings = validateMappings({ properties: { id: { type: 'keyword' }, title: { type: 'text' }, body: { type: 'text' } } });
const lines = readFileSync(corpusPath, 'utf8').split('\n').filter(Boolean);

let seqNo = 0;
let pass = 0;
/** A builder filled like the shard fills its buffer until a memory refresh. */
function fill() {
  const builder = new SegmentBuilder();
  pass++;
  for (let i = 0; builder.ramBytesUsed <= INDEXING_BUFFER_BYTES_MAX; i++) {
    const line = lines[i % lines.length];
    const source = Buffer.from(line);
    const json = JSON.parse(line);
    const id = `${pass}-${i}`;
    const { doc } = parseDocument(mappings, { id, seqNo: 0, version: 0, primaryTerm: 0 }, json, source);
    doc.seqNo = seqNo++;
    doc.version = 1;
    doc.primaryTerm = 1;
    builder.addDocument(doc);
  }
  return builder;
}

function stallMeter() {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  let maxGapMs = 0;
  let last = performance.now();
  const ticker = setInterval(() => {
    const now = performance.now();
    maxGapMs = Math.max(maxGapMs, now - last);
    last = now;
  }, 1);
  return () => {
    clearInterval(ticker);
    histogram.disable();
    return { maxGapMs, delayMaxMs: histogram.max / 1e6, delayP99Ms: histogram.percentile(99) / 1e6 };
  };
}

const f = (x) => x.toFixed(1);
const builder = fill();
console.log(`buffer: ${builder.maxDoc} docs, ramBytesUsed ${(builder.ramBytesUsed / 1048576).toFixed(1)} MB`);
const freezeMs = [];
for (let i = 0; i < 5; i++) {
  const t = performance.now();
  builder.freeze();
  freezeMs.push(performance.now() - t);
}
console.log(`freeze() in one go: ${freezeMs.map(f).join(', ')} ms`);
for (let i = 0; i < 3; i++) {
  const stop = stallMeter();
  const t = performance.now();
  await builder.freezeInSlices(10);
  const ms = performance.now() - t;
  const s = stop();
  console.log(`freezeInSlices(10): ${f(ms)} ms wall, longest 1 ms-timer gap ${f(s.maxGapMs)} ms, event-loop delay max ${f(s.delayMaxMs)} ms`);
}

for (let round = 0; round < rounds; round++) {
  for (const refreshInWorker of [true, false]) {
    const dir = mkdtempSync(join(tmpdir(), 'qrefresh-'));
    const manager = await SegmentManager.open(dir, { refreshInWorker });
    try {
      // Warm the thread up (a worker starts lazily at the first refresh).
      const tiny = new SegmentBuilder();
      const { doc } = parseDocument(mappings, { id: 'warm', seqNo: 0, version: 1, primaryTerm: 1 }, { title: 'warm' }, Buffer.from('{"title":"warm"}'));
      tiny.addDocument(doc);
      await manager.refresh(tiny, []);
      const full = fill();
      const stop = stallMeter();
      const t = performance.now();
      await manager.refresh(full, []);
      const refreshMs = performance.now() - t;
      const s = stop();
      console.log(
        `refreshInWorker=${refreshInWorker}: ${full.maxDoc} docs, refresh ${refreshMs.toFixed(0)} ms, longest 1 ms-timer gap ${f(s.maxGapMs)} ms, event-loop delay max ${f(s.delayMaxMs)} ms p99 ${f(s.delayP99Ms)} ms`,
      );
    } finally {
      await manager.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
