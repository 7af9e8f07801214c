/**
 * Names in requests: index name rules (Elasticsearch's exact messages), `_id` rules, resolving index
 * expressions (`a,b`, `logs-*`, `_all`) to concrete indices, and `*` patterns matched in linear time.
 */
import { wellFormed } from '../../lib/common/token-run.js';
import { errors } from '../../lib/common/errors.js';
import { DOC_ID_MAX_BYTES, INDEX_NAME_MAX_BYTES } from '../../lib/common/limits.js';
import type { IndexMetadata, NodeApi } from '../../lib/cluster/api.js';

/** Elasticsearch prints its set of forbidden file-name characters in this order. */
const INVALID_FILENAME_CHARS_TEXT = '[ , ", *, \\, <, |, ,, >, /, ?]';
const INVALID_FILENAME_CHARS = new Set(['\\', '/', '*', '?', '"', '<', '>', '|', ' ', ',']);

/** Throws invalid_index_name_exception when `name` may not name a new index (same checks and order as Elasticsearch). */
export function validateIndexName(name: string): void {
  for (const ch of name) {
    if (INVALID_FILENAME_CHARS.has(ch)) throw errors.invalidIndexName(name, `must not contain the following characters ${INVALID_FILENAME_CHARS_TEXT}`);
  }
  if (name.length === 0) throw errors.invalidIndexName(name, 'must not be empty');
  if (name.includes('#')) throw errors.invalidIndexName(name, "must not contain '#'");
  if (name.includes(':')) throw errors.invalidIndexName(name, "must not contain ':'");
  if (name.startsWith('_') || name.startsWith('-') || name.startsWith('+')) {
    throw errors.invalidIndexName(name, "must not start with '_', '-', or '+'");
  }
  const sizeBytes = Buffer.byteLength(name, 'utf8');
  if (sizeBytes > INDEX_NAME_MAX_BYTES) {
    throw errors.invalidIndexName(name, `index name is too long, (${sizeBytes} > ${INDEX_NAME_MAX_BYTES})`);
  }
  if (name === '.' || name === '..') throw errors.invalidIndexName(name, "must not be '.' or '..'");
  if (name.toLowerCase() !== name) throw errors.invalidIndexName(name, 'must be lowercase');
}

/** The reason an `_id` is refused, or undefined when it is fine (used per bulk item, so it does not throw). */
export function idProblem(id: string): string | undefined {
  if (id.length === 0) return 'if _id is specified it must not be empty';
  const sizeBytes = Buffer.byteLength(id, 'utf8');
  if (sizeBytes > DOC_ID_MAX_BYTES) {
    return `id [${id}] is too long, must be no longer than ${DOC_ID_MAX_BYTES} bytes but was: ${sizeBytes}`;
  }
  // Ids are UTF-8 bytes on disk, where every unpaired surrogate becomes U+FFFD: two such ids would be
  // one term in the segments but two in the version map, so they are refused instead.
  const shown = wellFormed(id);
  if (shown !== id) return `id [${shown}] contains an unpaired UTF-16 surrogate`;
  return undefined;
}

/** Throws illegal_argument_exception for a bad `_id`. */
export function validateId(id: string): void {
  const problem = idProblem(id);
  if (problem) throw errors.illegalArgument(problem);
}

/** The metadata of an existing index, or 404 index_not_found_exception. */
export function requireIndex(node: NodeApi, name: string): IndexMetadata {
  const metadata = node.getIndex(name);
  if (!metadata) throw errors.indexNotFound(name);
  return metadata;
}

/**
 * Resolves an index expression to concrete indices, in name order. `undefined`, `_all`, `*` mean
 * every index; `*` patterns match names; `-pattern` removes earlier matches. A concrete missing name
 * is 404 unless `ignoreUnavailable`; a pattern matching nothing is fine (empty result).
 */
export function resolveIndices(node: NodeApi, expression: string | undefined, ignoreUnavailable = false): IndexMetadata[] {
  const all = node.listIndices();
  if (expression === undefined || expression === '' || expression === '_all' || expression === '*') {
    return [...all].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
  const chosen = new Map<string, IndexMetadata>();
  const parts = expression.split(',');
  for (let position = 0; position < parts.length; position++) {
    const part = parts[position].trim();
    if (part.length === 0) continue;
    if (part.startsWith('-') && position > 0) {
      const pattern = part.slice(1);
      for (const name of [...chosen.keys()]) if (globMatches(pattern, name)) chosen.delete(name);
      continue;
    }
    if (part === '_all') {
      for (const index of all) chosen.set(index.name, index);
    } else if (part.includes('*')) {
      for (const index of all) if (globMatches(part, index.name)) chosen.set(index.name, index);
    } else {
      const metadata = node.getIndex(part);
      if (metadata) chosen.set(part, metadata);
      else if (!ignoreUnavailable) throw errors.indexNotFound(part);
    }
  }
  return [...chosen.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * Whether `text` matches `pattern`, where `*` matches any run of characters. Greedy matching with
 * one backtrack point: O(pattern × text) worst case, never exponential like a backtracking RegExp.
 */
export function globMatches(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let starP = -1;
  let starT = 0;
  while (t < text.length) {
    if (p < pattern.length && pattern[p] !== '*' && pattern[p] === text[t]) {
      p++;
      t++;
    } else if (p < pattern.length && pattern[p] === '*') {
      starP = p++;
      starT = t;
    } else if (starP >= 0) {
      p = starP + 1;
      t = ++starT;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}
