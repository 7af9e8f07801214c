/**
 * The concurrent write workload of the kill -9 test: writers that send single-document PUTs, `_bulk`
 * batches, `_update`s and DELETEs (and hammer a few hot ids) until told to stop, recording every
 * outcome in a `WriteHistory`.
 */
import { HttpClient, NetworkError, type SeededRandom } from '../helpers/index.js';
import type { DocSource, WriteHistory, WriteRecord } from './history.js';

/** Shape of the workload. */
export interface WorkloadOptions {
  http: HttpClient;
  indices: readonly string[];
  /** Ids `d0..d{idPoolSize-1}` per index. */
  idPoolSize: number;
  /** Ids `hot0..` that every writer updates often, so writes to one id race. */
  hotIds: readonly string[];
  writerCount: number;
  rng: SeededRandom;
  history: WriteHistory;
  /** Cycle number, written into documents so every write's source is unique. */
  cycle: number;
  /** Polled before each request: true once the node is about to be killed. */
  stopped: () => boolean;
}

/** An HTTP error answer to a write before the crash: never expected on a healthy single node. */
export interface UnexpectedAnswer {
  via: string;
  status: number;
  body: string;
}

const WORDS = ['granite', 'quartz', 'basalt', 'shale', 'marble', 'slate', 'flint', 'chalk', 'gneiss', 'schist', 'obsidian', 'pumice'];

/** Runs the writers until `stopped()`; resolves when every request has an outcome. */
export async function runWriters(options: WorkloadOptions): Promise<{ unexpected: UnexpectedAnswer[] }> {
  const unexpected: UnexpectedAnswer[] = [];
  let counter = 0;
  const writers = Array.from({ length: options.writerCount }, (_, writerIndex) => {
    const rng = options.rng.fork();
    const makeDoc = (id: string): DocSource => ({
      id,
      w: writerIndex,
      n: counter++,
      cycle: options.cycle,
      text: Array.from({ length: rng.int(1, 6) }, () => rng.pick(WORDS)).join(' '),
      tags: [rng.pick(WORDS)],
    });
    const pickId = (): string => (rng.chance(0.2) ? rng.pick(options.hotIds) : `d${rng.int(0, options.idPoolSize - 1)}`);
    return (async () => {
      while (!options.stopped()) {
        const index = rng.pick(options.indices);
        const roll = rng.next();
        const refresh = rng.chance(0.05) ? '?refresh=true' : '';
        if (roll < 0.3) {
          const id = pickId();
          const doc = makeDoc(id);
          await single(options, unexpected, { index, id, effect: 'index', source: doc, via: 'put' }, () =>
            options.http.put(`/${index}/_doc/${encodeURIComponent(id)}${refresh}`, doc),
          );
        } else if (roll < 0.5) {
          const id = pickId();
          const doc = makeDoc(id);
          // The partial doc carries every field, so the merged result is exactly `doc` whatever was there.
          await single(options, unexpected, { index, id, effect: 'index', source: doc, via: 'update' }, () =>
            options.http.post(`/${index}/_update/${encodeURIComponent(id)}${refresh}`, { doc, doc_as_upsert: true }),
          );
        } else if (roll < 0.62) {
          const id = pickId();
          await single(options, unexpected, { index, id, effect: 'delete', via: 'delete' }, () =>
            options.http.delete(`/${index}/_doc/${encodeURIComponent(id)}${refresh}`),
          );
        } else {
          await bulk(options, unexpected, rng, index, pickId, makeDoc, refresh);
        }
      }
    })();
  });
  await Promise.all(writers);
  return { unexpected };
}

/** The part of a write record known before the answer. */
type PendingWrite = Omit<WriteRecord, 'outcome'>;

/** Sends one single-document write and records its outcome. */
async function single(
  options: WorkloadOptions,
  unexpected: UnexpectedAnswer[],
  write: PendingWrite,
  send: () => Promise<{ status: number; body: any; text: string }>,
): Promise<void> {
  let response: { status: number; body: any; text: string };
  try {
    response = await send();
  } catch (error) {
    if (!(error instanceof NetworkError)) throw error;
    options.history.record({ ...write, outcome: 'unknown' });
    return;
  }
  recordItem(options, unexpected, write, response.status, response.body, response.text);
}

