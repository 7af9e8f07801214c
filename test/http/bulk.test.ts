/**
 * `_bulk` on a real node: every action type, per-item results and errors in request order, the
 * default index of `/{index}/_bulk`, whole-request 400s for malformed action lines, bodies without a
 * final newline, CRLF lines, and sources stored as the exact line bytes.
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

describe('bulk', () => {
  it('runs index/create/update/delete and reports each item in order', async () => {
    // Goal: the response lists one entry per action with Elasticsearch's fields and statuses.
    const response = await node.client.bulk('/_bulk?refresh=true', [
      { index: { _index: 'bulk1', _id: '1' } },
      { title: 'one' },
      { create: { _index: 'bulk1', _id: '2' } },
      { title: 'two' },
      { update: { _index: 'bulk1', _id: '1' } },
      { doc: { extra: true } },
      { delete: { _index: 'bulk1', _id: '2' } },
      { index: { _index: 'bulk1' } },
      { title: 'auto id' },
    ]);
    expect(response.status).toBe(200);
    expect(response.body.errors).toBe(false);
    expect(response.body.took).toEqual(expect.any(Number));
    expect(Object.keys(response.body)).toEqual(['errors', 'took', 'items']);
    const items = response.body.items;
    expect(items.map((item: object) => Object.keys(item)[0])).toEqual(['index', 'create', 'update', 'delete', 'index']);
    expect(items[0].index).toMatchObject({ _index: 'bulk1', _id: '1', _version: 1, result: 'created', status: 201, _shards: { total: 2, successful: 1, failed: 0 }, _primary_term: 1 });
    expect(items[1].create).toMatchObject({ result: 'created', status: 201 });
    expect(items[2].update).toMatchObject({ result: 'updated', status: 200, _version: 2 });
    expect(items[3].delete).toMatchObject({ result: 'deleted', status: 200 });
    expect(items[4].index._id).toMatch(/^[A-Za-z0-9_-]{20}$/);
    expect((await node.client.get('/bulk1/_source/1')).body).toEqual({ title: 'one', extra: true });
    expect((await node.client.post('/bulk1/_count')).body.count).toBe(2);
  });

  it('fails bad items alone: conflicts, bad documents, long ids, missing docs, bad index names', async () => {
    // Goal: errors is true, failed items carry status and error, the other items succeed.
    await node.client.put('/bulk2/_doc/exists', { a: 1 });
    const longId = 'y'.repeat(513);
    const response = await node.client.bulk('/bulk2/_bulk', [
      { create: { _id: 'exists' } },
      { a: 2 },
      { index: { _id: 'ok1' } },
      { a: 3 },
      { index: { _id: 'array' } },
      '[1, 2]',
      { index: { _id: 'broken' } },
      '{"a": }',
      { index: { _id: longId } },
      { a: 4 },
      { update: { _id: 'missing' } },
      { doc: { a: 5 } },
      { update: { _id: 'ok1' } },
      { script: { source: 'ctx._source.a++' } },
      { index: { _index: 'Bad', _id: '1' } },
      { a: 6 },
      { delete: { _index: 'bulk2-missing', _id: '1' } },
      { index: { _id: 'ok2', if_seq_no: 999, if_primary_term: 1 } },
      { a: 7 },
      { index: { _id: 'ok3' } },
      { a: 8 },
    ]);
    expect(response.status).toBe(200);
    expect(response.body.errors).toBe(true);
    const byPosition = response.body.items.map((item: Record<string, { status: number; error?: { type: string; reason: string } }>) => Object.values(item)[0]);
    expect(byPosition.map((item: { status: number }) => item.status)).toEqual([409, 201, 400, 400, 400, 404, 400, 400, 404, 409, 201]);
    expect(byPosition[0].error.type).toBe('version_conflict_engine_exception');
    expect(byPosition[2].error.type).toBe('document_parsing_exception');
    expect(byPosition[3].error.type).toBe('document_parsing_exception');
    expect(byPosition[4].error).toMatchObject({ type: 'illegal_argument_exception', reason: `id [${longId}] is too long, must be no longer than 512 bytes but was: 513` });
    expect(byPosition[5].error.type).toBe('document_missing_exception');
    expect(byPosition[6].error.reason).toBe('scripts are not supported yet');
    expect(byPosition[7].error).toMatchObject({ type: 'invalid_index_name_exception', reason: 'Invalid index name [Bad], must be lowercase' });
    expect(byPosition[8].error.type).toBe('index_not_found_exception');
    expect(byPosition[9].error.type).toBe('version_conflict_engine_exception');
    expect((await node.client.get('/bulk2/_source/ok3')).body).toEqual({ a: 8 });
  });

  it('answers 400 for malformed action lines, as Elasticsearch does', async () => {
    // Goal: the whole request is refused with Elasticsearch's messages; nothing is written.
    const cases: Array<[string, string, string]> = [
      ['"just a string"\n', 'illegal_argument_exception', 'Malformed action/metadata line [1], expected START_OBJECT but found [VALUE_STRING]'],
      ['{"index":{"_index":"bulk3"}}\n{"a":1}\n{"explode":{}}\n{}\n', 'illegal_argument_exception', 'Malformed action/metadata line [3], expected field [create], [delete], [index] or [update] but found [explode]'],
      ['{"index":{"_index":"bulk3","colour":"red"}}\n{}\n', 'illegal_argument_exception', 'Action/metadata line [1] contains an unknown parameter [colour]'],
      ['{"index":{"_index":{"a":1}}}\n{}\n', 'illegal_argument_exception', 'Malformed action/metadata line [1], expected a simple value for field [_index] but found [START_OBJECT]'],
      ['{"index":\n', 'x_content_parse_exception', ''],
      ['', 'action_request_validation_exception', 'Validation Failed: 1: no requests added;'],
      ['{"index":{}}\n{"a":1}\n', 'action_request_validation_exception', 'Validation Failed: 1: index is missing;'],
    ];
    for (const [body, type, reason] of cases) {
      const response = await node.client.request('POST', '/_bulk', body, { headers: { 'content-type': 'application/x-ndjson' } });
      expect(response.status, body).toBe(400);
      expect(response.body.error.type, body).toBe(type);
      if (reason) expect(response.body.error.reason, body).toBe(reason);
    }
    expect((await node.client.request('HEAD', '/bulk3')).status).toBe(404);
  });

  it('accepts a body without a final newline, CRLF line ends and blank lines, storing exact line bytes', async () => {
    // Goal: the line's bytes (without CR/LF) are the stored _source.
    const source = '{ "spaced" :  true }';
    const body = `{"index":{"_index":"bulk4","_id":"1"}}\r\n${source}\r\n\n{"index":{"_index":"bulk4","_id":"2"}}\n${source}`;
    const response = await node.client.request('POST', '/_bulk', body, { headers: { 'content-type': 'application/x-ndjson' } });
    expect(response.status).toBe(200);
    expect(response.body.errors).toBe(false);
    expect((await node.client.get('/bulk4/_source/1')).text).toBe(source);
    expect((await node.client.get('/bulk4/_source/2')).text).toBe(source);
  });

  it('honours routing, versions and pipelines per item', async () => {
    // Goal: action-line routing reaches the right shard; a pipeline fails its item only.
    await node.client.put('/bulk5', { settings: { number_of_shards: 3 } });
    const response = await node.client.bulk('/bulk5/_bulk', [
      { index: { _id: '1', routing: 'r1' } },
      { a: 1 },
      { index: { _id: '2', version: 7, version_type: 'external' } },
      { a: 2 },
      { index: { _id: '3', pipeline: 'nope' } },
      { a: 3 },
      { index: { _id: '4', version: 7 } },
      { a: 4 },
    ]);
    const items = response.body.items.map((item: Record<string, { status: number; _version?: number }>) => item.index);
    expect(items[0].status).toBe(201);
    expect(items[1]).toMatchObject({ status: 201, _version: 7 });
    expect(items[2].status).toBe(400);
    expect(items[3].status).toBe(400);
    expect((await node.client.get('/bulk5/_doc/1?routing=r1')).body.found).toBe(true);
  });

  it('indexes a larger batch across shards and reads every doc back', async () => {
    // Goal: 2 000 items over 4 shards come back in order and are all retrievable.
    await node.client.put('/bulk6', { settings: { number_of_shards: 4 } });
    const lines: unknown[] = [];
    for (let i = 0; i < 2000; i++) lines.push({ index: { _id: String(i) } }, { i, text: `doc ${i}` });
    const response = await node.client.bulk('/bulk6/_bulk?refresh=true', lines);
    expect(response.body.errors).toBe(false);
    expect(response.body.items.map((item: { index: { _id: string } }) => item.index._id)).toEqual(Array.from({ length: 2000 }, (_, i) => String(i)));
    expect((await node.client.get('/bulk6/_count')).body).toMatchObject({ count: 2000, _shards: { total: 4, successful: 4 } });
  });
});
