/**
 * REST basics on a real node: the banner, headers on every answer, routing errors (400/405/unknown
 * parameters), request bodies (gzip, deflate, 413 by Content-Length and while streaming, malformed
 * JSON, prototype-poisoning keys), and that a bad request never takes the node down.
 */
import { request as httpRequest } from 'node:http';
import { deflateSync, gzipSync } from 'node:zlib';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode } from '../../bin/node.js';
import { tempDir } from '../helpers/fs.js';
import { pollUntil } from '../helpers/poll.js';
import { startTestNode, type TestNode } from './node.js';

let node: TestNode;
beforeAll(async () => {
  node = await startTestNode();
});
afterAll(async () => {
  await node?.close();
});

/** Sends raw bytes with the given headers (fetch cannot lie about Content-Length). */
function rawRequest(url: string, method: string, path: string, headers: Record<string, string | number>, body?: Buffer, end = true): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const target = new URL(path, url);
    const req = httpRequest({ host: target.hostname, port: target.port, path: target.pathname + target.search, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers });
        req.destroy();
      });
    });
    req.on('error', reject);
    if (body) req.write(body);
    if (end) req.end();
  });
}

describe('banner and headers', () => {
  it('answers GET / with Elasticsearch 8.15 banner and HEAD / with 200', async () => {
    // Goal: clients that sniff the banner and the product header accept us as Elasticsearch 8.
    const response = await node.client.get('/');
    expect(response.status).toBe(200);
    expect(response.headers.get('x-elastic-product')).toBe('Elasticsearch');
    expect(response.headers.get('content-type')).toBe('application/json; charset=UTF-8');
    expect(response.body).toMatchObject({
      name: 'http-test',
      cluster_name: expect.any(String),
      cluster_uuid: expect.any(String),
      version: { number: '8.15.0', build_flavor: 'default', build_snapshot: false, lucene_version: '9.11.1' },
      tagline: 'You Know, for Search',
    });
    expect(response.body.version.minimum_wire_compatibility_version).toEqual(expect.any(String));
    const head = await node.client.request('HEAD', '/');
    expect(head.status).toBe(200);
    expect(head.text).toBe('');
  });

  it('puts the product header on errors too', async () => {
    // Goal: even a 400 for an unknown URL carries X-Elastic-Product and the JSON content type.
    const response = await node.client.get('/x/y/z');
    expect(response.status).toBe(400);
    expect(response.headers.get('x-elastic-product')).toBe('Elasticsearch');
    expect(response.headers.get('content-type')).toBe('application/json; charset=UTF-8');
    expect(response.body).toEqual({ error: 'no handler found for uri [/x/y/z] and method [GET]', status: 400 });
  });
});

