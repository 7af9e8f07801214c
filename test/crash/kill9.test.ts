/**
 * Kill -9 durability: no acknowledged write is ever lost, whatever the moment of the crash.
 *
 * Each cycle runs concurrent writers (single PUTs, `_bulk`, `_update`, DELETE, hot ids) against a real
 * node process for a random 0.3–2 s window, with a concurrent reader and sometimes a `_flush`, `_refresh`
 * or `_forcemerge` in the middle,
 * then SIGKILLs it mid-traffic (in some cycles just after starting a `_flush`, and in some a second time
 * while it recovers), restarts it on the same data directory and checks every id against
 * the history of acknowledged writes (see history.ts for the rule). Seeded: a failure prints the seed;
 * `QUARRY_SEED=<seed> npx vitest run test/crash/kill9.test.ts` replays the same choices (the
 * interleaving of concurrent requests still varies). `QUARRY_CRASH_CYCLES` sets the number of cycles.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { shardForRouting } from '../../lib/common/murmur3.js';
import { SeededRandom, startNodeProcess, tempDir, testSeed, type NodeProcess } from '../helpers/index.js';
import { WriteHistory } from './history.js';
import { verifyAgainstHistory, waitForGreen } from './verify.js';
import { runWriters, type UnexpectedAnswer } from './workload.js';

const CYCLES = Number(process.env.QUARRY_CRASH_CYCLES ?? 12);
const SHARD_COUNT = 2;
/** One index that only becomes searchable on explicit refreshes, one that refreshes on its own quickly: both states get crashed. */
const INDICES = [
  { name: 'crash-manual', refreshInterval: '-1' },
  { name: 'crash-auto', refreshInterval: '100ms' },
] as const;
const INDEX_NAMES = INDICES.map((i) => i.name);

