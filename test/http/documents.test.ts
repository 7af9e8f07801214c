/**
 * Single-document APIs on a real node: index/create/get/exists/_source/delete/update/mget with
 * Elasticsearch's response shapes, query parameters, routing, optimistic concurrency control,
 * versioning, automatic index creation (also under concurrent first writes), and name/id validation.
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

describe('index, get, delete', () => {
  it('indexes a document and answers with Elasticsearch’s write shape', async () => {
    // Goal: a first write auto-creates the index and answers 201 with every write field.
    const response = await node.client.put('/docs/_doc/1', { title: 'hello' });
    expect(response.status).toBe(201);
    expect(response.body).toEqual({
      _index: 'docs',
      _id: '1',
      _version: 1,
      result: 'created',
      _shards: { total: 2, successful: 1, failed: 0 },
      _seq_no: expect.any(Number),
      _primary_term: 1,
    });
    expect(Object.keys(response.body)).toEqual(['_index', '_id', '_version', 'result', '_shards', '_seq_no', '_primary_term']);
    const again = await node.client.post('/docs/_doc/1', { title: 'hello again' });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ result: 'updated', _version: 2 });
    expect(again.body._seq_no).toBeGreaterThan(response.body._seq_no);
  });

  it('stores _source exactly as sent, whitespace and key order included', async () => {
    // Goal: GET returns the body bytes verbatim (no re-serialization), in both _doc and _source.
    const raw = '{ "b" : 2,\n  "list": [1, 2, 3], "text": "x\\u00e9" }';
    expect((await node.client.put('/docs/_doc/raw', raw)).status).toBe(201);
    const got = await node.client.get('/docs/_doc/raw');
    expect(got.text).toContain(`"found":true,"_source":${raw}}`);
    expect((await node.client.get('/docs/_source/raw')).text).toBe(raw);
  });

  it('answers GET in Elasticsearch’s shape and 404 found:false for a missing doc', async () => {
    // Goal: field order and the not-found body match Elasticsearch.
    await node.client.put('/docs/_doc/g1', { a: 1 });
    const found = await node.client.get('/docs/_doc/g1');
    expect(found.status).toBe(200);
    expect(Object.keys(found.body)).toEqual(['_index', '_id', '_version', '_seq_no', '_primary_term', 'found', '_source']);
    const missing = await node.client.get('/docs/_doc/nope');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ _index: 'docs', _id: 'nope', found: false });
    expect((await node.client.request('HEAD', '/docs/_doc/g1')).status).toBe(200);
    expect((await node.client.request('HEAD', '/docs/_doc/nope')).status).toBe(404);
    expect((await node.client.request('HEAD', '/docs/_source/g1')).status).toBe(200);
    const noSource = await node.client.get('/docs/_source/nope');
    expect(noSource.status).toBe(404);
    expect(noSource.body.error.type).toBe('resource_not_found_exception');
  });

  it('answers 404 index_not_found_exception for reads of a missing index', async () => {
    // Goal: reads never auto-create; the error carries Elasticsearch's fields.
    const response = await node.client.get('/no-such-index/_doc/1');
    expect(response.status).toBe(404);
    expect(response.body.error).toMatchObject({ type: 'index_not_found_exception', reason: 'no such index [no-such-index]', index: 'no-such-index' });
    expect(response.body.error.root_cause[0].type).toBe('index_not_found_exception');
    expect((await node.client.request('HEAD', '/no-such-index/_doc/1')).status).toBe(404);
    expect((await node.client.request('HEAD', '/no-such-index')).status).toBe(404);
    const del = await node.client.delete('/no-such-index/_doc/1');
    expect(del.status).toBe(404);
    expect(del.body.error.type).toBe('index_not_found_exception');
  });

  it('filters _source with _source=false, field lists, includes and excludes', async () => {
    // Goal: the source filtering parameters of GET behave as in Elasticsearch.
    expect((await node.client.put('/filtered/_doc/f1', { a: { b: 1, c: 2 }, d: 3 })).status).toBe(201);
    const noSource = await node.client.get('/filtered/_doc/f1?_source=false');
    expect(noSource.body.found).toBe(true);
    expect(noSource.body._source).toBeUndefined();
    expect((await node.client.get('/filtered/_doc/f1?_source=d')).body._source).toEqual({ d: 3 });
    expect((await node.client.get('/filtered/_doc/f1?_source_includes=a&_source_excludes=a.c')).body._source).toEqual({ a: { b: 1 } });
    expect((await node.client.get('/filtered/_source/f1?_source_excludes=a')).body).toEqual({ d: 3 });
  });

  it('deletes documents, answering 404 not_found for a missing one', async () => {
    // Goal: delete result shapes; the doc is gone afterwards.
    await node.client.put('/docs/_doc/d1', { a: 1 });
    const deleted = await node.client.delete('/docs/_doc/d1');
    expect(deleted.status).toBe(200);
    expect(deleted.body).toMatchObject({ _index: 'docs', _id: 'd1', result: 'deleted', _version: 2, _shards: { total: 2, successful: 1, failed: 0 } });
    const again = await node.client.delete('/docs/_doc/d1');
    expect(again.status).toBe(404);
    expect(again.body.result).toBe('not_found');
    expect((await node.client.get('/docs/_doc/d1')).status).toBe(404);
  });

  it('generates 20-character ids for POST /{index}/_doc', async () => {
    // Goal: auto ids look like Elasticsearch's and the doc is readable under its id.
    const created = await node.client.post('/docs/_doc', { auto: true });
    expect(created.status).toBe(201);
    expect(created.body._id).toMatch(/^[A-Za-z0-9_-]{20}$/);
    expect(created.headers.get('location')).toBe(`/docs/_doc/${created.body._id}`);
    expect((await node.client.get(`/docs/_doc/${created.body._id}`)).body._source).toEqual({ auto: true });
  });
});

describe('create', () => {
  it('answers 409 when the document exists, by _create and by op_type=create', async () => {
    // Goal: create never overwrites; the conflict is version_conflict_engine_exception.
    expect((await node.client.put('/create/_create/1', { a: 1 })).status).toBe(201);
    for (const path of ['/create/_create/1', '/create/_doc/1?op_type=create']) {
      const conflict = await node.client.put(path, { a: 2 });
      expect(conflict.status, path).toBe(409);
      expect(conflict.body.error.type).toBe('version_conflict_engine_exception');
      expect(conflict.body.error.reason).toContain('[1]: version conflict, document already exists');
    }
    expect((await node.client.get('/create/_source/1')).body).toEqual({ a: 1 });
    expect((await node.client.put('/create/_doc/2?op_type=bogus', {})).status).toBe(400);
  });
});

describe('refresh and realtime', () => {
  it('makes writes visible: refresh=true forces a refresh, wait_for waits, realtime GET sees the buffer', async () => {
    // Goal: forced_refresh appears with refresh=true; realtime=false misses an unrefreshed doc.
    await node.client.put('/rt', { settings: { index: { refresh_interval: '-1' } } });
    const forced = await node.client.put('/rt/_doc/1?refresh', { a: 1 });
    expect(forced.body.forced_refresh).toBe(true);
    const waited = await node.client.put('/rt/_doc/2?refresh=wait_for', { a: 2 });
    expect(waited.status).toBe(201);
    expect((await node.client.post('/rt/_count', { query: { ids: { values: ['1', '2'] } } })).body.count).toBe(2);
    await node.client.put('/rt/_doc/3', { a: 3 });
    expect((await node.client.get('/rt/_doc/3')).body.found).toBe(true);
    expect((await node.client.get('/rt/_doc/3?realtime=false')).body.found).toBe(false);
    expect((await node.client.get('/rt/_doc/3?realtime=false&refresh=true')).body.found).toBe(true);
    expect((await node.client.put('/rt/_doc/4?refresh=maybe', {})).status).toBe(400);
  });
});

describe('routing', () => {
  it('routes by the routing value: the doc is found with it and not without it', async () => {
    // Goal: shard = murmur3(routing) mod shards; GET with another routing looks on another shard.
    await node.client.put('/routed', { settings: { number_of_shards: 4 } });
    // Pick a routing value whose shard differs from the id's shard, by trying a few.
    let found: string | undefined;
    for (let attempt = 0; attempt < 20 && !found; attempt++) {
      const routing = `user${attempt}`;
      await node.client.put(`/routed/_doc/doc1?routing=${routing}&refresh=true`, { r: routing });
      const without = await node.client.get('/routed/_doc/doc1');
      if (!without.body.found) found = routing;
      await node.client.delete(`/routed/_doc/doc1?routing=${routing}`);
    }
    expect(found).toBeDefined();
    await node.client.put(`/routed/_doc/doc1?routing=${found}`, { r: found });
    const withRouting = await node.client.get(`/routed/_doc/doc1?routing=${found}`);
    expect(withRouting.body).toMatchObject({ found: true, _routing: found });
    expect((await node.client.get('/routed/_doc/doc1')).body.found).toBe(false);
  });
});

describe('concurrency control and versioning', () => {
  it('honours if_seq_no/if_primary_term and answers 409 on a stale pair', async () => {
    // Goal: compare-and-set by seq_no works; a stale seq_no conflicts; a half pair is refused.
    const first = await node.client.put('/occ/_doc/1', { v: 1 });
    const { _seq_no: seqNo, _primary_term: term } = first.body;
    const ok = await node.client.put(`/occ/_doc/1?if_seq_no=${seqNo}&if_primary_term=${term}`, { v: 2 });
    expect(ok.status).toBe(200);
    const stale = await node.client.put(`/occ/_doc/1?if_seq_no=${seqNo}&if_primary_term=${term}`, { v: 3 });
    expect(stale.status).toBe(409);
    expect(stale.body.error.type).toBe('version_conflict_engine_exception');
    const staleDelete = await node.client.delete(`/occ/_doc/1?if_seq_no=${seqNo}&if_primary_term=${term}`);
    expect(staleDelete.status).toBe(409);
    const half = await node.client.put('/occ/_doc/1?if_seq_no=1', { v: 4 });
    expect(half.status).toBe(400);
    expect(half.body.error.type).toBe('action_request_validation_exception');
  });

  it('refuses internal versioning and supports external versions', async () => {
    // Goal: version with internal type is Elasticsearch 8's 400; external versions must increase.
    const internal = await node.client.put('/ver/_doc/1?version=3', { v: 1 });
    expect(internal.status).toBe(400);
    expect(internal.body.error.reason).toContain('internal versioning can not be used for optimistic concurrency control. Please use `if_seq_no` and `if_primary_term` instead');
    const external = await node.client.put('/ver/_doc/1?version=5&version_type=external', { v: 1 });
    expect(external.status).toBe(201);
    expect(external.body._version).toBe(5);
    const lower = await node.client.put('/ver/_doc/1?version=4&version_type=external', { v: 2 });
    expect(lower.status).toBe(409);
    const equal = await node.client.put('/ver/_doc/1?version=5&version_type=external_gte', { v: 3 });
    expect(equal.status).toBe(200);
    expect((await node.client.put('/ver/_doc/1?version_type=sometimes&version=9', {})).status).toBe(400);
  });

  it('refuses ingest pipelines and require_alias (none exist)', async () => {
    // Goal: a pipeline parameter is an explicit 400 rather than silently skipped.
    const piped = await node.client.put('/ver/_doc/2?pipeline=my-pipeline', { v: 1 });
    expect(piped.status).toBe(400);
    expect(piped.body.error.reason).toBe('pipeline with id [my-pipeline] does not exist');
    expect((await node.client.put('/ver/_doc/2?require_alias=true', { v: 1 })).status).toBe(404);
  });
});

describe('update', () => {
  it('merges partial docs, detects noops, upserts, and returns the source when asked', async () => {
    // Goal: the _update body options behave as in Elasticsearch.
    await node.client.put('/upd/_doc/1', { a: 1, nested: { x: 1 } });
    const updated = await node.client.post('/upd/_update/1', { doc: { b: 2, nested: { y: 2 } } });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ result: 'updated', _version: 2 });
    expect((await node.client.get('/upd/_source/1')).body).toEqual({ a: 1, b: 2, nested: { x: 1, y: 2 } });
    const noop = await node.client.post('/upd/_update/1', { doc: { b: 2 } });
    expect(noop.body).toMatchObject({ result: 'noop', _version: 2, _shards: { total: 0, successful: 0, failed: 0 } });
    const forced = await node.client.post('/upd/_update/1', { doc: { b: 2 }, detect_noop: false });
    expect(forced.body.result).toBe('updated');
    const missing = await node.client.post('/upd/_update/2', { doc: { a: 1 } });
    expect(missing.status).toBe(404);
    expect(missing.body.error.type).toBe('document_missing_exception');
    const upserted = await node.client.post('/upd/_update/2', { doc: { a: 1 }, upsert: { a: 0, fresh: true } });
    expect(upserted.status).toBe(201);
    expect((await node.client.get('/upd/_source/2')).body).toEqual({ a: 0, fresh: true });
    const docAsUpsert = await node.client.post('/upd/_update/3', { doc: { c: 3 }, doc_as_upsert: true });
    expect(docAsUpsert.body.result).toBe('created');
    const withSource = await node.client.post('/upd/_update/3', { doc: { d: 4 }, _source: true });
    expect(withSource.body.get).toMatchObject({ found: true, _source: { c: 3, d: 4 } });
    const filtered = await node.client.post('/upd/_update/3?_source_includes=d', { doc: { e: 5 } });
    expect(filtered.body.get._source).toEqual({ d: 4 });
  });

  it('refuses scripts and answers retry_on_conflict', async () => {
    // Goal: a script is 400 illegal_argument "scripts are not supported yet".
    const script = await node.client.post('/upd/_update/1', { script: { source: 'ctx._source.a += 1' } });
    expect(script.status).toBe(400);
    expect(script.body.error).toMatchObject({ type: 'illegal_argument_exception', reason: 'scripts are not supported yet' });
    expect((await node.client.post('/upd/_update/1?retry_on_conflict=3', { doc: { z: 1 } })).status).toBe(200);
    const unknownField = await node.client.post('/upd/_update/1', { dock: { a: 1 } });
    expect(unknownField.status).toBe(400);
  });
});

describe('mget', () => {
  it('gets many docs with docs[] and ids[], per-doc errors and source filtering', async () => {
    // Goal: _mget's body forms and its per-document error entries.
    await node.client.put('/mg/_doc/1', { a: 1, b: 2 });
    await node.client.put('/mg/_doc/2', { a: 2 });
    const byDocs = await node.client.post('/_mget', {
      docs: [
        { _index: 'mg', _id: '1', _source: ['b'] },
        { _index: 'mg', _id: '404' },
        { _index: 'mg-missing', _id: '1' },
      ],
    });
    expect(byDocs.status).toBe(200);
    expect(byDocs.body.docs[0]).toMatchObject({ _index: 'mg', _id: '1', found: true, _source: { b: 2 } });
    expect(byDocs.body.docs[1]).toEqual({ _index: 'mg', _id: '404', found: false });
    expect(byDocs.body.docs[2].error.type).toBe('index_not_found_exception');
    const byIds = await node.client.post('/mg/_mget', { ids: ['2', '1'] });
    expect(byIds.body.docs.map((d: { _source: unknown }) => d._source)).toEqual([{ a: 2 }, { a: 1, b: 2 }]);
    const noIndex = await node.client.post('/_mget', { docs: [{ _id: '1' }] });
    expect(noIndex.status).toBe(400);
    expect(noIndex.body.error.type).toBe('action_request_validation_exception');
  });
});

describe('index creation and names', () => {
  it('auto-creates an index once under concurrent first writes', async () => {
    // Goal: 20 parallel first writes to a new index all succeed.
    const responses = await Promise.all(Array.from({ length: 20 }, (_, i) => node.client.put(`/racy/_doc/${i}`, { i })));
    for (const response of responses) expect(response.status).toBe(201);
    expect((await node.client.request('HEAD', '/racy')).status).toBe(200);
  });

  it('refuses bad index names with Elasticsearch’s reasons', async () => {
    // Goal: invalid_index_name_exception with the exact reason, on auto-create and on PUT /{index}.
    const cases: Array<[string, string]> = [
      ['Upper', 'must be lowercase'],
      ['_under', "must not start with '_', '-', or '+'"],
      ['-dash', "must not start with '_', '-', or '+'"],
      ['a%23b', "must not contain '#'"],
      ['a:b', "must not contain ':'"],
      ['a%2Ab', 'must not contain the following characters [ , ", *, \\, <, |, ,, >, /, ?]'],
      ['x'.repeat(256), 'index name is too long, (256 > 255)'],
    ];
    for (const [name, reason] of cases) {
      const response = await node.client.put(`/${name}/_doc/1`, { a: 1 });
      expect(response.status, name).toBe(400);
      expect(response.body.error.type, name).toBe('invalid_index_name_exception');
      expect(response.body.error.reason, name).toBe(`Invalid index name [${decodeURIComponent(name)}], ${reason}`);
    }
    const put = await node.client.put('/Upper', {});
    expect(put.body.error.reason).toBe('Invalid index name [Upper], must be lowercase');
  });

  it('refuses ids over 512 bytes', async () => {
    // Goal: illegal_argument_exception with Elasticsearch's message.
    const id = 'x'.repeat(513);
    const response = await node.client.put(`/ids/_doc/${id}`, { a: 1 });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ type: 'illegal_argument_exception', reason: `id [${id}] is too long, must be no longer than 512 bytes but was: 513` });
  });
});
