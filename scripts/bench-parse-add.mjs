// Dev tool: the per-token cost of indexing without HTTP, translog or LMDB. Parses every debian doc
// against the peers-like mapping (id keyword, title/body text) and adds it to a SegmentBuilder (a fresh
// one every 10,000 docs, about one refresh interval of a bulk load), 7 times; prints the best wall and
// CPU ms of a pass, and of its parse and addDocument parts. Usage (after npm run build):
//   node scripts/bench-parse-add.mjs [distDir] [corpus.ndjson]
// Pass another build's dist/ to compare before/after on the same (noisy, shared) machine.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const dist = resolve(process.argv[2] ?? 'dist');
const corpusPath = process.argv[3] ?? join(process.env.QUARRY_CORPORA ?? '../shared/corpora', 'debian.ndjson');
const load = (path) => import(pathToFileURL(join(dist, path)).href);
const { parseDocument } = await load('lib/mapping/index.js');
const { SegmentBuilder } = await load('lib/segments/builder.js');
let TokenRun = null;
try {
  ({ TokenRun } = await load('lib/common/token-run.js'));
} catch {
  // A build from before token runs: parseDocument takes no arena.
}
const PASSES = 7;
const DOCS_PER_BUILDER = 10_000;
const docs = readFileSync(corpusPath, 'utf8').split('\n').filter(Boolean).map((line) => [JSON.parse(line), Buffer.from(line)]);
const mappings = { properties: { id: { type: 'keyword' }, title: { type: 'text' }, body: { type: 'text' } } };
const arena = TokenRun ? new TokenRun() : undefined;
const best = { wallMs: Infinity, cpuMs: Infinity, parseMs: Infinity, addMs: Infinity };
for (let pass = 0; pass < PASSES; pass++) {
  let builder = new SegmentBuilder();
  let parseMs = 0;
  let addMs = 0;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  let k = 0;
  for (const [doc, bytes] of docs) {
    const t1 = performance.now();
    const parsed = parseDocument(mappings, { id: doc.id, seqNo: k, version: 1, primaryTerm: 1 }, doc, bytes, arena);
    const t2 = performance.now();
    builder.addDocument(parsed.doc);
    addMs += performance.now() - t2;
    parseMs += t2 - t1;
    if (++k % DOCS_PER_BUILDER === 0) builder = new SegmentBuilder();
  }
  const cpu = process.cpuUsage(cpu0);
  best.wallMs = Math.min(best.wallMs, performance.now() - t0);
  best.cpuMs = Math.min(best.cpuMs, (cpu.user + cpu.system) / 1000);
  best.parseMs = Math.min(best.parseMs, parseMs);
  best.addMs = Math.min(best.addMs, addMs);
}
const f = (x) => x.toFixed(0);
console.log(`${dist}: ${docs.length} docs, best of ${PASSES}: wall ${f(best.wallMs)} ms, cpu ${f(best.cpuMs)} ms, parse ${f(best.parseMs)} ms, addDocument ${f(best.addMs)} ms`);
