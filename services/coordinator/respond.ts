/**
 * Writing responses: Elasticsearch's headers, JSON bodies built around stored `_source` bytes (no
 * parse/stringify round trip), and Elasticsearch's error JSON.
 */
import type { Response } from 'express';
import { QuarryError } from '../../lib/common/errors.js';
import type { ItemError } from '../../lib/cluster/api.js';
import { UnroutableRequest } from './router.js';

/** Content type of every JSON answer, spelled as Elasticsearch spells it. */
export const JSON_CONTENT_TYPE = 'application/json; charset=UTF-8';
/** Content type of `_cat` text answers. */
export const TEXT_CONTENT_TYPE = 'text/plain; charset=UTF-8';

/** Writes a JSON body from an object (`pretty` indents it, as `?pretty` asks). */
export function sendJson(res: Response, status: number, body: unknown): void {
  sendJsonText(res, status, JSON.stringify(body));
}

/** Writes JSON that is already text or bytes (built around stored `_source` bytes). */
export function sendJsonText(res: Response, status: number, body: string | Buffer): void {
  if (res.locals.pretty === true) {
    // `?pretty` is a debugging aid: re-indenting costs a round trip we accept only when asked.
    body = JSON.stringify(JSON.parse(typeof body === 'string' ? body : body.toString('utf8')), null, 2) + '\n';
  }
  res.statusCode = status;
  res.setHeader('content-type', JSON_CONTENT_TYPE);
  res.setHeader('content-length', typeof body === 'string' ? Buffer.byteLength(body) : body.length);
  res.end(body);
}

/** Writes a status with no body (HEAD answers, and exists checks). */
export function sendEmpty(res: Response, status: number): void {
  res.statusCode = status;
  res.setHeader('content-type', JSON_CONTENT_TYPE);
  res.setHeader('content-length', 0);
  res.end();
}

/**
 * Accumulates a JSON text made of string pieces and raw byte pieces (stored `_source`s), then joins
 * them once. Strings are batched so that a page of hits costs one Buffer.concat, not one per hit.
 */
export class JsonBuilder {
  private readonly parts: Buffer[] = [];
  private pending = '';

  /** Appends JSON text. */
  text(piece: string): this {
    this.pending += piece;
    return this;
  }

  /** Appends raw JSON bytes (a stored `_source`, already valid JSON). */
  raw(bytes: Uint8Array): this {
    if (this.pending.length > 0) {
      this.parts.push(Buffer.from(this.pending, 'utf8'));
      this.pending = '';
    }
    this.parts.push(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    return this;
  }

  /** The whole body. */
  build(): Buffer | string {
    if (this.parts.length === 0) return this.pending;
    if (this.pending.length > 0) this.parts.push(Buffer.from(this.pending, 'utf8'));
    this.pending = '';
    return Buffer.concat(this.parts);
  }
}

/** A JSON string literal (escaped). */
export const quote = JSON.stringify as (value: string) => string;

/** A score as Elasticsearch prints floats: `1.0`, not `1`. */
export function formatFloat(value: number): string {
  if (!Number.isFinite(value)) return 'null';
  return Number.isInteger(value) ? `${value}.0` : String(value);
}

/** Elasticsearch's error object for one failed item, from a shard's ItemError. */
export function itemErrorToJson(error: ItemError): Record<string, unknown> {
  return { ...error };
}

/** The whole error response for an item error answered as a single request (a GET/PUT of one doc). */
export function itemErrorResponse(error: ItemError, status: number): { error: Record<string, unknown>; status: number } {
  return { error: { root_cause: [itemErrorToJson(error)], ...error }, status };
}

/** Writes any thrown value as Elasticsearch's error JSON; returns the status written. */
export function sendError(res: Response, err: QuarryError): void {
  if (err instanceof UnroutableRequest) {
    if (err.allowedMethods.length > 0) res.setHeader('allow', err.allowedMethods.join(','));
    sendJson(res, err.status, { error: err.message, status: err.status });
    return;
  }
  const response = err.toResponse();
  // Root causes are listed without their own causes, as Elasticsearch renders them.
  const rootCauses = response.error.root_cause as Array<Record<string, unknown>>;
  for (const cause of rootCauses) delete cause.caused_by;
  sendJson(res, err.status, response);
}
