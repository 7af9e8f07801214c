/**
 * Elasticsearch's request dispatch, reproduced: a route table of path patterns (`/{index}/_doc/{id}`)
 * with handlers per HTTP method, matched the way Elasticsearch's RestController matches its path trie.
 *
 * - Literal segments win over `{param}` segments, position by position, so `/_bulk` beats `/{index}`.
 * - The first matching path that has a handler for the method serves the request. When no matching
 *   path accepts the method, the answer is 405 with the union of allowed methods; when no path
 *   matches at all, 400 "no handler found". Express's own router would answer 404 for both.
 * - Each route lists the query parameters it understands; any other parameter is rejected with
 *   Elasticsearch's "contains unrecognized parameter" error, so a typo (`refersh=true`) is never
 *   silently ignored.
 */
import type { Request, Response } from 'express';
import { QuarryError } from '../../lib/common/errors.js';

/** What a handler gets: the parsed request plus the raw Express objects for writing the answer. */
export interface RestContext {
  method: string;
  /** The raw URI as sent (path and query string), for error messages. */
  uri: string;
  /** Decoded path parameters (`index`, `id`, ...). */
  params: Record<string, string>;
  /** Query parameters; a repeated parameter keeps its last value, as Elasticsearch does. */
  query: Record<string, string>;
  req: Request;
  res: Response;
  /**
   * The request body bytes (decompressed; empty when none). Falls back to the `source` query
   * parameter, which Elasticsearch accepts in place of a body for clients that cannot send one.
   */
  readBody(): Promise<Buffer>;
}

/** A route handler: validates, calls the node, writes the response. */
export type RestHandler = (ctx: RestContext) => Promise<void> | void;

/** Options of one route. */
export interface RouteOptions {
  /** Query parameters this route accepts, beyond the global ones. */
  params?: readonly string[];
}

/** Parameters every route accepts (Elasticsearch's response-shaping parameters). */
export const GLOBAL_PARAMS = ['pretty', 'human', 'error_trace', 'filter_path', 'source', 'source_content_type'] as const;

/** The HTTP methods Elasticsearch routes (others get 405 like any unregistered method). */
export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE';

interface Route {
  pattern: string;
  /** Literal segment text, or null for a `{param}` segment. */
  literals: Array<string | null>;
  paramNames: Array<string | null>;
  handlers: Map<string, { handler: RestHandler; params: Set<string> }>;
}

/** A route table with Elasticsearch's matching rules. */
export class RestRouter {
  private readonly routes: Route[] = [];
  private readonly byPattern = new Map<string, Route>();

  /** Registers `handler` for `methods` on `pattern` (segments in braces are parameters). */
  add(methods: readonly HttpMethod[], pattern: string, handler: RestHandler, options: RouteOptions = {}): void {
    let route = this.byPattern.get(pattern);
    if (!route) {
      const segments = splitPath(pattern);
      route = {
        pattern,
        literals: segments.map((s) => (s.startsWith('{') ? null : s)),
        paramNames: segments.map((s) => (s.startsWith('{') ? s.slice(1, -1) : null)),
        handlers: new Map(),
      };
      this.byPattern.set(pattern, route);
      this.routes.push(route);
      // Keep the table ordered by specificity once, so matching walks it in priority order.
      this.routes.sort(compareSpecificity);
    }
    const params = new Set<string>([...GLOBAL_PARAMS, ...(options.params ?? [])]);
    for (const method of methods) {
      if (route.handlers.has(method)) throw new Error(`route ${method} ${pattern} registered twice`);
      route.handlers.set(method, { handler, params });
    }
  }