/** Interprets one write answer (a single-document response or one bulk item). */
function recordItem(options: WorkloadOptions, unexpected: UnexpectedAnswer[], write: PendingWrite, status: number, body: any, text: string): void {
  const result = body?.result;
  if (write.effect === 'delete' && status === 404 && result === 'not_found') {
    options.history.record({ ...write, outcome: 'acked', notFound: true, seqNo: numberOrUndefined(body._seq_no), version: numberOrUndefined(body._version) });
    return;
  }
  if ((status === 200 || status === 201) && (result === 'created' || result === 'updated' || result === 'deleted')) {
    const seqNo = numberOrUndefined(body._seq_no);
    options.history.record({ ...write, outcome: 'acked', seqNo, version: numberOrUndefined(body._version) });
    // Elasticsearch reports `_seq_no` on every successful write; without it the write cannot be ordered.
    if (seqNo === undefined) unexpected.push({ via: `${write.via} ${write.index}/${write.id} (no _seq_no in the answer)`, status, body: text.slice(0, 500) });
    return;
  }
  if (write.via === 'bulk-create' && status === 409) return; // the document existed: create changed nothing
  // Any other answer: the engine refused or failed. Its effect is unknown; the answer itself is a finding.
  options.history.record({ ...write, outcome: 'unknown' });
  if (!options.stopped()) unexpected.push({ via: `${write.via} ${write.index}/${write.id}`, status, body: text.slice(0, 500) });
}

/** Sends one `_bulk` of 1–20 mixed items and records each item's outcome. */
async function bulk(
  options: WorkloadOptions,
  unexpected: UnexpectedAnswer[],
  rng: SeededRandom,
  index: string,
  pickId: () => string,
  makeDoc: (id: string) => DocSource,
  refresh: string,
): Promise<void> {
  const lines: unknown[] = [];
  const pending: PendingWrite[] = [];
  const itemCount = rng.int(1, 20);
  for (let i = 0; i < itemCount; i++) {
    const id = pickId();
    const roll = rng.next();
    if (roll < 0.45) {
      const doc = makeDoc(id);
      lines.push({ index: { _index: index, _id: id } }, doc);
      pending.push({ index, id, effect: 'index', source: doc, via: 'bulk-index' });
    } else if (roll < 0.55) {
      const doc = makeDoc(id);
      lines.push({ create: { _index: index, _id: id } }, doc);
      pending.push({ index, id, effect: 'index', source: doc, via: 'bulk-create' });
    } else if (roll < 0.8) {
      const doc = makeDoc(id);
      lines.push({ update: { _index: index, _id: id } }, { doc, doc_as_upsert: true });
      pending.push({ index, id, effect: 'index', source: doc, via: 'bulk-update' });
    } else {
      lines.push({ delete: { _index: index, _id: id } });
      pending.push({ index, id, effect: 'delete', via: 'bulk-delete' });
    }
  }
  let response: { status: number; body: any; text: string };
  try {
    response = await options.http.bulk(`/_bulk${refresh}`, lines);
  } catch (error) {
    if (!(error instanceof NetworkError)) throw error;
    for (const write of pending) options.history.record({ ...write, outcome: 'unknown' });
    return;
  }
  const items: any[] | undefined = response.body?.items;
  if (response.status !== 200 || !Array.isArray(items) || items.length !== pending.length) {
    for (const write of pending) options.history.record({ ...write, outcome: 'unknown' });
    if (!options.stopped()) unexpected.push({ via: `bulk ${index} (${pending.length} items)`, status: response.status, body: response.text.slice(0, 500) });
    return;
  }
  pending.forEach((write, i) => {
    const item = items[i] ?? {};
    const answer = item.index ?? item.create ?? item.update ?? item.delete ?? {};
    recordItem(options, unexpected, write, answer.status, answer, JSON.stringify(answer));
  });
}

/** `value` when it is a number, else undefined (a missing `_seq_no` makes a write unorderable, not fatal). */
function numberOrUndefined(value: unknown): number | undefined {
  return typeof value === 'number' ? value : undefined;
}
