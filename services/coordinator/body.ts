/**
 * Request bodies: reading the raw bytes (with the size cap and gzip/deflate), and parsing JSON without
 * prototype poisoning, with Elasticsearch-style `[line:col]` positions in syntax errors.
 *
 * Bodies are read as raw bytes on purpose: a document's `_source` is stored exactly as the client sent
 * it (the body, or a slice of a bulk line), never re-serialized.
 */
import { lineColumn } from '../../lib/query/json-position.js';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import type { Request } from 'express';
import secureJson from 'secure-json-parse';
import { QuarryError } from '../../lib/common/errors.js';

const gunzip = promisify(zlib.gunzip);
const inflate = promisify(zlib.inflate);
const inflateRaw = promisify(zlib.inflateRaw);

const EMPTY = Buffer.alloc(0);

/** The error Elasticsearch answers for a body over `http.max_content_length`. */
export function contentTooLong(sizeBytes: number | undefined, maxBytes: number): QuarryError {
  const what = sizeBytes === undefined ? 'request body' : `request content length [${sizeBytes}]`;
  return new QuarryError('content_too_long_exception', `${what} exceeds the maximum content length of [${maxBytes}] bytes (http.max_content_length)`);
}

/**
 * Reads the whole request body, decompressing `Content-Encoding: gzip|deflate`. Over `maxBytes`
 * (compressed as received, or decompressed) it throws 413; the caller must then close the connection,
 * because the rest of the body is left unread.
 */
export async function readBody(req: Request, maxBytes: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBytes) throw contentTooLong(Number(declared), maxBytes);
  const raw = await collect(req, maxBytes);
  const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (raw.length === 0 || encoding === 'identity' || encoding === '') return raw;
  const options = { maxOutputLength: maxBytes };
  try {
    if (encoding === 'gzip' || encoding === 'x-gzip') return await gunzip(raw, options);
    if (encoding === 'deflate') {
      // HTTP "deflate" is zlib-wrapped by the spec, but some clients send raw deflate; accept both
      // like Netty's ZLIB_OR_NONE does (a zlib header is CM=8 and a multiple of 31).
      const zlibWrapped = raw.length >= 2 && (raw[0] & 0x0f) === 8 && ((raw[0] << 8) | raw[1]) % 31 === 0;
      return await (zlibWrapped ? inflate(raw, options) : inflateRaw(raw, options));
    }
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || error instanceof RangeError) throw contentTooLong(undefined, maxBytes);
    throw new QuarryError('parse_exception', `failed to decompress the request body (Content-Encoding [${encoding}]): ${(error as Error).message}`);
  }
  throw new QuarryError('illegal_argument_exception', `unsupported Content-Encoding [${encoding}], supported: [gzip, deflate]`);
}

