/**
 * Peer child: MiniSearch (in memory) indexing the corpus with fields title and body, one `addAll`
 * per batch. Nothing is durable, so it bounds what pure in-memory indexing costs in JavaScript.
 * Run by the harness with --expose-gc: `node --expose-gc minisearch.js '<PeerIndexArgs JSON>'`.
 */
import MiniSearch from 'minisearch';
import { parseCorpusLine, toBatches, type CorpusDoc } from '../ndjson.js';
import { ProgressLine, readPeakRssBytes } from '../proc.js';
import { currentRssBytes, readPeerArgs, readPeerLines, reportPeerResult } from './protocol.js';

const args = readPeerArgs();
const lines = readPeerLines(args);
// A full GC before and after so heap figures are live data (the index, the raw lines), not garbage.
const collectGarbage = (globalThis as { gc?: () => void }).gc;
collectGarbage?.();
const baselineHeapUsedBytes = collectGarbage ? process.memoryUsage().heapUsed : undefined;
const baselineRssBytes = currentRssBytes();

const index = new MiniSearch<CorpusDoc>({ fields: ['title', 'body'], idField: 'id' });
const progress = new ProgressLine(`${args.label}`, lines.length);
let done = 0;
const startedAtMs = performance.now();
for (const batch of toBatches(lines, args.batchDocs)) {
  index.addAll(batch.map((line, position) => parseCorpusLine(line, done + position + 1)));
  done += batch.length;
  progress.update(done);
}
const indexMs = performance.now() - startedAtMs;
progress.finish();

collectGarbage?.();
reportPeerResult({
  docs: index.documentCount,
  indexMs,
  heapUsedBytes: collectGarbage ? process.memoryUsage().heapUsed : undefined,
  baselineHeapUsedBytes,
  baselineRssBytes,
  peakRssBytes: readPeakRssBytes('self') ?? Number.NaN,
});
