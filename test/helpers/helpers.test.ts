/**
 * The test helpers themselves: polling reports what it waited for, ports are free, the HTTP client
 * reports absent responses as NetworkError, and seeded randomness replays.
 */
import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import { freePort, HttpClient, NetworkError, pollUntil, SeededRandom } from './index.js';

describe('pollUntil', () => {
  it('returns the first truthy value', async () => {
    // Goal: the condition's value comes back, after the falsy attempts.
    let attempts = 0;
    const value = await pollUntil(() => (++attempts >= 3 ? { attempts } : undefined), { timeoutMs: 2000, intervalMs: 1 });
    expect(value).toEqual({ attempts: 3 });
  });

  it('names the awaited condition and the last value or error on timeout', async () => {
    // Goal: a timeout message must explain itself.
    await expect(pollUntil(() => false, { timeoutMs: 50, intervalMs: 5, description: 'green' })).rejects.toThrow(/waiting for green; last value: false/);
    await expect(
      pollUntil(
        () => {
          throw new Error('connection refused');
        },
        { timeoutMs: 50, intervalMs: 5 },
      ),
    ).rejects.toThrow(/last error: Error: connection refused/);
  });
});

describe('freePort and HttpClient', () => {
  it('talks JSON to a real server and reports a refused connection as NetworkError', async () => {
    // Goal: the client parses JSON answers, and distinguishes "no response" from an HTTP error status.
    const port = await freePort();
    const server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        response.writeHead(request.url === '/missing' ? 404 : 200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ method: request.method, contentType: request.headers['content-type'], body }));
      });
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    try {
      const client = new HttpClient(`http://127.0.0.1:${port}`);
      const put = await client.put('/i/_doc/1', { a: 1 });
      expect(put).toMatchObject({ status: 200, body: { method: 'PUT', contentType: 'application/json', body: '{"a":1}' } });
      const bulk = await client.bulk('/_bulk', [{ index: { _id: '1' } }, { a: 1 }]);
      expect(bulk.body.body).toBe('{"index":{"_id":"1"}}\n{"a":1}\n');
      expect(bulk.body.contentType).toBe('application/x-ndjson');
      expect((await client.get('/missing')).status).toBe(404);
      await expect(client.json('GET', '/missing')).rejects.toThrow(/answered 404/);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    await expect(new HttpClient(`http://127.0.0.1:${port}`).get('/')).rejects.toBeInstanceOf(NetworkError);
  });
});

describe('SeededRandom', () => {
  it('replays the same sequence for the same seed', () => {
    // Goal: a printed seed reproduces a randomized test's choices.
    const a = new SeededRandom(42);
    const b = new SeededRandom(42);
    const sequence = Array.from({ length: 20 }, () => a.int(0, 1000));
    expect(Array.from({ length: 20 }, () => b.int(0, 1000))).toEqual(sequence);
    expect(new Set(sequence).size).toBeGreaterThan(10);
  });
});