  /**
   * Finds the handler for a request, or throws the 400/405 error Elasticsearch would answer.
   * `rawPath` is the undecoded path without the query string.
   */
  resolve(method: string, rawPath: string, uri: string): { handler: RestHandler; params: Record<string, string>; allowedParams: Set<string> } | { options: string[] } {
    const segments = splitPath(rawPath);
    const allowed = new Set<string>();
    for (const route of this.routes) {
      if (route.literals.length !== segments.length) continue;
      let matches = true;
      for (let i = 0; i < segments.length; i++) {
        const literal = route.literals[i];
        if (literal !== null && literal !== segments[i]) {
          matches = false;
          break;
        }
      }
      if (!matches) continue;
      const entry = route.handlers.get(method);
      if (!entry) {
        for (const m of route.handlers.keys()) allowed.add(m);
        continue;
      }
      const params: Record<string, string> = {};
      for (let i = 0; i < segments.length; i++) {
        const name = route.paramNames[i];
        if (name !== null) params[name] = decodeSegment(segments[i], uri);
      }
      return { handler: entry.handler, params, allowedParams: entry.params };
    }
    if (method === 'OPTIONS' && allowed.size > 0) return { options: [...allowed] };
    if (allowed.size > 0) {
      throw new UnroutableRequest(
        'method_not_allowed',
        `Incorrect HTTP method for uri [${uri}] and method [${method}], allowed: [${[...allowed].join(', ')}]`,
        [...allowed],
      );
    }
    throw new UnroutableRequest('illegal_argument_exception', `no handler found for uri [${uri}] and method [${method}]`, []);
  }
}

/**
 * No route serves the request (400) or not with this method (405). Elasticsearch answers these two
 * with a flat `{"error":"<reason>","status":N}` instead of its structured error object.
 */
export class UnroutableRequest extends QuarryError {
  constructor(type: 'method_not_allowed' | 'illegal_argument_exception', reason: string, readonly allowedMethods: string[]) {
    super(type, reason);
  }
}

/** Rejects query parameters the route does not know, with Elasticsearch's message (and a suggestion). */
export function checkParams(query: Record<string, string>, allowed: Set<string>, path: string): void {
  const unknown: string[] = [];
  for (const key of Object.keys(query)) if (!allowed.has(key)) unknown.push(key);
  if (unknown.length === 0) return;
  const parts = unknown.map((key) => {
    const suggestions = [...allowed].filter((candidate) => editDistanceAtMost(key, candidate, 2));
    return suggestions.length > 0 ? `[${key}] -> did you mean ${suggestions.length === 1 ? `[${suggestions[0]}]` : `any of [${suggestions.join(', ')}]`}?` : `[${key}]`;
  });
  const noun = unknown.length === 1 ? 'parameter' : 'parameters';
  throw new QuarryError('illegal_argument_exception', `request [${path}] contains unrecognized ${noun}: ${parts.join(', ')}`);
}

/** Path segments without empty ones at the ends (Elasticsearch treats `/i/` as `/i`). */
function splitPath(path: string): string[] {
  const segments = path.split('/');
  let start = 0;
  let end = segments.length;
  while (start < end && segments[start] === '') start++;
  while (end > start && segments[end - 1] === '') end--;
  return segments.slice(start, end);
}

function decodeSegment(segment: string, uri: string): string {
  if (!segment.includes('%')) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new QuarryError('illegal_argument_exception', `unable to decode path segment [${segment}] of uri [${uri}]`);
  }
}

/** Literal segments sort before parameters at the first position where two routes differ. */
function compareSpecificity(a: Route, b: Route): number {
  const n = Math.min(a.literals.length, b.literals.length);
  for (let i = 0; i < n; i++) {
    const aParam = a.literals[i] === null ? 1 : 0;
    const bParam = b.literals[i] === null ? 1 : 0;
    if (aParam !== bParam) return aParam - bParam;
  }
  return a.literals.length - b.literals.length;
}

/** Whether two short strings are within `max` edits (insert, delete, substitute); for "did you mean". */
function editDistanceAtMost(a: string, b: string, max: number): boolean {
  if (Math.abs(a.length - b.length) > max) return false;
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length] <= max;
}
