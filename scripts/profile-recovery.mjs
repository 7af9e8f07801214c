// Dev tool: writes N ops (debian docs, then updates of them, like the bench's recovery scenario)
// into a node with `refresh_interval: -1`, kills it with SIGKILL, restarts dist/bin/quarry.js on the
// same data dir under `node --cpu-prof`, waits for the full `_count`, and prints the node's
// "shard recovered" log line plus the hottest functions of each thread during the restart.
// Usage: npm run build && node scripts/profile-recovery.mjs [corpus.ndjson] [--ops N]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { printProfiles } from './cpuprofile-summary.mjs';

const args = process.argv.slice(2);
const corpusPath = args.find((a) => a.endsWith('.ndjson')) ?? join(process.env.QUARRY_CORPORA ?? '../shared/corpora', 'debian.ndjson');
const opsArg = args.indexOf('--ops');
const opCount = opsArg >= 0 ? Number(args[opsArg + 1]) : 100_000;
const port = 9440 + Math.floor(Math.random() * 50);
const base = `http://127.0.0.1:${port}`;
const dataDir = mkdtempSync(join(tmpdir(), 'qrec-data-'));
const profDir = mkdtempSync(join(tmpdir(), 'qrec-prof-'));

function startNode(profile) {
  const flags = profile ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [];
  const child = spawn(process.execPath, [...flags, 'dist/bin/quarry.js', '--port', String(port), '--data', dataDir, '--log-level', 'info'], { stdio: ['ignore', 'pipe', 'inherit'] });
  child.log = '';
  child.stdout.on('data', (chunk) => (child.log += chunk.toString()));
  return child;
}
async function until(what, check, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const docs = readFileSync(corpusPath, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const ops = docs.slice(0, opCount);
for (let i = 0; ops.length < opCount; i++) {
  const d = docs[i % docs.length];
  ops.push({ ...d, title: `${d.title} (revision ${Math.floor(i / docs.length) + 2})` });
}
const expected = new Set(ops.map((d) => d.id)).size;

const first = startNode(false);
await until('the node', async () => (await fetch(base)).ok, 20_000);
await fetch(`${base}/bench`, {
  method: 'PUT',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({
    settings: { number_of_shards: 1, number_of_replicas: 0, refresh_interval: '-1' },
    mappings: { properties: { id: { type: 'keyword' }, title: { type: 'text' }, body: { type: 'text' } } },
  }),
});
for (let i = 0; i < ops.length; i += 1000) {
  const body = ops
    .slice(i, i + 1000)
    .map((d) => `{"index":{"_id":${JSON.stringify(d.id)}}}\n${JSON.stringify(d)}\n`)
    .join('');
  const r = await fetch(`${base}/bench/_bulk`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body });
  if ((await r.json()).errors) throw new Error('bulk errors');
}
first.kill('SIGKILL');
await new Promise((r) => first.once('exit', r));

const started = performance.now();
const second = startNode(true);
await until(
  'the full count',
  async () => {
    const r = await fetch(`${base}/bench/_count`);
    return r.ok && (await r.json()).count === expected;
  },
  120_000,
);
console.log(`${opCount} ops (${expected} docs): spawn → full _count ${(performance.now() - started).toFixed(0)} ms`);
for (const line of second.log.split('\n')) if (line.includes('shard recovered')) console.log(line);
second.kill('SIGTERM');
await new Promise((r) => second.once('exit', r));
printProfiles(profDir);
rmSync(dataDir, { recursive: true, force: true });
rmSync(profDir, { recursive: true, force: true });
