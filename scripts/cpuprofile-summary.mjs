// Dev tool helper: prints the hottest functions (self and inclusive ms) of every .cpuprofile in a
// directory (one per thread: the main thread and any worker, e.g. the segment-writer thread).
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Prints a self/inclusive top list per profile file found in `profDir`. */
export function printProfiles(profDir, { selfTop = 30, inclusiveTop = 45 } = {}) {
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
    console.log(`\n== ${file} total ${total.toFixed(0)} ms\n-- self\n${top(self, selfTop)}\n-- inclusive\n${top(incl, inclusiveTop)}`);
  }
}
