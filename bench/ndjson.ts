/**
 * Pure corpus → request helpers: splitting NDJSON text into lines, cutting batches, and building
 * `_bulk` bodies. Every engine gets the same batches from these, so batch boundaries are identical.
 */

/** One corpus document as the corpora README defines it. */
export interface CorpusDoc {
  id: string;
  title: string;
  body: string;
}

/** The non-empty lines of an NDJSON text (tolerates CRLF and a missing final newline). */
export function splitNdjsonLines(text: string): string[] {
  const lines: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() !== '') lines.push(line);
  }
  return lines;
}

/** Consecutive slices of at most `batchSize` items; the last may be shorter. */
export function toBatches<T>(items: readonly T[], batchSize: number): T[][] {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  const batches: T[][] = [];
  for (let start = 0; start < items.length; start += batchSize) batches.push(items.slice(start, start + batchSize));
  return batches;
}

/** Parses one corpus line, checking the README's shape so a bad corpus fails with its line. */
export function parseCorpusLine(line: string, lineNumber: number): CorpusDoc {
  const value: unknown = JSON.parse(line);
  const doc = value as Partial<CorpusDoc> | null;
  if (doc === null || typeof doc !== 'object' || typeof doc.id !== 'string' || typeof doc.title !== 'string' || typeof doc.body !== 'string') {
    throw new Error(`corpus line ${lineNumber}: expected {"id","title","body"} strings`);
  }
  return { id: doc.id, title: doc.title, body: doc.body };
}

/**
 * The NDJSON body of one `_bulk` request indexing `docs`: an `index` action with the `_id`, then the
 * source `{"title","body"}` (the id lives in the action, as Elasticsearch loaders do). Ends with the
 * newline `_bulk` requires.
 */
export function bulkIndexBody(docs: readonly CorpusDoc[]): string {
  let body = '';
  for (const doc of docs) {
    body += `{"index":{"_id":${JSON.stringify(doc.id)}}}\n${JSON.stringify({ title: doc.title, body: doc.body })}\n`;
  }
  return body;
}
