/**
 * The REST coordinator: an Express app speaking Elasticsearch 8's REST API on top of a `NodeApi`.
 * `createApp` builds it without listening (bin/node.ts listens). Routing, body handling and error
 * rendering are ours (see router.ts, body.ts, respond.ts) so that 400/405/413 and error bodies
 * match Elasticsearch; Express provides the request/response plumbing and the error middleware.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { QuarryError, toQuarryError } from '../../lib/common/errors.js';
import { HTTP_MAX_CONTENT_LENGTH_BYTES } from '../../lib/common/limits.js';
import type { NodeApi } from '../../lib/cluster/api.js';
import { assert } from '../../lib/common/assert.js';
import { contentTooLong, readBody } from './body.js';
import type { Deps } from './deps.js';
import { sendEmpty, sendError } from './respond.js';
import { RestRouter, checkParams, type RestContext } from './router.js';
import { registerBulkRoutes } from './routes/bulk.js';
import { registerCatRoutes } from './routes/cat.js';
import { registerClusterRoutes } from './routes/cluster.js';
import { registerDocumentRoutes } from './routes/document.js';
import { registerIndexRoutes } from './routes/indices.js';
import { registerSearchRoutes } from './routes/search.js';
import { IndexAutoCreator } from './write.js';

/** Options of `createApp`. */
export interface AppOptions {
  logger: Logger;
  /** Largest accepted request body, compressed or not (Elasticsearch's `http.max_content_length`; default 100 MB). */
  maxContentLengthBytes?: number;
}

/** Elasticsearch clients check this header to know they talk to Elasticsearch. */
const PRODUCT_HEADER = 'X-Elastic-Product';

/** Builds the coordinator's Express app (without listening). */
export function createApp(node: NodeApi, options: AppOptions): express.Express {
  const maxContentLengthBytes = options.maxContentLengthBytes ?? HTTP_MAX_CONTENT_LENGTH_BYTES;
  assert(Number.isInteger(maxContentLengthBytes) && maxContentLengthBytes > 0, 'maxContentLengthBytes must be a positive integer');
  const logger = options.logger;
  const deps: Deps = { node, autoCreator: new IndexAutoCreator(node), logger };

  const router = new RestRouter();
  registerClusterRoutes(router, deps);
  registerDocumentRoutes(router, deps);
  registerBulkRoutes(router, deps);
  registerIndexRoutes(router, deps);
  registerSearchRoutes(router, deps);
  registerCatRoutes(router, deps);

  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  // Query strings are parsed by Node's querystring: flat keys, no nested objects (`a[b]=c` stays a key).
  app.set('query parser', 'simple');

  app.use((req: Request, res: Response, next: NextFunction) => {
    const startedMs = performance.now();
    res.setHeader(PRODUCT_HEADER, 'Elasticsearch');
    res.on('finish', () => {
      if (logger.isLevelEnabled('debug')) {
        logger.debug({ method: req.method, path: req.path, status: res.statusCode, tookMs: Math.round((performance.now() - startedMs) * 10) / 10 }, 'request');
      }
    });
    next();
  });

  app.use(async (req: Request, res: Response) => {
    const uri = req.originalUrl;
    const queryStart = uri.indexOf('?');
    const rawPath = queryStart < 0 ? uri : uri.slice(0, queryStart);
    // Refuse an oversized body before routing, as Elasticsearch's HTTP layer does.
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > maxContentLengthBytes) throw contentTooLong(Number(declared), maxContentLengthBytes);

    const resolved = router.resolve(req.method, rawPath, uri);
    if ('options' in resolved) {
      res.setHeader('allow', resolved.options.join(','));
      return sendEmpty(res, 200);
    }
    const query = flattenQuery(req.query as Record<string, unknown>);
    checkParams(query, resolved.allowedParams, rawPath);
    if (query.pretty !== undefined && query.pretty !== 'false') res.locals.pretty = true;
    let body: Promise<Buffer> | undefined;
    const ctx: RestContext = {
      method: req.method,
      uri,
      params: resolved.params,
      query,
      req,
      res,
      readBody: () => {
        body ??= readBody(req, maxContentLengthBytes).then((bytes) => (bytes.length === 0 && query.source !== undefined ? Buffer.from(query.source, 'utf8') : bytes));
        return body;
      },
    };
    await resolved.handler(ctx);
  });

  // One error middleware: QuarryErrors become Elasticsearch's error JSON; anything else is a 500
  // with a generic reason (the stack goes to the log, never to the client).
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    void _next;
    let error: QuarryError;
    if (err instanceof QuarryError) {
      error = err;
      // 503s (a failed or closed shard, shutdown) are expected states already logged once where they
      // arose: a warn line without a stack, not an error per request.
      if (error.status === 503) logger.warn({ status: 503, type: error.type, reason: error.message, method: req.method, path: req.path }, 'request unavailable');
      else if (error.status >= 500) logger.error({ err, method: req.method, path: req.path }, 'request failed');
      else logger.warn({ status: error.status, type: error.type, reason: error.message, method: req.method, path: req.path }, 'request rejected');
    } else if (isExpressClientError(err)) {
      error = toClientError(err);
      logger.warn({ status: error.status, reason: error.message, method: req.method, path: req.path }, 'request rejected');
    } else {
      logger.error({ err, method: req.method, path: req.path }, 'unexpected error while handling a request');
      error = toQuarryError(new Error('internal error; see the node log for details'));
    }
    if (res.headersSent) {
      // Part of an answer is out: the only honest signal left is to cut the connection.
      res.destroy();
      return;
    }
    if (error.status === 413) {
      // The rest of the body was never read; closing is cheaper than draining up to 100 MB.
      res.setHeader('connection', 'close');
    }
    sendError(res, error);
  });

  return app;
}

/** Query values as single strings: a repeated parameter keeps its last value (Elasticsearch does the same). */
function flattenQuery(query: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(query)) {
    const value = query[key];
    out[key] = Array.isArray(value) ? String(value[value.length - 1]) : String(value ?? '');
  }
  return out;
}

/** Errors Express or Node raise for a bad request (e.g. a malformed URI), with a 4xx status. */
function isExpressClientError(err: unknown): err is { status: number; message: string } {
  const status = (err as { status?: unknown } | null)?.status;
  return typeof status === 'number' && status >= 400 && status < 500;
}

function toClientError(err: { status: number; message: string }): QuarryError {
  return new QuarryError('illegal_argument_exception', err.message, {}, undefined, err.status);
}