/** Collects the stream's chunks, failing as soon as more than `maxBytes` arrived. */
function collect(req: Request, maxBytes: number): Promise<Buffer> {
  if (req.readableEnded) return Promise.resolve(EMPTY);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let sizeBytes = 0;
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
    };
    const onData = (chunk: Buffer): void => {
      sizeBytes += chunk.length;
      if (sizeBytes > maxBytes) {
        cleanup();
        req.pause();
        reject(contentTooLong(undefined, maxBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0] : chunks.length === 0 ? EMPTY : Buffer.concat(chunks, sizeBytes));
    };
    // A client that goes away mid-body is the client's problem, not a server error: a 400 (which
    // nobody will read) keeps it out of the error log.
    const onError = (error: Error): void => {
      cleanup();
      reject(new QuarryError('parse_exception', `failed to read the request body: ${error.message}`));
    };
    const onAborted = (): void => {
      cleanup();
      reject(new QuarryError('parse_exception', 'the client aborted the request body'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
  });
}

/**
 * Prototype poisoning: we refuse `__proto__` keys (and `constructor.prototype`) anywhere in request
 * JSON with a 400, instead of accepting them as ordinary field names as Elasticsearch does. Objects
 * parsed from JSON hold such keys as own properties, which is harmless until some code copies them
 * with assignment (a deep merge in `_update`, `Object.assign`); refusing them at the door keeps every
 * later layer safe without each one having to remember. Fields named `constructor` are accepted.
 */
const SECURE_JSON_OPTIONS = { protoAction: 'error', constructorAction: 'error' } as const;

/** Which kind of body is parsed, for Elasticsearch's error types. */
export type BodyKind = 'document' | 'request';

/**
 * Parses JSON text from bytes. Syntax errors become `x_content_parse_exception` (request bodies) or
 * `document_parsing_exception` (documents) with `[line:col]`, like Elasticsearch's Jackson parser.
 */
export function parseJson(bytes: Buffer | string, kind: BodyKind, start = 0, end = bytes.length, screened = false): unknown {
  let text = typeof bytes === 'string' ? bytes : bytes.toString('utf8', start, end);
  try {
    if (!screened) return secureJson.parse(text, null, SECURE_JSON_OPTIONS);
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    return JSON.parse(text);
  } catch (error) {
    throw jsonError(text, kind, error);
  }
}

/** secure-json-parse's own screens: a `__proto__` / `constructor` key, also spelled with `\\u` escapes. */
const SUSPECT_PROTO_RE = /"(?:_|\\u005[Ff])(?:_|\\u005[Ff])(?:p|\\u0070)(?:r|\\u0072)(?:o|\\u006[Ff])(?:t|\\u0074)(?:o|\\u006[Ff])(?:_|\\u005[Ff])(?:_|\\u005[Ff])"\s*:/;
const SUSPECT_CONSTRUCTOR_RE = /"(?:c|\\u0063)(?:o|\\u006[Ff])(?:n|\\u006[Ee])(?:s|\\u0073)(?:t|\\u0074)(?:r|\\u0072)(?:u|\\u0075)(?:c|\\u0063)(?:t|\\u0074)(?:o|\\u006[Ff])(?:r|\\u0072)"\s*:/;

/**
 * Whether bytes could hold a `__proto__` or `constructor` key (secure-json-parse's screens, run once
 * over a whole bulk body: a key inside any line is inside the body). When they cannot, each line is
 * parsed with plain `JSON.parse` (`screened`), skipping two regex scans per line. The patterns are
 * ASCII, so a latin1 view of the bytes finds exactly what a UTF-8 decode would.
 */
export function mayHoldPrototypeKeys(bytes: Buffer): boolean {
  const text = bytes.toString('latin1');
  return SUSPECT_PROTO_RE.test(text) || SUSPECT_CONSTRUCTOR_RE.test(text);
}

/** Parses a request body that must be a JSON object; an empty body gives `undefined`. */
export function parseObjectBody(bytes: Buffer): Record<string, unknown> | undefined {
  if (isBlank(bytes)) return undefined;
  const value = parseJson(bytes, 'request');
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new QuarryError('parse_exception', `request body must be a JSON object, but found [${describeToken(value)}]`);
  }
  return value as Record<string, unknown>;
}

/**
 * Parses a document (`_source`): it must be a JSON object. Elasticsearch answers other values with
 * document_parsing_exception; so do we.
 */
export function parseDocument(bytes: Buffer, start = 0, end = bytes.length, screened = false): Record<string, unknown> {
  if (isBlank(bytes, start, end)) {
    throw new QuarryError('parse_exception', 'request body is required');
  }
  const value = parseJson(bytes, 'document', start, end, screened);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new QuarryError(
      'document_parsing_exception',
      `[1:1] failed to parse: the document must be a JSON object, but found [${describeToken(value)}]`,
    );
  }
  return value as Record<string, unknown>;
}

/** Whether the bytes are empty or only whitespace. */
export function isBlank(bytes: Buffer, start = 0, end = bytes.length): boolean {
  for (let i = start; i < end; i++) {
    const c = bytes[i];
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return false;
  }
  return true;
}

/** Jackson's token name for a parsed JSON value, as Elasticsearch's messages show it. */
export function describeToken(value: unknown): string {
  if (value === null) return 'VALUE_NULL';
  if (Array.isArray(value)) return 'START_ARRAY';
  switch (typeof value) {
    case 'object':
      return 'START_OBJECT';
    case 'string':
      return 'VALUE_STRING';
    case 'number':
      return Number.isInteger(value) ? 'VALUE_NUMBER_INT' : 'VALUE_NUMBER_FLOAT';
    case 'boolean':
      return value ? 'VALUE_TRUE' : 'VALUE_FALSE';
    default:
      return 'VALUE_EMBEDDED_OBJECT';
  }
}

function jsonError(text: string, kind: BodyKind, error: unknown): QuarryError {
  const message = error instanceof Error ? error.message : String(error);
  if (/forbidden prototype property/.test(message)) {
    const reason = 'field names [__proto__] and [constructor.prototype] are not allowed (prototype poisoning protection)';
    return kind === 'document'
      ? new QuarryError('document_parsing_exception', `[1:1] failed to parse: ${reason}`)
      : new QuarryError('x_content_parse_exception', `[1:1] ${reason}`);
  }
  const found = findSyntaxError(text);
  const { line, column } = lineColumn(text, found.offset);
  // Jackson's error is not an Elasticsearch exception, so Elasticsearch shows it as `caused_by`
  // but never as the root cause: it rides in `extra`, not in the QuarryError cause chain.
  const causedBy = { caused_by: { type: 'json_parse_exception', reason: found.message } };
  if (kind === 'document') {
    return new QuarryError('document_parsing_exception', `[${line}:${column}] failed to parse: ${found.message}`, causedBy);
  }
  return new QuarryError('x_content_parse_exception', `[${line}:${column}] ${found.message}`, causedBy);
}

