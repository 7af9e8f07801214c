/**
 * `_source` filtering (`_source_includes`, `_source_excludes`, `_source: ["a.*"]`) with
 * Elasticsearch's semantics: patterns name dotted field paths, `*` is a wildcard, an included object
 * brings its whole subtree, excludes win over includes, and objects left empty by filtering vanish.
 * This path parses the stored bytes; the unfiltered path never does.
 */
import { globMatches } from './names.js';

/** Include and exclude patterns (an empty include list means "everything"). */
export interface SourcePatterns {
  includes: string[];
  excludes: string[];
}

/** Returns a filtered copy of `source`. */
export function filterSource(source: Record<string, unknown>, patterns: SourcePatterns): Record<string, unknown> {
  return filterObject(source, '', patterns.includes, patterns.excludes);
}

function filterObject(object: Record<string, unknown>, prefix: string, includes: string[], excludes: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(object)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    if (excludes.some((pattern) => globMatches(pattern, path))) continue;
    const value = object[key];
    const fullyIncluded = includes.length === 0 || includes.some((pattern) => globMatches(pattern, path));
    if (fullyIncluded) {
      // Excludes may still reach inside an included subtree.
      const filtered = excludes.length === 0 ? value : filterValue(value, path, [], excludes);
      if (filtered !== undefined) out[key] = filtered;
      continue;
    }
    if (value !== null && typeof value === 'object' && includes.some((pattern) => mayMatchBelow(pattern, path))) {
      const filtered = filterValue(value, path, includes, excludes);
      if (filtered !== undefined) out[key] = filtered;
    }
  }
  return out;
}

function filterValue(value: unknown, path: string, includes: string[], excludes: string[]): unknown {
  if (Array.isArray(value)) {
    const items: unknown[] = [];
    for (const item of value) {
      if (item !== null && typeof item === 'object') {
        const filtered = filterValue(item, path, includes, excludes);
        if (filtered !== undefined) items.push(filtered);
      } else if (includes.length === 0) {
        items.push(item);
      }
    }
    return items.length > 0 || includes.length === 0 ? items : undefined;
  }
  if (value !== null && typeof value === 'object') {
    const filtered = filterObject(value as Record<string, unknown>, path, includes, excludes);
    return Object.keys(filtered).length > 0 || includes.length === 0 ? filtered : undefined;
  }
  return includes.length === 0 ? value : undefined;
}

/** Whether `pattern` could match some path below `path` (conservative: a `*` early enough says yes). */
function mayMatchBelow(pattern: string, path: string): boolean {
  const star = pattern.indexOf('*');
  const prefix = path + '.';
  if (star < 0) return pattern.startsWith(prefix);
  const literal = pattern.slice(0, star);
  return literal.length <= prefix.length ? prefix.startsWith(literal) : literal.startsWith(prefix);
}
