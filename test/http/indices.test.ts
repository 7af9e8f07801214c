/**
 * Index and cluster APIs on a real node: create/get/exists/delete, settings and mappings in
 * Elasticsearch's shapes, refresh/flush/forcemerge, `_segments`, `_stats`, cluster health with its
 * wait conditions and 408 on timeout, and the `_cat` tables.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from './node.js';

let node: TestNode;
beforeAll(async () => {
  node = await startTestNode();
});
afterAll(async () => {
  await node?.close();
});

describe('index lifecycle', () => {
  it('creates an index with settings and mappings and shows them as Elasticsearch does', async () => {
    // Goal: PUT /{index} acknowledges; GET shows aliases, mappings and nested string settings.
    const created = await node.client.put('/lib', {
      settings: { number_of_shards: 2, number_of_replicas: 0 },
      mappings: { properties: { title: { type: 'text' }, tag: { type: 'keyword' } } },
    });
    expect(created.status).toBe(200);
    expect(created.body).toEqual({ acknowledged: true, shards_acknowledged: true, index: 'lib' });
    const got = await node.client.get('/lib');
    expect(got.status).toBe(200);
    expect(got.body.lib.aliases).toEqual({});
    expect(got.body.lib.mappings.properties).toMatchObject({ title: { type: 'text' }, tag: { type: 'keyword' } });
    const index = got.body.lib.settings.index;
    expect(index).toMatchObject({ number_of_shards: '2', number_of_replicas: '0', provided_name: 'lib', uuid: expect.any(String), creation_date: expect.stringMatching(/^\d+$/) });
    expect(index.version.created).toEqual(expect.any(String));
    const settings = await node.client.get('/lib/_settings');
    expect(settings.body.lib.settings.index.number_of_shards).toBe('2');
    const flat = await node.client.get('/lib/_settings?flat_settings=true');
    expect(flat.body.lib.settings['index.number_of_shards']).toBe('2');
    expect((await node.client.get('/lib/_mapping')).body.lib.mappings.properties.tag).toEqual({ type: 'keyword' });
  });

  it('answers resource_already_exists_exception for a second create', async () => {
    // Goal: 400 with the index and uuid in the error.
    await node.client.put('/dup', {});
    const again = await node.client.put('/dup', {});
    expect(again.status).toBe(400);
    expect(again.body.error.type).toBe('resource_already_exists_exception');
    expect(again.body.error.reason).toMatch(/^index \[dup\/.+\] already exists$/);
  });

  it('refuses unknown keys in the create body', async () => {
    // Goal: a misspelled top-level key is a 400, not ignored.
    const response = await node.client.put('/typo', { setting: {} });
    expect(response.status).toBe(400);
    expect(response.body.error.reason).toBe('unknown key [setting] for create index');
  });

  it('adds fields with PUT _mapping', async () => {
    // Goal: the new field appears in GET _mapping; the answer is {acknowledged: true}.
    await node.client.put('/mapped', {});
    const put = await node.client.put('/mapped/_mapping', { properties: { added: { type: 'keyword' } } });
    expect(put.status).toBe(200);
    expect(put.body).toEqual({ acknowledged: true });
    expect((await node.client.get('/mapped/_mapping')).body.mapped.mappings.properties.added).toEqual({ type: 'keyword' });
  });

  it('deletes indices, with exists checks before and after', async () => {
    // Goal: HEAD 200 → DELETE acknowledged → HEAD 404 → DELETE 404; wildcards are refused.
    await node.client.put('/gone1', {});
    await node.client.put('/gone2', {});
    expect((await node.client.request('HEAD', '/gone1')).status).toBe(200);
    expect((await node.client.delete('/gone*')).status).toBe(400);
    const deleted = await node.client.delete('/gone1,gone2');
    expect(deleted.body).toEqual({ acknowledged: true });
    expect((await node.client.request('HEAD', '/gone1')).status).toBe(404);
    const again = await node.client.delete('/gone1');
    expect(again.status).toBe(404);
    expect(again.body.error.type).toBe('index_not_found_exception');
    expect((await node.client.get('/gone1')).status).toBe(404);
  });
});

describe('shard maintenance', () => {
  it('refreshes, flushes and force-merges with _shards totals counting replicas', async () => {
    // Goal: the maintenance endpoints answer Elasticsearch's _shards header; segments shrink to one.
    await node.client.put('/maint', { settings: { number_of_shards: 1, number_of_replicas: 1, refresh_interval: '-1' } });
    for (let i = 0; i < 3; i++) {
      await node.client.put(`/maint/_doc/${i}`, { i });
      const refreshed = await node.client.post('/maint/_refresh');
      expect(refreshed.body).toEqual({ _shards: { total: 2, successful: 1, failed: 0 } });
    }
    expect((await node.client.get('/maint/_refresh')).status).toBe(200);
    expect((await node.client.post('/_refresh')).status).toBe(200);
    const flushed = await node.client.post('/maint/_flush');
    expect(flushed.body._shards).toEqual({ total: 2, successful: 1, failed: 0 });
    const before = await node.client.get('/maint/_segments');
    const shard0 = before.body.indices.maint.shards['0'][0];
    expect(shard0.routing).toMatchObject({ state: 'STARTED', primary: true });
    expect(Object.keys(shard0.segments).length).toBeGreaterThanOrEqual(1);
    const merged = await node.client.post('/maint/_forcemerge?max_num_segments=1');
    expect(merged.status).toBe(200);
    expect(merged.body._shards).toEqual({ total: 2, successful: 1, failed: 0 });
    const after = await node.client.get('/maint/_segments');
    const segments = after.body.indices.maint.shards['0'][0].segments;
    expect(Object.keys(segments)).toHaveLength(1);
    const only = Object.values(segments)[0] as Record<string, unknown>;
    expect(only).toMatchObject({ num_docs: 3, deleted_docs: 0, search: true, size_in_bytes: expect.any(Number), generation: expect.any(Number) });
    expect((await node.client.post('/maint/_forcemerge')).status).toBe(200);
    expect((await node.client.post('/maint/_forcemerge?only_expunge_deletes=true')).status).toBe(200);
    const conflicting = await node.client.post('/maint/_forcemerge?max_num_segments=1&only_expunge_deletes=true');
    expect(conflicting.status).toBe(400);
  });

  it('reports _stats per index and for all, with primaries and totals', async () => {
    // Goal: _stats counts docs, indexing, refresh, segments, translog in Elasticsearch's sections.
    await node.client.bulk('/statsidx/_bulk?refresh=true', [{ index: { _id: '1' } }, { a: 1 }, { index: { _id: '2' } }, { a: 2 }, { delete: { _id: '2' } }]);
    const stats = await node.client.get('/statsidx/_stats');
    expect(stats.status).toBe(200);
    const primaries = stats.body.indices.statsidx.primaries;
    expect(primaries.docs.count).toBe(1);
    expect(primaries.indexing.index_total).toBeGreaterThanOrEqual(2);
    expect(primaries.indexing.delete_total).toBeGreaterThanOrEqual(1);
    expect(primaries.store.size_in_bytes).toEqual(expect.any(Number));
    for (const section of ['get', 'search', 'refresh', 'flush', 'merges', 'segments', 'translog']) expect(primaries[section], section).toBeDefined();
    expect(primaries.refresh.total).toBeGreaterThanOrEqual(1);
    expect(primaries.translog).toMatchObject({ operations: expect.any(Number), size_in_bytes: expect.any(Number), uncommitted_operations: expect.any(Number) });
    expect(primaries.merges).toMatchObject({ current: expect.any(Number), total: expect.any(Number), total_time_in_millis: expect.any(Number), total_docs: expect.any(Number), total_size_in_bytes: expect.any(Number) });
    expect(stats.body.indices.statsidx.total.docs.count).toBe(1);
    expect(stats.body._all.primaries.docs.count).toBe(1);
    const all = await node.client.get('/_stats');
    expect(all.body.indices.statsidx).toBeDefined();
    expect(all.body._all.primaries.docs.count).toBeGreaterThanOrEqual(1);
  });
});

describe('cluster health', () => {
  it('reports health, per index with level=indices', async () => {
    // Goal: Elasticsearch's health fields; replicas that cannot be assigned make an index yellow.
    await node.client.put('/h-green', { settings: { number_of_replicas: 0 } });
    await node.client.put('/h-yellow', { settings: { number_of_replicas: 1 } });
    const health = await node.client.get('/_cluster/health?level=indices');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ cluster_name: expect.any(String), status: 'yellow', timed_out: false, number_of_nodes: 1, number_of_data_nodes: 1 });
    expect(health.body.indices['h-green'].status).toBe('green');
    expect(health.body.indices['h-yellow']).toMatchObject({ status: 'yellow', number_of_shards: 1, number_of_replicas: 1, unassigned_shards: 1 });
    const one = await node.client.get('/_cluster/health/h-green');
    expect(one.body.status).toBe('green');
    expect(one.body.indices).toBeUndefined();
  });

  it('waits for a status and answers 408 timed_out when it never comes', async () => {
    // Goal: wait_for_status=yellow returns at once; green on a yellow index times out with 408.
    const yellow = await node.client.get('/_cluster/health/h-yellow?wait_for_status=yellow&timeout=5s');
    expect(yellow.status).toBe(200);
    expect(yellow.body.timed_out).toBe(false);
    const green = await node.client.get('/_cluster/health/h-yellow?wait_for_status=green&timeout=200ms');
    expect(green.status).toBe(408);
    expect(green.body).toMatchObject({ timed_out: true, status: 'yellow' });
    const missing = await node.client.get('/_cluster/health/never-created?timeout=100ms');
    expect(missing.status).toBe(408);
    expect(missing.body).toMatchObject({ timed_out: true, status: 'red' });
    expect((await node.client.get('/_cluster/health?wait_for_status=purple')).status).toBe(400);
    expect((await node.client.get('/_cluster/health?timeout=soon')).status).toBe(400);
  });

  it('answers a waiting request as soon as the index appears', async () => {
    // Goal: a health request waiting on a missing index returns 200 once another request creates it.
    const waiting = node.client.get('/_cluster/health/late-index?wait_for_status=yellow&timeout=20s');
    await node.client.put('/late-index', {});
    const response = await waiting;
    expect(response.status).toBe(200);
    expect(response.body.timed_out).toBe(false);
  });
});

describe('_cat', () => {
  it('prints indices and health as aligned text with ?v, or JSON with ?format=json', async () => {
    // Goal: text tables have a header with ?v and one row per index; JSON values are strings.
    await node.client.put('/cat-idx/_doc/1?refresh=true', { a: 1 });
    const text = await node.client.get('/_cat/indices?v');
    expect(text.headers.get('content-type')).toBe('text/plain; charset=UTF-8');
    const lines = text.text.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^health\s+status\s+index\s+uuid\s+pri\s+rep\s+docs\.count\s+docs\.deleted\s+store\.size\s+pri\.store\.size/);
    expect(lines.some((line) => /\bcat-idx\b/.test(line))).toBe(true);
    const json = await node.client.get('/_cat/indices/cat-idx?format=json');
    expect(json.body).toEqual([expect.objectContaining({ index: 'cat-idx', status: 'open', pri: '1', 'docs.count': '1' })]);
    const picked = await node.client.get('/_cat/indices/cat-idx?h=index,docs.count');
    expect(picked.text.trim().split(/\s+/)).toEqual(['cat-idx', '1']);
    const health = await node.client.get('/_cat/health?v');
    expect(health.text.split('\n')[0]).toMatch(/^epoch\s+timestamp\s+cluster\s+status/);
    const healthJson = await node.client.get('/_cat/health?format=json');
    expect(healthJson.body[0]).toMatchObject({ status: expect.stringMatching(/green|yellow|red/), 'node.total': '1' });
    const shards = await node.client.get('/_cat/shards/cat-idx?format=json');
    expect(shards.body).toEqual(expect.arrayContaining([expect.objectContaining({ index: 'cat-idx', shard: '0', prirep: 'p', state: 'STARTED' })]));
  });
});