/** 1-based line and column of a character offset (shared with the query parser). */
export { lineColumn };

/**
 * Locates the first JSON syntax error in `text` (which JSON.parse already rejected) and describes it
 * in Jackson's words. Only runs on the error path; iterative, so deep nesting cannot overflow.
 */
export function findSyntaxError(text: string): { offset: number; message: string } {
  let i = 0;
  const n = text.length;
  // Each stack entry is the container being filled: '{' or '['.
  const stack: string[] = [];
  const skipSpace = (): void => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
  };
  const unexpected = (expecting: string): { offset: number; message: string } => {
    if (i >= n) {
      const what = stack.length > 0 ? `expected close marker for ${stack[stack.length - 1] === '{' ? 'Object' : 'Array'}` : 'expected a value';
      return { offset: n, message: `Unexpected end-of-input: ${what}` };
    }
    const ch = text[i];
    return { offset: i, message: `Unexpected character ('${ch}' (code ${ch.charCodeAt(0)})): ${expecting}` };
  };
  // Scans one string starting at the quote; returns an error or undefined.
  const scanString = (): { offset: number; message: string } | undefined => {
    const startOffset = i;
    i++;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return undefined;
      }
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) return { offset: i, message: 'Unexpected character in unicode escape: expected a hex-digit for character escape sequence' };
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) {
          i += 2;
        } else {
          return { offset: i + 1, message: `Unrecognized character escape '${e ?? ''}'` };
        }
        continue;
      }
      if (c < 0x20) return { offset: i, message: `Illegal unquoted character ((CTRL-CHAR, code ${c})): has to be escaped using backslash to be included in string value` };
      i++;
    }
    return { offset: startOffset, message: 'Unexpected end-of-input: was expecting closing quote for a string value' };
  };
  // Scans one scalar or opens a container; returns an error or undefined.
  const scanValue = (): { offset: number; message: string } | undefined => {
    skipSpace();
    if (i >= n) return unexpected('expected a value');
    const c = text[i];
    if (c === '{' || c === '[') {
      stack.push(c);
      i++;
      return undefined;
    }
    if (c === '"') return scanString();
    const number = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400));
    if (number && number[0].length > 0 && number[0] !== '-') {
      i += number[0].length;
      return undefined;
    }
    const word = /^[A-Za-z0-9_$+\-.]+/.exec(text.slice(i, i + 100));
    if (word) {
      for (const literal of ['true', 'false', 'null']) {
        if (word[0] === literal) {
          i += literal.length;
          return undefined;
        }
      }
      return { offset: i, message: `Unrecognized token '${word[0]}': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')` };
    }
    return unexpected('expected a value');
  };

  let error = scanValue();
  if (error) return error;
  // After each value: close containers, or expect a separator and the next member.
  let justOpened = stack.length > 0;
  for (;;) {
    if (stack.length === 0) {
      skipSpace();
      if (i < n) return unexpected('expected end of input (trailing content after the JSON value)');
      // JSON.parse disagreed, but we found nothing: report the end.
      return { offset: n, message: 'Unexpected end-of-input' };
    }
    const top = stack[stack.length - 1];
    skipSpace();
    if (i >= n) return unexpected('');
    const c = text[i];
    if ((top === '{' && c === '}') || (top === '[' && c === ']')) {
      stack.pop();
      i++;
      justOpened = false;
      continue;
    }
    if (!justOpened) {
      if (c !== ',') return unexpected(`was expecting comma to separate ${top === '{' ? 'Object' : 'Array'} entries`);
      i++;
      skipSpace();
    }
    if (top === '{') {
      if (i >= n) return unexpected('');
      if (text[i] !== '"') return unexpected('was expecting double-quote to start field name');
      error = scanString();
      if (error) return error;
      skipSpace();
      if (i >= n) return unexpected('');
      if (text[i] !== ':') return unexpected('was expecting a colon to separate field name and value');
      i++;
    }
    const depth = stack.length;
    error = scanValue();
    if (error) return error;
    justOpened = stack.length > depth;
  }
}
