/**
 * `_search` and `_count` on a real node (the minimal query set of this issue): fan-out over shards,
 * merge order, from/size paging and the result-window limit, `_source` options, totals, seq_no and
 * version in hits, multi-index expressions, query parsing errors with positions, `?q=`, and the 400 for
 * query types the shards cannot run yet.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from './node.js';

let node: TestNode;
const DOC_COUNT = 60;

beforeAll(async () => {
  node = await startTestNode();
  await node.client.json('PUT', '/books', {
    settings: { number_of_shards: 3 },
    mappings: { properties: { tag: { type: 'keyword' }, year: { type: 'long' }, title: { type: 'text' } } },
  });
  const lines: unknown[] = [];
  for (let i = 0; i < DOC_COUNT; i++) {
    lines.push({ index: { _id: String(i) } }, { tag: i % 3 === 0 ? 'fizz' : 'other', year: 2000 + (i % 5), title: `book ${i}` });
  }
  const bulk = await node.client.bulk('/books/_bulk?refresh=true', lines);
  expect(bulk.body.errors).toBe(false);
  await node.client.json('PUT', '/papers/_doc/p1?refresh=true', { tag: 'fizz', year: 1999 });
});
afterAll(async () => {
  await node?.close();
});

describe('search', () => {
  it('matches all documents across shards with Elasticsearch’s response shape', async () => {
    // Goal: took/timed_out/_shards/hits with totals, scores of 1.0 and _source.
    const response = await node.client.post('/books/_search', { query: { match_all: {} } });
    expect(response.status).toBe(200);
    expect(Object.keys(response.body)).toEqual(['took', 'timed_out', '_shards', 'hits']);
    expect(response.body._shards).toEqual({ total: 3, successful: 3, skipped: 0, failed: 0 });
    expect(response.body.hits.total).toEqual({ value: DOC_COUNT, relation: 'eq' });
    expect(response.body.hits.max_score).toBe(1);
    expect(response.body.hits.hits).toHaveLength(10);
    expect(response.text).toContain('"_score":1.0');
    const hit = response.body.hits.hits[0];
    expect(Object.keys(hit)).toEqual(['_index', '_id', '_score', '_source']);
    expect(hit._index).toBe('books');
    expect(hit._source.title).toBe(`book ${hit._id}`);
  });

  it('pages with from/size without duplicates or gaps', async () => {
    // Goal: the merge is deterministic, so consecutive pages partition the whole result.
    const seen: string[] = [];
    for (let from = 0; from < DOC_COUNT; from += 7) {
      const page = await node.client.post('/books/_search', { from, size: 7, query: { match_all: {} } });
      seen.push(...page.body.hits.hits.map((h: { _id: string }) => h._id));
    }
    expect(seen).toHaveLength(DOC_COUNT);
    expect(new Set(seen).size).toBe(DOC_COUNT);
    const again = await node.client.get('/books/_search?from=7&size=7');
    expect(again.body.hits.hits.map((h: { _id: string }) => h._id)).toEqual(seen.slice(7, 14));
  });

  it('runs term, terms, ids and bool queries', async () => {
    // Goal: each supported query selects the expected documents.
    const count = async (query: unknown) => (await node.client.post('/books/_search', { query, size: 100 })).body.hits.total.value;
    expect(await count({ term: { tag: 'fizz' } })).toBe(20);
    expect(await count({ term: { tag: { value: 'fizz', boost: 2 } } })).toBe(20);
    expect(await count({ terms: { year: [2000, 2001] } })).toBe(24);
    expect(await count({ ids: { values: ['1', '2', 'nope'] } })).toBe(2);
    expect(await count({ match_none: {} })).toBe(0);
    expect(await count({ bool: { filter: [{ term: { tag: 'fizz' } }], must_not: [{ term: { year: 2000 } }] } })).toBe(16);
    expect(await count({ bool: { should: [{ term: { tag: 'fizz' } }, { term: { year: 2001 } }], minimum_should_match: 2 } })).toBe(4);
    const boosted = await node.client.post('/books/_search', { query: { term: { tag: { value: 'fizz', boost: 2 } } }, size: 1 });
    const plain = await node.client.post('/books/_search', { query: { term: { tag: 'fizz' } }, size: 1 });
    expect(boosted.body.hits.max_score).toBeCloseTo(plain.body.hits.max_score * 2, 4);
  });

  it('honours _source, track_total_hits, seq_no_primary_term and version', async () => {
    // Goal: the hit options and totals behave as in Elasticsearch.
    const noSource = await node.client.post('/books/_search', { _source: false, size: 1 });
    expect(noSource.body.hits.hits[0]._source).toBeUndefined();
    const filtered = await node.client.post('/books/_search', { _source: ['tag'], size: 1 });
    expect(Object.keys(filtered.body.hits.hits[0]._source)).toEqual(['tag']);
    const untracked = await node.client.post('/books/_search', { track_total_hits: false, size: 1 });
    expect(untracked.body.hits.total).toBeUndefined();
    const capped = await node.client.post('/books/_search', { track_total_hits: 10, size: 1 });
    expect(capped.body.hits.total).toEqual({ value: 10, relation: 'gte' });
    const exact = await node.client.get('/books/_search?track_total_hits=true&size=0');
    expect(exact.body.hits.total).toEqual({ value: DOC_COUNT, relation: 'eq' });
    expect(exact.body.hits.hits).toEqual([]);
    const asInt = await node.client.get('/books/_search?rest_total_hits_as_int=true&size=0');
    expect(asInt.body.hits.total).toBe(DOC_COUNT);
    const meta = await node.client.post('/books/_search', { seq_no_primary_term: true, version: true, size: 1 });
    expect(meta.body.hits.hits[0]).toMatchObject({ _version: 1, _seq_no: expect.any(Number), _primary_term: 1 });
  });

  it('searches several indices by list, wildcard and _all', async () => {
    // Goal: index expressions resolve to concrete indices; hits name their index.
    const both = await node.client.post('/books,papers/_search', { query: { term: { tag: 'fizz' } } });
    expect(both.body.hits.total.value).toBe(21);
    expect(both.body._shards.total).toBe(4);
    expect((await node.client.post('/pap*/_search', {})).body.hits.hits[0]._index).toBe('papers');
    expect((await node.client.post('/_search', { query: { ids: { values: ['p1'] } } })).body.hits.total.value).toBe(1);
    expect((await node.client.post('/nomatch*/_search', {})).body.hits.total.value).toBe(0);
    const missing = await node.client.post('/books,absent/_search', {});
    expect(missing.status).toBe(404);
    expect(missing.body.error.type).toBe('index_not_found_exception');
  });

  it('refuses from+size over max_result_window with Elasticsearch’s reason', async () => {
    // Goal: 400, root cause illegal_argument_exception "Result window is too large...".
    const response = await node.client.post('/books/_search', { from: 9995, size: 10 });
    expect(response.status).toBe(400);
    expect(response.body.error.root_cause[0]).toMatchObject({ type: 'illegal_argument_exception' });
    expect(response.body.error.root_cause[0].reason).toBe(
      'Result window is too large, from + size must be less than or equal to: [10000] but was [10005]. See the scroll api for a more efficient way to request large data sets. This limit can be set by changing the [index.max_result_window] index level setting.',
    );
    expect((await node.client.get('/books/_search?size=-1')).status).toBe(400);
  });

  it('answers parsing_exception for unknown queries, with line and col', async () => {
    // Goal: "unknown query [x]" with the position of the key; unknown top-level keys are refused.
    const response = await node.client.post('/books/_search', '{\n  "query": {\n    "frobnicate": {}\n  }\n}');
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ type: 'parsing_exception', reason: 'unknown query [frobnicate]', line: 3, col: 5 });
    const twoQueries = await node.client.post('/books/_search', { query: { match_all: {}, term: { a: 1 } } });
    expect(twoQueries.status).toBe(400);
    expect(twoQueries.body.error.type).toBe('parsing_exception');
    const topLevel = await node.client.post('/books/_search', { qeury: {} });
    expect(topLevel.status).toBe(400);
    expect(topLevel.body.error.type).toBe('parsing_exception');
  });
  it('parses the whole DSL but answers query_shard_exception for queries shards cannot run yet', async () => {
    // Goal: a valid match/range/query_string (body or ?q=) is a 400 naming the query type; a bad one
    // inside bool is x_content_parse_exception whose root cause is the inner parsing_exception.
    const match = await node.client.post('/books/_search', { query: { bool: { must: { match: { title: 'book' } } } } });
    expect(match.status).toBe(400);
    expect(match.body.error).toMatchObject({ type: 'query_shard_exception', reason: 'query [match] is not supported yet (supported: match_all, match_none, ids, term, terms, bool)' });
    const uri = await node.client.get('/books/_search?q=title:book&df=title&default_operator=AND');
    expect(uri.status).toBe(400);
    expect(uri.body.error).toMatchObject({ type: 'query_shard_exception', reason: expect.stringContaining('query [query_string] is not supported yet') });
    const badSyntax = await node.client.get('/books/_count?q=' + encodeURIComponent('title:(a OR'));
    expect(badSyntax.status).toBe(400);
    expect(badSyntax.body.error).toMatchObject({ type: 'query_shard_exception', reason: 'Failed to parse query [title:(a OR]', caused_by: { type: 'parse_exception' } });
    const nested = await node.client.post('/books/_search', '{"query":{"bool":{"filter":[{"term":{"tag":"fizz"}},{"nope":{}}]}}}');
    expect(nested.status).toBe(400);
    expect(nested.body.error).toMatchObject({ type: 'x_content_parse_exception', reason: '[1:19] [bool] failed to parse field [filter]' });
    expect(nested.body.error.root_cause).toEqual([{ type: 'parsing_exception', reason: 'unknown query [nope]', line: 1, col: 54 }]);
    const msm = await node.client.post('/books/_count', { query: { bool: { should: [{ term: { tag: 'fizz' } }], minimum_should_match: '3<90%' } } });
    expect(msm.body.count).toBe(20);
  });
});

describe('count', () => {
  it('counts with and without a query, over shards', async () => {
    // Goal: _count's shape and numbers.
    expect((await node.client.get('/books/_count')).body).toEqual({ count: DOC_COUNT, _shards: { total: 3, successful: 3, skipped: 0, failed: 0 } });
    expect((await node.client.post('/books/_count', { query: { term: { tag: 'fizz' } } })).body.count).toBe(20);
    expect((await node.client.post('/_count', { query: { term: { tag: 'fizz' } } })).body.count).toBe(21);
    expect((await node.client.post('/books/_count', { query: { nope: {} } })).status).toBe(400);
  });
});
