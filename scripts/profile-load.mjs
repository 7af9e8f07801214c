// Dev tool: starts dist/bin/quarry.js under `node --cpu-prof`, bulk-loads a corpus (1,000-doc _bulk,
// one request at a time), stops the node and prints the hottest functions (self and inclusive ms)
// of the main thread's profile. Usage: node scripts/profile-load.mjs [corpus.ndjson] [--mapping explicit|dynamic]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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
const files = readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile')).sort();
for (const file of files) {
  const prof = JSON.parse(readFileSync(join(profDir, file), 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const dt = new Map();
  for (let i = 0; i < prof.samples.length; i++) dt.set(prof.samples[i], (dt.get(prof.samples[i]) ?? 0) + prof.timeDeltas[i] / 1000);
  const self = new Map();
  const incl = new Map();
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const key = (n) => `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber + 1}`;
  let total = 0;
  for (const [id, ms] of dt) {
    total += ms;
    const n = byId.get(id);
    self.set(key(n), (self.get(key(n)) ?? 0) + ms);
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const k = key(byId.get(cur));
      if (seen.has(k)) continue;
      seen.add(k);
      incl.set(k, (incl.get(k) ?? 0) + ms);
    }
  }
  const top = (m, n) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => `${v.toFixed(0).padStart(7)} ms  ${k}`).join('\n');
  console.log(`\n== ${file} total ${total.toFixed(0)} ms\n-- self\n${top(self, 30)}\n-- inclusive\n${top(incl, 45)}`);
}
rmSync(dataDir, { recursive: true, force: true });
if (!args.includes('--keep')) rmSync(profDir, { recursive: true, force: true });
