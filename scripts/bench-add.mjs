// Dev tool: the cost of SegmentBuilder.addDocument alone. Parses every debian doc once against the
// peers-like mapping (each with its own token run, so none is reset), then adds them all to fresh
// builders (a new one every 10,000 docs) 9 times; prints the best and median ms of a pass. Usage
// (after npm run build): node scripts/bench-add.mjs [distDir] [corpus.ndjson]
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const dist = resolve(process.argv[2] ?? 'dist');
const corpusPath = process.argv[3] ?? join(process.env.QUARRY_CORPORA ?? '../shared/corpora', 'debian.ndjson');
const load = (path) => import(pathToFileURL(join(dist, path)).href);
const { parseDocument } = await load('lib/mapping/index.js');
const { SegmentBuilder } = await load('lib/segments/builder.js');
const PASSES = 9;
const DOCS_PER_BUILDER = 10_000;
const mappings = { properties: { id: { type: 'keyword' }, title: { type: 'text' }, body: { type: 'text' } } };
const lines = readFileSync(corpusPath, 'utf8').split('\n').filter(Boolean);
const parsed = lines.map((line, k) => {
  const doc = JSON.parse(line);
  return parseDocument(mappings, { id: doc.id, seqNo: k, version: 1, primaryTerm: 1 }, doc, Buffer.from(line)).doc;
});
const passMs = [];
for (let pass = 0; pass < PASSES; pass++) {
  let builder = new SegmentBuilder();
  const t0 = performance.now();
  for (let k = 0; k < parsed.length; k++) {
    builder.addDocument(parsed[k]);
    if ((k + 1) % DOCS_PER_BUILDER === 0) builder = new SegmentBuilder();
  }
  passMs.push(performance.now() - t0);
}
passMs.sort((a, b) => a - b);
console.log(`${dist}: ${parsed.length} docs, addDocument per pass of ${PASSES}: best ${passMs[0].toFixed(0)} ms, median ${passMs[PASSES >> 1].toFixed(0)} ms`);
