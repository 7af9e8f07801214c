// Dev tool: starts dist/bin/quarry.js under `node --cpu-prof`, bulk-loads a corpus (1,000-doc _bulk,
// one request at a time), stops the node and prints the hottest functions (self and inclusive ms)
// of each thread's profile (main thread, segment-writer thread, merge threads). Usage: node scripts/profile-load.mjs [corpus.ndjson] [--mapping explicit|dynamic]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { printProfiles } from './cpuprofile-summary.mjs';

const args = process.argv.slice(2);
const corpusPath = args.find((a) => a.endsWith('.ndjson')) ?? join(process.env.QUARRY_CORPORA ?? '../shared/corpora', 'debian.ndjson');
const mapping = args.includes('dynamic') ? 'dynamic' : 'explicit';
const port = 9390 + Math.floor(Math.random() * 50);
const dataDir = mkdtempSync(join(tmpdir(), 'qprof-data-'));
const profDir = mkdtempSync(join(tmpdir(), 'qprof-'));
const child = spawn(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${profDir}`, 'dist/bin/quarry.js', '--port', String(port), '--data', dataDir, '--log-level', 'warn'], { stdio: 'inherit' });
const base = `http://127.0.0.1:${port}`;
const deadline = Date.now() + 20000;
for (;;) {
  try { if ((await fetch(base)).ok) break; } catch { /* not up yet */ }
  if (Date.now() > deadline) throw new Error('node did not start');
  await new Promise((r) => setTimeout(r, 50));
}
const body = { settings: { number_of_shards: 1, number_of_replicas: 0 } };
if (mapping === 'explicit') body.mappings = { properties: { id: { type: 'keyword' }, title: { type: 'text' }, body: { type: 'text' } } };
await fetch(`${base}/bench`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const lines = readFileSync(corpusPath, 'utf8').split('\n').filter(Boolean);
const bulks = [];
for (let i = 0; i < lines.length; i += 1000) {
  bulks.push(Buffer.from(lines.slice(i, i + 1000).map((l) => `{"index":{"_id":${JSON.stringify(JSON.parse(l).id)}}}\n${l}\n`).join('')));
}
let tookMs = 0;
const started = performance.now();
for (const b of bulks) {
  const r = await fetch(`${base}/bench/_bulk`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: b });
  const j = await r.json();
  tookMs += j.took;
  if (j.errors) throw new Error(JSON.stringify(j.items.find((i) => i.index.error)));
}
const ms = performance.now() - started;
console.log(`${lines.length} docs in ${ms.toFixed(0)} ms = ${(lines.length / ms * 1000).toFixed(0)} docs/s (${mapping} mapping); server-side took ${tookMs} ms in all`);
const t0 = performance.now();
await fetch(`${base}/bench/_refresh`, { method: 'POST' });
console.log(`refresh ${(performance.now() - t0).toFixed(0)} ms`);
child.kill('SIGTERM');
await new Promise((r) => child.on('exit', r));
printProfiles(profDir);
rmSync(dataDir, { recursive: true, force: true });
if (!args.includes('--keep')) rmSync(profDir, { recursive: true, force: true });
