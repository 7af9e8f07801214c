/** Sequential, fully acknowledged writes for the crash tests that need a known state rather than a race. */
import { isDeepStrictEqual } from 'node:util';
import type { HttpClient } from '../helpers/index.js';

/** Creates an index with explicit settings (replicas 0, so a single node is green). */
export async function createIndex(http: HttpClient, index: string, settings: { shards?: number; refreshInterval?: string } = {}): Promise<void> {
  await http.json('PUT', `/${index}`, {
    settings: { number_of_shards: settings.shards ?? 1, number_of_replicas: 0, refresh_interval: settings.refreshInterval ?? '-1' },
  });
}

/**
 * Indexes `count` documents `<prefix>0..` (half one by one, half in one `_bulk`) and returns the
 * acknowledged sources by id; throws if any write is not acknowledged.
 */
export async function writeAcked(http: HttpClient, index: string, prefix: string, count: number): Promise<Map<string, Record<string, unknown>>> {
  const written = new Map<string, Record<string, unknown>>();
  const single = Math.ceil(count / 2);
  for (let i = 0; i < single; i++) {
    const id = `${prefix}${i}`;
    const doc = { id, n: i, text: `document ${id} about granite and quartz` };
    const response = await http.put(`/${index}/_doc/${id}`, doc);
    if (response.status !== 200 && response.status !== 201) throw new Error(`PUT /${index}/_doc/${id} answered ${response.status}: ${response.text}`);
    written.set(id, doc);
  }
  const lines: unknown[] = [];
  for (let i = single; i < count; i++) {
    const id = `${prefix}${i}`;
    const doc = { id, n: i, text: `bulk document ${id} about basalt` };
    lines.push({ index: { _index: index, _id: id } }, doc);
    written.set(id, doc);
  }
  if (lines.length > 0) {
    const response = await http.bulk('/_bulk', lines);
    const failed = (response.body?.items ?? []).filter((item: any) => !(item.index?.status >= 200 && item.index?.status < 300));
    if (response.status !== 200 || response.body?.errors !== false || failed.length > 0) {
      throw new Error(`_bulk into ${index} was not fully acknowledged (${response.status}): ${response.text.slice(0, 1000)}`);
    }
  }
  return written;
}

/** GETs every expected id and returns one message per difference (missing, wrong source, error answer). */
export async function missingOrWrong(http: HttpClient, index: string, expected: Map<string, Record<string, unknown>>): Promise<string[]> {
  const problems: string[] = [];
  for (const [id, source] of expected) {
    const response = await http.get(`/${index}/_doc/${id}`, { retryNetworkErrors: 2 });
    if (response.status !== 200 || response.body?.found !== true) {
      problems.push(`${index}/${id}: expected the acknowledged document, GET answered ${response.status} ${response.text.slice(0, 200)}`);
    } else if (!isDeepStrictEqual(response.body._source, source)) {
      problems.push(`${index}/${id}: _source ${JSON.stringify(response.body._source)} differs from acknowledged ${JSON.stringify(source)}`);
    }
  }
  return problems;
}
