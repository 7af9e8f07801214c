/**
 * Sends prepared `_bulk` bodies to a Quarry node, one at a time or N in flight, and reports the
 * wall time and failed items. Bodies are built before the clock starts so the harness's own JSON
 * work is not charged to the node.
 */
import { bulkIndexBody, toBatches, type CorpusDoc } from './ndjson.js';
import { ProgressLine } from './proc.js';
import { bulkOutcomeOf, type QuarryNode } from './quarry-node.js';

/** One prepared request: its NDJSON bytes and how many docs it carries. */
export interface PreparedBulk {
  body: Uint8Array;
  docCount: number;
}

/** Cuts docs into batches and encodes each as a UTF-8 `_bulk` body. */
export function prepareBulks(docs: readonly CorpusDoc[], batchDocs: number): PreparedBulk[] {
  return toBatches(docs, batchDocs).map((batch) => ({ body: Buffer.from(bulkIndexBody(batch), 'utf8'), docCount: batch.length }));
}

/** What a bulk load measured. */
export interface BulkLoadOutcome {
  docs: number;
  indexMs: number;
  failedItems: number;
  firstError?: string;
}

/**
 * Posts every bulk to `POST /<index>/_bulk` with `concurrency` requests in flight (default
 * durability: the node fsyncs before it answers). A non-2xx answer ends the load with an error;
 * item failures are counted and reported, since a fast load that dropped docs is no result.
 */
export async function bulkLoad(node: QuarryNode, index: string, bulks: readonly PreparedBulk[], concurrency: number, label: string): Promise<BulkLoadOutcome> {
  const totalDocs = bulks.reduce((sum, bulk) => sum + bulk.docCount, 0);
  const progress = new ProgressLine(label, totalDocs);
  let next = 0;
  let docsDone = 0;
  let failedItems = 0;
  let firstError: string | undefined;
  const worker = async (): Promise<void> => {
    while (next < bulks.length) {
      const bulk = bulks[next]!;
      next += 1;
      const response = await node.request('POST', `/${index}/_bulk`, bulk.body);
      if (response.status !== 200) {
        node.throwIfExited();
        throw new Error(`POST /${index}/_bulk answered ${response.status}: ${response.text.slice(0, 500)}`);
      }
      const outcome = bulkOutcomeOf(response.body);
      if (outcome.itemCount !== bulk.docCount) {
        throw new Error(`POST /${index}/_bulk answered ${outcome.itemCount} items for ${bulk.docCount} docs`);
      }
      failedItems += outcome.failedCount;
      firstError ??= outcome.firstError;
      docsDone += bulk.docCount;
      progress.update(docsDone);
    }
  };
  const startedAtMs = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, bulks.length) }, worker));
  const indexMs = performance.now() - startedAtMs;
  progress.finish();
  return { docs: docsDone, indexMs, failedItems, firstError };
}