describe('routing errors', () => {
  it('answers 405 for a known path with the wrong method, listing the allowed ones', async () => {
    // Goal: Elasticsearch's flat 405 body and an Allow header.
    const response = await node.client.request('DELETE', '/some-index/_search?size=1');
    expect(response.status).toBe(405);
    expect(response.body.status).toBe(405);
    expect(response.body.error).toMatch(/^Incorrect HTTP method for uri \[\/some-index\/_search\?size=1\] and method \[DELETE\], allowed: \[/);
    expect(response.body.error).toContain('POST');
    expect(response.headers.get('allow')).toContain('GET');
  });

  it('rejects unknown query parameters with a suggestion', async () => {
    // Goal: a typo is an error, not silently ignored.
    const response = await node.client.put('/params-idx/_doc/1?refersh=true', { a: 1 });
    expect(response.status).toBe(400);
    expect(response.body.error.type).toBe('illegal_argument_exception');
    expect(response.body.error.reason).toBe('request [/params-idx/_doc/1] contains unrecognized parameter: [refersh] -> did you mean [refresh]?');
  });

  it('supports ?pretty', async () => {
    // Goal: pretty output is indented JSON with the same content.
    const response = await node.client.get('/?pretty');
    expect(response.text).toContain('\n  "tagline": "You Know, for Search"');
  });
});

describe('request bodies', () => {
  it('accepts gzip and deflate bodies and stores the decompressed bytes', async () => {
    // Goal: Content-Encoding is honoured for single docs and bulk; _source is the decompressed text.
    const doc = '{"greeting":"hello",  "n": 1}';
    const gz = await fetch(`${node.url}/enc/_doc/1`, { method: 'PUT', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: gzipSync(doc) });
    expect(gz.status).toBe(201);
    const zlibDeflate = await fetch(`${node.url}/enc/_doc/2`, { method: 'PUT', headers: { 'content-type': 'application/json', 'content-encoding': 'deflate' }, body: deflateSync(doc) });
    expect(zlibDeflate.status).toBe(201);
    const bulk = gzipSync('{"index":{"_index":"enc","_id":"3"}}\n' + doc + '\n');
    const bulkResponse = await fetch(`${node.url}/_bulk`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' }, body: bulk });
    expect(((await bulkResponse.json()) as { errors: boolean }).errors).toBe(false);
    for (const id of ['1', '2', '3']) {
      const source = await fetch(`${node.url}/enc/_source/${id}`);
      expect(await source.text()).toBe(doc);
    }
  });

  it('answers 413 when Content-Length exceeds the limit, before reading the body', async () => {
    // Goal: a client announcing 200 MB is refused at once (the body is never sent here).
    const response = await rawRequest(node.url, 'PUT', '/big/_doc/1', { 'content-type': 'application/json', 'content-length': 200 * 1024 * 1024 }, Buffer.from('{"a":'), false);
    expect(response.status).toBe(413);
    expect(JSON.parse(response.body).error.type).toBe('content_too_long_exception');
    expect(response.headers['x-elastic-product']).toBe('Elasticsearch');
  });

  it('answers 413 for a gzip body that inflates past the limit (counted while decompressing)', async () => {
    // Goal: a 100 KB gzip bomb of 101 MB of spaces is refused without the node holding it all.
    const bomb = gzipSync(Buffer.alloc(101 * 1024 * 1024, 0x20));
    const response = await fetch(`${node.url}/bomb/_doc/1`, { method: 'PUT', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: bomb });
    expect(response.status).toBe(413);
    const health = await node.client.get('/');
    expect(health.status).toBe(200);
  });

  it('answers 413 for a chunked body that grows past the limit while streaming', async () => {
    // Goal: without Content-Length the byte count while streaming enforces the cap (101 MB chunked).
    const chunk = Buffer.alloc(1024 * 1024, 0x20);
    const response = await new Promise<number>((resolve, reject) => {
      const target = new URL('/stream/_doc/1', node.url);
      const req = httpRequest({ host: target.hostname, port: target.port, path: target.pathname, method: 'PUT', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      req.on('error', (error) => reject(error));
      let sent = 0;
      const pump = (): void => {
        while (sent < 101) {
          sent++;
          if (!req.write(chunk)) {
            req.once('drain', pump);
            return;
          }
        }
        req.end();
      };
      pump();
    }).catch((error: NodeJS.ErrnoException) => {
      // The node may close the socket while we still write: that is a refusal too, but we want the status.
      throw new Error(`no status received: ${error.code ?? error.message}`);
    });
    expect(response).toBe(413);
    expect((await node.client.get('/')).status).toBe(200);
  });

  it('answers malformed JSON with x_content_parse_exception / document_parsing_exception and a position', async () => {
    // Goal: the reason names line and column; documents and request bodies get Elasticsearch's types.
    const doc = await node.client.put('/badjson/_doc/1', '{"a": }');
    expect(doc.status).toBe(400);
    expect(doc.body.error.type).toBe('document_parsing_exception');
    expect(doc.body.error.reason).toMatch(/^\[1:7\] failed to parse: Unexpected character/);
    const search = await node.client.post('/_search', '{"query": {"match_all": {}');
    expect(search.status).toBe(400);
    expect(search.body.error.type).toBe('x_content_parse_exception');
    expect(search.body.error.reason).toMatch(/^\[1:\d+\] Unexpected end-of-input/);
  });

  it('refuses documents that are not JSON objects', async () => {
    // Goal: arrays, strings and numbers are 400 document_parsing_exception; an empty body is 400 too.
    for (const body of ['[1,2]', '"text"', '42']) {
      const response = await node.client.put('/notobj/_doc/1', body);
      expect(response.status, body).toBe(400);
      expect(response.body.error.type).toBe('document_parsing_exception');
    }
    const empty = await node.client.request('PUT', '/notobj/_doc/1', undefined);
    expect(empty.status).toBe(400);
  });

  it('refuses __proto__ keys (prototype poisoning) and keeps Object.prototype clean', async () => {
    // Goal: a poisoning attempt in a document, an update and a search body is a 400, and a
    // "constructor" field name stays an ordinary field.
    const attempts: Array<[string, string, string]> = [
      ['PUT', '/proto/_doc/1', '{"a":1,"__proto__":{"polluted":true}}'],
      ['POST', '/proto/_update/1', '{"doc":{"__proto__":{"polluted":true}}}'],
      ['POST', '/proto/_search', '{"query":{"match_all":{}},"constructor":{"prototype":{"polluted":true}}}'],
    ];
    for (const [method, path, body] of attempts) {
      const response = await node.client.request(method, path, body);
      expect(response.status, path).toBe(400);
      expect(response.body.error.reason).toContain('prototype poisoning');
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const bulk = await node.client.bulk('/_bulk', ['{"index":{"_index":"proto","_id":"2"}}', '{"__proto__":{"polluted":true}}']);
    expect(bulk.status).toBe(200);
    expect(bulk.body.items[0].index.status).toBe(400);
    // Spelled with escapes, in a body whose other lines are clean (bulk screens whole bodies).
    const escaped = await node.client.bulk('/_bulk', [
      '{"index":{"_index":"proto","_id":"4"}}',
      '{"ok":1}',
      '{"index":{"_index":"proto","_id":"5"}}',
      '{"\\u005f_proto__":{"polluted":true}}',
    ]);
    expect(escaped.status).toBe(200);
    expect(escaped.body.items.map((item: { index: { status: number } }) => item.index.status)).toEqual([201, 400]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const plain = await node.client.put('/proto/_doc/3?refresh=true', { constructor: 'fine' });
    expect(plain.status).toBe(201);
    expect((await node.client.get('/proto/_source/3')).body).toEqual({ constructor: 'fine' });
  });

  it('keeps serving after many bad requests', async () => {
    // Goal: a burst of malformed requests of every kind leaves the node healthy.
    const bad = await Promise.all([
      node.client.put('/bad/_doc/1', '{'),
      node.client.post('/_bulk', '{"index":\n'),
      node.client.post('/bad/_search', '{"query":{"nope":{}}}'),
      node.client.get('/%E0%A4%A/_doc/1'),
      node.client.put('/_bad', {}),
      node.client.request('PATCH', '/bad'),
    ]);
    for (const response of bad) expect(response.status).toBeGreaterThanOrEqual(400);
    for (const response of bad) expect(response.status).toBeLessThan(500);
    expect((await node.client.get('/')).status).toBe(200);
  });
});

describe('logging', () => {
  it('logs one debug line per request with method, path, status and tookMs, and rejections at warn', async () => {
    // Goal: the request log carries what an operator needs, through the node's own pino logger.
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line));
        done();
      },
    });
    const logged = await startNode({ dataPath: tempDir('quarry-http-log-'), port: 0, name: 'log-test', logger: pino({ level: 'debug' }, sink) });
    try {
      await fetch(`${logged.url}/?pretty`);
      await fetch(`${logged.url}/Bad-Name/_doc/1`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{}' });
      const requestLine = await pollUntil(() => lines.find((l) => l.msg === 'request' && l.path === '/'), { description: 'the request log line' });
      expect(requestLine).toMatchObject({ level: 20, method: 'GET', status: 200, tookMs: expect.any(Number) });
      const rejected = await pollUntil(() => lines.find((l) => l.msg === 'request rejected'), { description: 'the rejection log line' });
      expect(rejected).toMatchObject({ level: 40, status: 400, type: 'invalid_index_name_exception' });
    } finally {
      await logged.close();
    }
  });
});
