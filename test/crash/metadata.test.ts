/**
 * Kill -9 right after acknowledged metadata changes: an index created, deleted or given new fields by
 * dynamic mapping must be exactly so after a restart (the master's state is durable before the ack),
 * and documents indexed with a new field must be searchable by it. Seeded over several cycles.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pollUntil, SeededRandom, startNodeProcess, tempDir, testSeed, type NodeProcess } from '../helpers/index.js';
import { waitForGreen } from './verify.js';

describe('kill -9 after index metadata changes', () => {
  let node: NodeProcess | undefined;
  afterAll(async () => {
    await node?.crash();
  });

  it('keeps acknowledged index creations, deletions, settings and dynamic mappings', { timeout: 5 * 60_000 }, async () => {
    const seed = testSeed();
    const rng = new SeededRandom(seed);
    const replay = `seed ${seed} (replay: QUARRY_SEED=${seed} npx vitest run test/crash/metadata.test.ts)`;
    const dataPath = tempDir('quarry-metadata-');
    node = await startNodeProcess({ dataPath, name: 'meta' });
    const port = node.port;
    /** Expected live indices → shard count and the dynamic fields (with one doc each) added to them. */
    const live = new Map<string, { shards: number; uuid: string; fields: Map<string, string> }>();
    /** Directories of deleted indices: their data must not outlive them (a restart must not resurrect or keep it). */
    const deletedDirs: string[] = [];
    let created = 0;

    for (let cycle = 1; cycle <= 4; cycle++) {
      const http = node.http;
      const actions = rng.int(2, 5);
      for (let a = 0; a < actions; a++) {
        const roll = rng.next();
        if (roll < 0.4 || live.size === 0) {
          const name = `meta-${created++}`;
          const shards = rng.int(1, 3);
          await http.json('PUT', `/${name}`, { settings: { number_of_shards: shards, number_of_replicas: 0, refresh_interval: rng.pick(['-1', '1s']) } });
          const uuid = (await http.json('GET', `/${name}/_settings`))?.[name]?.settings?.index?.uuid;
          expect(typeof uuid, `index.uuid of ${name}`).toBe('string');
          live.set(name, { shards, uuid, fields: new Map() });
        } else if (roll < 0.6 && live.size > 1) {
          const name = rng.pick([...live.keys()]);
          await http.json('DELETE', `/${name}`);
          deletedDirs.push(join(dataPath, 'nodes', '0', 'indices', live.get(name)!.uuid));
          live.delete(name);
        } else {
          // A document with a field the index has never seen: acknowledged means the mapping update is durable too.
          const name = rng.pick([...live.keys()]);
          const entry = live.get(name)!;
          const field = `f${cycle}_${a}`;
          const value = `v${rng.int(0, 1e6)}`;
          const response = await http.put(`/${name}/_doc/${field}`, { [field]: value });
          expect(response.status, response.text).toBe(201);
          entry.fields.set(field, value);
        }
      }
      await node.crash();
      node = await startNodeProcess({ dataPath, port, name: 'meta' });
      if (live.size > 0) await waitForGreen(node.http, [...live.keys()]);

      const problems: string[] = [];
      const indices = await node.http.json('GET', '/_cat/indices?format=json');
      const names = new Set<string>((indices as Array<{ index: string }>).map((row) => row.index));
      for (const name of live.keys()) if (!names.has(name)) problems.push(`index ${name} was acknowledged as created but is gone`);
      for (const name of names) if (name.startsWith('meta-') && !live.has(name)) problems.push(`index ${name} was acknowledged as deleted but is back`);
      for (const [name, entry] of live) {
        const settings = await node.http.json('GET', `/${name}/_settings`);
        if (String(settings?.[name]?.settings?.index?.number_of_shards) !== String(entry.shards)) {
          problems.push(`${name}: number_of_shards ${JSON.stringify(settings?.[name]?.settings?.index?.number_of_shards)}, acknowledged ${entry.shards}`);
        }
        // Also keeps the deleted-data check below honest: live indices must be found at the same kind of path.
        if (!existsSync(join(dataPath, 'nodes', '0', 'indices', entry.uuid))) problems.push(`${name}: no data dir at nodes/0/indices/${entry.uuid}`);
        const mapping = await node.http.json('GET', `/${name}/_mapping`);
        const properties = mapping?.[name]?.mappings?.properties ?? {};
        await node.http.json('POST', `/${name}/_refresh`);
        for (const [field, value] of entry.fields) {
          if (!(field in properties)) problems.push(`${name}: dynamic field ${field} missing from the mapping ${JSON.stringify(properties)}`);
          const search = await node.http.post(`/${name}/_search`, { query: { term: { [`${field}.keyword`]: value } } });
          const ids = (search.body?.hits?.hits ?? []).map((hit: { _id: string }) => hit._id);
          if (search.status !== 200 || ids.length !== 1 || ids[0] !== field) {
            problems.push(`${name}: term query on ${field}.keyword = ${value} answered ${search.status} ids ${JSON.stringify(ids)} ${search.text.slice(0, 200)}`);
          }
        }
      }
      expect(problems, `cycle ${cycle}, ${replay}\n${node.logs(4000)}`).toEqual([]);
      // Removing a deleted index's files may lag the acknowledgement, but not forever.
      await pollUntil(() => deletedDirs.every((dir) => !existsSync(dir)), {
        timeoutMs: 10_000,
        description: `data of deleted indices removed: ${deletedDirs.filter((dir) => existsSync(dir)).join(', ')} (${replay})`,
      });
    }
    const fieldCount = [...live.values()].reduce((sum, entry) => sum + entry.fields.size, 0);
    console.log(`metadata: ${created} indices created, ${live.size} live with ${fieldCount} dynamic fields after 4 crashes, ${replay}`);
  });
});
