/**
 * Translog damage after a crash, done to the real files of a real node: a torn or garbage tail past the
 * checkpoint is cut off on recovery with every acknowledged write kept (and later writes land after the
 * cut, not behind the garbage); a corrupt byte inside the acknowledged region fails that shard loudly
 * (red health or 5xx, an error in the log) without taking the node or other indices down, and without
 * silently serving a shard that lost acknowledged writes.
 */
import { appendFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { findFiles, pollUntil, SeededRandom, startNodeProcess, tempDir, testSeed, type NodeProcess } from '../helpers/index.js';
import { createIndex, missingOrWrong, writeAcked } from './simple-writes.js';
import { waitForGreen } from './verify.js';

/** Size of a generation file's header (lib/translog/format.ts, format v1): damage goes after it, into the records. */
const GENERATION_HEADER_BYTES = 85;

/** The translog generation files of one index (by uuid), oldest generation first. */
function translogFiles(dataPath: string, indexUuid: string): string[] {
  const files = findFiles(dataPath, /translog-\d+\.tlog$/).filter((path) => path.includes(`/${indexUuid}/`));
  const generation = (path: string): number => Number(/translog-(\d+)\.tlog$/.exec(path)![1]);
  return files.sort((a, b) => generation(a) - generation(b));
}

/** The uuid of an index, which names its directory under `<data>/nodes/0/indices/`. */
async function indexUuid(node: NodeProcess, index: string): Promise<string> {
  const settings = await node.http.json('GET', `/${index}/_settings`);
  const uuid = settings?.[index]?.settings?.index?.uuid;
  if (typeof uuid !== 'string') throw new Error(`GET /${index}/_settings has no index.uuid: ${JSON.stringify(settings).slice(0, 500)}`);
  return uuid;
}

describe('torn or corrupt translog after kill -9', () => {
  let node: NodeProcess | undefined;
  afterEach(async () => {
    await node?.crash();
    node = undefined;
  });

  const tails = [
    {
      name: 'random garbage appended',
      damage: (path: string, rng: SeededRandom): void => {
        appendFileSync(path, Buffer.from(Array.from({ length: rng.int(1, 300) }, () => rng.int(0, 255))));
      },
    },
    {
      name: 'a record cut in the middle (a torn write)',
      damage: (path: string): void => {
        // Copy the first record's length prefix and half its body: what a crash during an append leaves.
        const bytes = readFileSync(path);
        const bodyLength = bytes.readUInt32LE(GENERATION_HEADER_BYTES);
        appendFileSync(path, bytes.subarray(GENERATION_HEADER_BYTES, GENERATION_HEADER_BYTES + 4 + Math.floor(bodyLength / 2)));
      },
    },
  ];

  for (const tail of tails) {
    it(`recovers past ${tail.name} and keeps every acknowledged write`, async () => {
      const seed = testSeed();
      const rng = new SeededRandom(seed);
      const dataPath = tempDir('quarry-torn-');
      node = await startNodeProcess({ dataPath, name: 'torn' });
      const port = node.port;
      await createIndex(node.http, 'torn', { shards: 1, refreshInterval: '-1' });
      const uuid = await indexUuid(node, 'torn');
      const expected = await writeAcked(node.http, 'torn', 'a', 40);
      await node.crash();

      const files = translogFiles(dataPath, uuid);
      expect(files.length, `translog files under ${dataPath} for index uuid ${uuid}`).toBeGreaterThan(0);
      const last = files.at(-1)!;
      const sizeBeforeBytes = statSync(last).size;
      expect(sizeBeforeBytes, `${last} should hold the acknowledged operations`).toBeGreaterThan(GENERATION_HEADER_BYTES);
      tail.damage(last, rng);

      node = await startNodeProcess({ dataPath, port, name: 'torn' });
      await waitForGreen(node.http, ['torn']);
      expect(await missingOrWrong(node.http, 'torn', expected), `seed ${seed}\n${node.logs(6000)}`).toEqual([]);

      // New writes after the cut must survive the next crash: they must not sit behind the garbage.
      const more = await writeAcked(node.http, 'torn', 'b', 10);
      await node.crash();
      node = await startNodeProcess({ dataPath, port, name: 'torn' });
      await waitForGreen(node.http, ['torn']);
      const all = new Map([...expected, ...more]);
      expect(await missingOrWrong(node.http, 'torn', all), `seed ${seed}\n${node.logs(6000)}`).toEqual([]);
      await node.http.json('POST', '/torn/_refresh');
      expect((await node.http.json('GET', '/torn/_count')).count).toBe(all.size);
    });
  }

  const corruptions = [
    {
      name: 'a byte inside the acknowledged records is flipped',
      damage: (bytes: Buffer): Buffer => {
        const offset = GENERATION_HEADER_BYTES + Math.floor((bytes.length - GENERATION_HEADER_BYTES) / 2);
        bytes[offset] = bytes[offset]! ^ 0xff;
        return bytes;
      },
    },
    {
      name: 'the file is truncated into the acknowledged records (shorter than its checkpoint)',
      damage: (bytes: Buffer): Buffer => bytes.subarray(0, GENERATION_HEADER_BYTES + Math.floor((bytes.length - GENERATION_HEADER_BYTES) / 2)),
    },
  ];

  for (const corruption of corruptions) {
    it(`fails only the damaged shard, loudly, when ${corruption.name}`, async () => {
      const dataPath = tempDir('quarry-corrupt-');
      node = await startNodeProcess({ dataPath, name: 'corrupt' });
      const port = node.port;
      await createIndex(node.http, 'victim', { shards: 1, refreshInterval: '-1' });
      await createIndex(node.http, 'bystander', { shards: 1, refreshInterval: '-1' });
      const uuid = await indexUuid(node, 'victim');
      const victimDocs = await writeAcked(node.http, 'victim', 'v', 60);
      const bystanderDocs = await writeAcked(node.http, 'bystander', 'b', 10);
      await node.crash();

      // Damage the middle of the records of the largest generation (the one holding our ops).
      const files = translogFiles(dataPath, uuid);
      const target = files.map((path) => ({ path, sizeBytes: statSync(path).size })).sort((a, b) => b.sizeBytes - a.sizeBytes)[0];
      expect(target && target.sizeBytes > GENERATION_HEADER_BYTES + 100, `a translog file with operations under ${dataPath} (uuid ${uuid})`).toBe(true);
      writeFileSync(target!.path, corruption.damage(readFileSync(target!.path)));

      // The node itself must come up (startNodeProcess waits for GET / → 200) ...
      node = await startNodeProcess({ dataPath, port, name: 'corrupt' });
      // ... the damaged index must be visibly broken: red health, or 5xx on its requests ...
      const evidence = await pollUntil(
        async () => {
          const health = await node!.http.get('/_cluster/health/victim');
          if (health.body?.status === 'red') return `health red`;
          const get = await node!.http.get('/victim/_doc/v0');
          if (get.status >= 500) return `GET answered ${get.status}`;
          return undefined;
        },
        { timeoutMs: 20_000, description: 'index victim to report red health or 5xx' },
      ).catch((error: Error) => {
        throw new Error(`${error.message}\n${node!.logs(6000)}`);
      });
      console.log(`corrupt translog: victim is failed (${evidence})`);

      // ... and it must never answer as if acknowledged documents did not exist.
      const silentLosses: string[] = [];
      for (const [id, source] of victimDocs) {
        const response = await node.http.get(`/victim/_doc/${id}`);
        if (response.status < 500 && !(response.status === 200 && JSON.stringify(response.body?._source) === JSON.stringify(source))) {
          silentLosses.push(`${id}: ${response.status} ${response.text.slice(0, 200)}`);
        }
      }
      expect(silentLosses, 'acknowledged documents answered as missing or different instead of a shard failure').toEqual([]);
      const write = await node.http.put('/victim/_doc/new?timeout=1s', { id: 'new' });
      expect(write.status, `a write to a failed shard must not be acknowledged: ${write.text}`).toBeGreaterThanOrEqual(500);

      // The error is in the log, and it says what happened.
      const logged = await pollUntil(
        () => node!.logRecords().find((record) => typeof record.level === 'number' && record.level >= 50 && /corrupt|checksum|crc|truncat/i.test(JSON.stringify(record))),
        { timeoutMs: 5000, description: 'an error-level log record about the corruption' },
      ).catch((error: Error) => {
        throw new Error(`${error.message}\n${node!.logs(6000)}`);
      });
      expect(JSON.stringify(logged)).toMatch(/translog|tlog/i);

      // Everything else keeps working: the node is up and the other index is green and complete.
      await waitForGreen(node.http, ['bystander']);
      expect(await missingOrWrong(node.http, 'bystander', bystanderDocs)).toEqual([]);
      expect((await node.http.put('/bystander/_doc/after', { id: 'after' })).status).toBe(201);
      expect(node.hasExited()).toBe(false);
    });
  }
});
