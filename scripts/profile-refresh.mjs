// Dev tool: starts dist/bin/quarry.js (under --cpu-prof with --prof), fills an index with
// refresh_interval -1 by 10,000-doc rounds and times `POST _refresh` after each round, then prints
// the hottest functions of every thread. With --indices N it does so for N indices one after the
// other (round 0 of index 2+ shows what the node's warm segment-writer thread saves a new index).
// Usage: npm run build && node scripts/profile-refresh.mjs [--rounds N] [--indices N] [--prof]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { printProfiles } from './cpuprofile-summary.mjs';

const args = process.argv.slice(2);
const roundsArg = args.indexOf('--rounds');
const rounds = roundsArg >= 0 ? Number(args[roundsArg + 1]) : 4;
const indicesArg = args.indexOf('--indices');
const indices = indicesArg >= 0 ? Number(args[indicesArg + 1]) : 1;
const profile = args.includes('--prof');
const corpusPath = join(process.env.QUARRY_CORPORA ?? '../shared/corpora', 'debian.ndjson');
const port = 9500 + Math.floor(Math.random() * 50);
const base = `http://127.0.0.1:${port}`;
const dataDir = mkdtempSync(join(tmpdir(), 'qref-data-'));
const profDir = mkdtempSync(join(tmpdir(), 'qref-prof-'));
const flags = profile ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [];
const child = spawn(process.execPath, [...flags, 'dist/bin/quarry.js', '--port', String(port), '--data', dataDir, '--log-level', 'warn'], { stdio: 'inherit' });
const deadline = Date.now() + 20000;
for (;;) {
  try { if ((await fetch(base)).ok) break; } catch { /* not up yet */ }
  if (Date.now() > deadline) throw new Error('node did not start');
  await new Promise((r) => setTimeout(r, 20));
}
const lines = readFileSync(corpusPath, 'utf8').split('\n').filter(Boolean);
for (let k = 0; k < indices; k++) {
  const index = `r${k}`;
  await fetch(`${base}/${index}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ settings: { number_of_shards: 1, number_of_replicas: 0, refresh_interval: '-1' }, mappings: { properties: { id: { type: 'keyword' }, title: { type: 'text' }, body: { type: 'text' } } } }) });
  for (let round = 0; round < rounds; round++) {
    for (let i = round * 10000; i < (round + 1) * 10000; i += 1000) {
      const body = lines.slice(i, i + 1000).map((l) => `{"index":{"_id":${JSON.stringify(JSON.parse(l).id)}}}\n${l}\n`).join('');
      const r = await fetch(`${base}/${index}/_bulk`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body });
      if ((await r.json()).errors) throw new Error('bulk errors');
    }
    const t0 = performance.now();
    await fetch(`${base}/${index}/_refresh`, { method: 'POST' });
    console.log(`${indices > 1 ? `index ${index} ` : ''}round ${round}: refresh of 10,000 docs ${(performance.now() - t0).toFixed(0)} ms`);
  }
}
child.kill('SIGTERM');
await new Promise((r) => child.on('exit', r));
if (profile) printProfiles(profDir);
rmSync(dataDir, { recursive: true, force: true });
rmSync(profDir, { recursive: true, force: true });
