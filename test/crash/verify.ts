/** Checks a restarted node against a `WriteHistory`: real-time GET of every id, then `_count` and `_search` after `_refresh`. */
import { isDeepStrictEqual } from 'node:util';
import { pollUntil, type HttpClient } from '../helpers/index.js';
import { docKey, type ObservedDoc, type WriteHistory } from './history.js';

/** The outcome of one verification pass. */
export interface VerifyResult {
  observed: Map<string, ObservedDoc>;
  violations: string[];
  foundCount: number;
}

/** Waits until every index reports health green (a single node with 0 replicas), i.e. its shards recovered. */
export async function waitForGreen(http: HttpClient, indices: readonly string[], timeoutMs = 30_000): Promise<void> {
  await pollUntil(
    async () => {
      const response = await http.get(`/_cluster/health/${indices.join(',')}`, { timeoutMs: 5000 });
      return response.status === 200 && response.body?.status === 'green' ? true : { status: response.status, body: response.text.slice(0, 500) };
    },
    { timeoutMs, intervalMs: 100, description: `health green for ${indices.join(',')}` },
  );
}

/** GETs every id the history knows and checks each against the model, then cross-checks `_count` and `_search`. */
export async function verifyAgainstHistory(http: HttpClient, history: WriteHistory, indices: readonly string[]): Promise<VerifyResult> {
  const observed = new Map<string, ObservedDoc>();
  const violations: string[] = [...history.violations];
  history.violations.length = 0;
  const keys = history.keys();
  const concurrency = 8;
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < keys.length) {
        const key = keys[next++]!;
        const slash = key.indexOf('/');
        const index = key.slice(0, slash);
        const id = key.slice(slash + 1);
        const response = await http.get(`/${index}/_doc/${encodeURIComponent(id)}`, { retryNetworkErrors: 2 });
        let doc: ObservedDoc;
        if (response.status === 200 && response.body?.found === true) {
          doc = { found: true, source: response.body._source, version: response.body._version, seqNo: response.body._seq_no };
        } else if (response.status === 404 && response.body?.found === false) {
          doc = { found: false };
        } else {
          violations.push(`GET ${key} answered ${response.status}: ${response.text.slice(0, 300)}`);
          continue;
        }
        observed.set(key, doc);
        const problem = history.check(key, doc);
        if (problem) violations.push(problem);
      }
    }),
  );

  for (const index of indices) {
    const refresh = await http.post(`/${index}/_refresh`);
    if (refresh.status !== 200) violations.push(`POST /${index}/_refresh answered ${refresh.status}: ${refresh.text.slice(0, 300)}`);
    const foundIds = new Map<string, ObservedDoc>();
    for (const [key, doc] of observed) {
      if (doc.found && key.startsWith(`${index}/`)) foundIds.set(key.slice(index.length + 1), doc);
    }
    const count = await http.get(`/${index}/_count`);
    if (count.status !== 200 || count.body?.count !== foundIds.size) {
      violations.push(`GET /${index}/_count after _refresh answered ${count.status} ${count.text.slice(0, 200)}; real-time GETs found ${foundIds.size} docs`);
    }
    const search = await http.post(`/${index}/_search`, { size: 10_000, query: { match_all: {} }, version: true, seq_no_primary_term: true, track_total_hits: true });
    if (search.status !== 200) {
      violations.push(`POST /${index}/_search answered ${search.status}: ${search.text.slice(0, 300)}`);
      continue;
    }
    const hits: any[] = search.body?.hits?.hits ?? [];
    const total = search.body?.hits?.total?.value;
    if (total !== foundIds.size) violations.push(`${index}: _search hits.total.value ${total} but real-time GETs found ${foundIds.size} docs`);
    const hitIds = new Set<string>();
    for (const hit of hits) {
      hitIds.add(hit._id);
      const doc = foundIds.get(hit._id);
      if (!doc) {
        violations.push(`${docKey(index, hit._id)}: in _search results but GET says not found (or never written): ${JSON.stringify(hit).slice(0, 300)}`);
      } else if (!isDeepStrictEqual(hit._source, doc.source) || hit._version !== doc.version || hit._seq_no !== doc.seqNo) {
        violations.push(
          `${docKey(index, hit._id)}: _search hit (v${hit._version} seq ${hit._seq_no} ${JSON.stringify(hit._source)}) differs from GET (v${doc.version} seq ${doc.seqNo} ${JSON.stringify(doc.source)})`,
        );
      }
    }
    for (const id of foundIds.keys()) {
      if (!hitIds.has(id)) violations.push(`${docKey(index, id)}: GET finds it but _search after _refresh does not`);
    }
  }
  const foundCount = [...observed.values()].filter((doc) => doc.found).length;
  return { observed, violations, foundCount };
}