describe('kill -9 during concurrent writes', () => {
  let node: NodeProcess | undefined;
  afterAll(async () => {
    await node?.crash();
  });

  it(`keeps every acknowledged write across ${CYCLES} crash/restart cycles`, { timeout: 15 * 60_000 }, async () => {
    const seed = testSeed();
    const rng = new SeededRandom(seed);
    const replay = `seed ${seed} (replay: QUARRY_SEED=${seed} npx vitest run test/crash/kill9.test.ts)`;
    console.log(`kill9: ${replay}`);
    const dataPath = tempDir('quarry-kill9-');
    const history = new WriteHistory((_index, id) => shardForRouting(id, SHARD_COUNT));
    const fail = (cycle: number, problems: string[]): never => {
      const shown = problems.slice(0, 15).join('\n  ');
      throw new Error(`cycle ${cycle}: ${problems.length} problem(s), ${replay}:\n  ${shown}\n${node?.logs(6000) ?? ''}`);
    };

    node = await startNodeProcess({ dataPath, name: 'crash-node' });
    const port = node.port;
    for (const index of INDICES) {
      await node.http.json('PUT', `/${index.name}`, {
        settings: { number_of_shards: SHARD_COUNT, number_of_replicas: 0, refresh_interval: index.refreshInterval },
        mappings: {
          properties: { id: { type: 'keyword' }, w: { type: 'integer' }, n: { type: 'integer' }, cycle: { type: 'integer' }, text: { type: 'text' }, tags: { type: 'keyword' } },
        },
      });
    }
    await waitForGreen(node.http, INDEX_NAMES);

    let ackedTotal = 0;
    let unknownTotal = 0;
    for (let cycle = 1; cycle <= CYCLES; cycle++) {
      const windowMs = rng.int(300, 2000);
      let stopped = false;
      const http = node.http;
      const writers = runWriters({ http, indices: INDEX_NAMES, idPoolSize: 100, hotIds: ['hot0', 'hot1', 'hot2'], writerCount: 4, rng: rng.fork(), history, cycle, stopped: () => stopped });

      // Maintenance in the middle of the traffic, so recovery sees every mix of commit point, segments and translog.
      const maintenance: Array<Promise<UnexpectedAnswer | undefined>> = [];
      const runLater = (atMs: number, method: string, path: string): void => {
        maintenance.push(
          new Promise<void>((resolve) => setTimeout(resolve, atMs)).then(async () => {
            if (stopped) return undefined;
            const response = await http.request(method, path).catch(() => undefined);
            if (!response || stopped || response.status === 200) return undefined;
            return { via: `${method} ${path}`, status: response.status, body: response.text.slice(0, 300) };
          }),
        );
      };
      if (rng.chance(0.6)) runLater(rng.int(0, windowMs), 'POST', `/${rng.pick(INDEX_NAMES)}/_flush`);
      if (rng.chance(0.3)) runLater(rng.int(0, windowMs), 'POST', `/${INDEX_NAMES.join(',')}/_flush`);
      if (rng.chance(0.5)) runLater(rng.int(0, windowMs), 'POST', `/${rng.pick(INDEX_NAMES)}/_refresh`);
      if (rng.chance(0.25)) runLater(rng.int(0, windowMs), 'POST', `/${rng.pick(INDEX_NAMES)}/_forcemerge?max_num_segments=1`);
      // A reader alongside the writers: searches and counts must keep answering while segments come and go.
      maintenance.push(
        (async () => {
          const readerRng = rng.fork();
          while (!stopped) {
            const index = readerRng.pick(INDEX_NAMES);
            const count = readerRng.chance(0.5);
            const path = count ? `/${index}/_count` : `/${index}/_search`;
            const body = count ? undefined : { size: 5, query: { term: { tags: readerRng.pick(['granite', 'quartz', 'slate']) } } };
            const response = await http.request(count ? 'GET' : 'POST', path, body).catch(() => undefined);
            if (response && !stopped && response.status !== 200) return { via: `GET ${path}`, status: response.status, body: response.text.slice(0, 300) };
          }
          return undefined;
        })(),
      );

      // The crash: a timer, not a condition, because the moment must be arbitrary relative to the traffic.
      await new Promise((resolve) => setTimeout(resolve, windowMs));
      const modes: string[] = [];
      if (rng.chance(0.3)) {
        // Crash while a flush (segment commit + translog trim) is most likely in progress.
        modes.push('kill during _flush');
        maintenance.push(http.request('POST', `/${INDEX_NAMES.join(',')}/_flush`).then(() => undefined, () => undefined));
        const flushHeadStartMs = rng.int(0, 40);
        await new Promise((resolve) => setTimeout(resolve, flushHeadStartMs));
      }
      stopped = true;
      node.kill('SIGKILL');
      const { unexpected } = await writers;
      const maintenanceErrors = (await Promise.all(maintenance)).filter((e): e is UnexpectedAnswer => e !== undefined);
      await node.exited;

      ackedTotal += history.ackedCount;
      unknownTotal += history.unknownCount;
      const ackedThisCycle = history.ackedCount;
      history.ackedCount = 0;
      history.unknownCount = 0;

      if (rng.chance(0.35)) {
        // A second crash while the node starts: recovery (replay, then its own refresh and flush) must be restartable.
        modes.push('kill during recovery');
        const recovering = await startNodeProcess({ dataPath, port, name: 'crash-node', waitForReady: false });
        const recoveryHeadStartMs = rng.int(50, 700);
        await new Promise((resolve) => setTimeout(resolve, recoveryHeadStartMs));
        await recovering.crash();
      }
      node = await startNodeProcess({ dataPath, port, name: 'crash-node' });
      await waitForGreen(node.http, INDEX_NAMES);
      const result = await verifyAgainstHistory(node.http, history, INDEX_NAMES);
      const problems = [
        ...result.violations,
        ...[...unexpected, ...maintenanceErrors].map((u) => `unexpected answer before the crash: ${u.via} → ${u.status} ${u.body}`),
      ];
      if (problems.length > 0) fail(cycle, problems);
      console.log(`kill9 cycle ${cycle}: window ${windowMs} ms${modes.map((m) => `, ${m}`).join('')}, ${ackedThisCycle} acked writes, ${result.foundCount} docs present after restart`);
      history.nextCycle(result.observed);
    }
    // A run where nothing was acknowledged would prove nothing.
    expect(ackedTotal, replay).toBeGreaterThan(CYCLES * 20);
    console.log(`kill9: ${ackedTotal} acked and ${unknownTotal} in-flight writes over ${CYCLES} cycles, ${replay}`);
    const code = await node.stop();
    expect(code).toBe(0);
  });
});
