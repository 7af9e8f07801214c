/**
 * The composition root of one Quarry process: opens the master's metadata, the data node's shards
 * and the REST coordinator, wires them through `NodeApi`, and listens on HTTP. `bin/quarry.ts` is the
 * CLI around `startNode`; tests call `startNode` directly.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import pino from 'pino';
import type { ClusterHealth, NodeApi } from '../lib/cluster/api.js';
import { createApp } from '../services/coordinator/app.js';
import { DataNodeService } from '../services/data-node/data-node.js';
import { MasterService } from '../services/master/master.js';

/** Options of one node process. */
export interface NodeOptions {
  /** Data directory (`./data` by default in the CLI). */
  dataPath: string;
  /** HTTP port; 0 picks a free one. */
  port: number;
  host?: string;
  name?: string;
  clusterName?: string;
  /** pino level: fatal, error, warn, info, debug, trace, silent. */
  logLevel?: string;
  /** A logger to use instead of a new one (tests). */
  logger?: pino.Logger;
}

/** A running node. */
export interface RunningNode {
  url: string;
  port: number;
  /** Graceful stop: stop accepting, finish in-flight requests, flush shards, close LMDB. */
  close(): Promise<void>;
}

/** How long a graceful shutdown waits for in-flight requests before closing their connections. */
const SHUTDOWN_IN_FLIGHT_TIMEOUT_MS = 30_000;

async function loadNodeId(nodePath: string): Promise<string> {
  const file = join(nodePath, 'node_id');
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    const id = randomBytes(16).toString('base64url').slice(0, 22);
    await writeFile(file, id + '\n');
    return id;
  }
}

/** Health from the shard copies' states: red if a primary is missing, yellow if a replica is. */
export function computeHealth(clusterName: string, routing: ReturnType<NodeApi['shardRouting']>, indexMeta: NodeApi['listIndices']): ClusterHealth {
  const health: ClusterHealth = {
    clusterName,
    status: 'green',
    numberOfNodes: 1,
    numberOfDataNodes: 1,
    activePrimaryShards: 0,
    activeShards: 0,
    relocatingShards: 0,
    initializingShards: 0,
    unassignedShards: 0,
    indices: {},
  };
  for (const meta of indexMeta()) {
    health.indices[meta.name] = {
      status: 'green',
      numberOfShards: meta.settings.numberOfShards,
      numberOfReplicas: meta.settings.numberOfReplicas,
      activePrimaryShards: 0,
      activeShards: 0,
      unassignedShards: 0,
    };
  }
  const rank = { green: 0, yellow: 1, red: 2 } as const;
  const worse = (a: 'green' | 'yellow' | 'red', b: 'green' | 'yellow' | 'red') => (rank[a] >= rank[b] ? a : b);
  for (const copy of routing) {
    const idx = health.indices[copy.index];
    if (!idx) continue;
    if (copy.state === 'STARTED') {
      health.activeShards++;
      idx.activeShards++;
      if (copy.primary) {
        health.activePrimaryShards++;
        idx.activePrimaryShards++;
      }
    } else {
      health.unassignedShards++;
      idx.unassignedShards++;
      idx.status = worse(idx.status, copy.primary ? 'red' : 'yellow');
    }
  }
  for (const idx of Object.values(health.indices)) health.status = worse(health.status, idx.status);
  return health;
}

/** Starts a node: recovers every shard, then listens. Resolves once it accepts requests. */
export async function startNode(options: NodeOptions): Promise<RunningNode> {
  const logger = options.logger ?? pino({ level: options.logLevel ?? 'info', base: { node: options.name ?? hostname() } });
  const name = options.name ?? hostname();
  const clusterName = options.clusterName ?? 'quarry';
  const dataPath = resolve(options.dataPath);
  const nodePath = join(dataPath, 'nodes', '0');
  await mkdir(nodePath, { recursive: true });
  const nodeId = await loadNodeId(nodePath);
  const startMs = performance.now();

  const master = await MasterService.open({ statePath: join(nodePath, '_state'), clusterName });
  const dataNode = new DataNodeService({ nodePath, logger, metadata: master });
  master.onChange(async (event) => {
    if (event.kind === 'created') await dataNode.indexCreated(event.index);
    else if (event.kind === 'deleted') await dataNode.indexDeleted(event.index);
    else dataNode.indexUpdated(event.index);
  });
  await dataNode.start(master.listIndices());

  const api: NodeApi = {
    nodeInfo: () => ({ name, clusterName, clusterUuid: master.clusterUuid, nodeId }),
    getIndex: (index) => master.getIndex(index),
    listIndices: () => master.listIndices(),
    createIndex: (request) => master.createIndex(request),
    deleteIndex: (index) => master.deleteIndex(index),
    putMapping: (index, mappings) => master.putMapping(index, mappings),
    health: () => computeHealth(clusterName, dataNode.shardRouting(name), () => master.listIndices()),
    shardRouting: () => dataNode.shardRouting(name),
    bulk: (request) => dataNode.bulk(request),
    get: (request) => dataNode.get(request),
    search: (request) => dataNode.search(request),
    count: (request) => dataNode.count(request),
    refresh: (index, shard) => dataNode.refresh(index, shard),
    flush: (index, shard) => dataNode.flush(index, shard),
    forceMerge: (index, shard, max, expunge) => dataNode.forceMerge(index, shard, max, expunge),
    shardStats: (index, shard) => dataNode.shardStats(index, shard),
    segments: (index, shard) => dataNode.segments(index, shard),
  };

  const app = createApp(api, { logger });
  // Once shutdown starts, requests arriving on kept-alive connections are refused with a 503 and
  // every response closes its connection, so in-flight work drains instead of being fed forever.
  let shuttingDown = false;
  const server: Server = createServer((req, res) => {
    if (shuttingDown) {
      const body = JSON.stringify({
        error: { root_cause: [{ type: 'node_shutdown_exception', reason: 'node is shutting down' }], type: 'node_shutdown_exception', reason: 'node is shutting down' },
        status: 503,
      });
      res.writeHead(503, { 'content-type': 'application/json; charset=UTF-8', 'x-elastic-product': 'Elasticsearch', connection: 'close' });
      res.end(body);
      return;
    }
    const writeHead = res.writeHead;
    res.writeHead = function (this: typeof res, ...args: Parameters<typeof res.writeHead>) {
      if (shuttingDown && !this.headersSent) this.setHeader('connection', 'close');
      return writeHead.apply(this, args);
    } as typeof res.writeHead;
    app(req, res);
  });
  await new Promise<void>((resolveListen, rejectListen) => {
    server.once('error', rejectListen);
    server.listen(options.port, options.host ?? '127.0.0.1', () => {
      server.off('error', rejectListen);
      resolveListen();
    });
  });
  // Bulk requests of 100 MB take a while to arrive on slow links; Node's default would cut them off.
  server.requestTimeout = 0;
  server.keepAliveTimeout = 65_000;
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const url = `http://${options.host && options.host !== '0.0.0.0' ? options.host : '127.0.0.1'}:${port}`;
  logger.info({ url, dataPath, indices: master.listIndices().length, startupMs: Math.round(performance.now() - startMs) }, 'quarry node started');

  let closing: Promise<void> | null = null;
  const close = () => {
    closing ??= (async () => {
      logger.info('shutting down: no new requests, finishing in-flight ones');
      shuttingDown = true;
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), SHUTDOWN_IN_FLIGHT_TIMEOUT_MS);
      timer.unref();
      await closed;
      clearTimeout(timer);
      await dataNode.close();
      await master.close();
      logger.info('shut down cleanly');
    })();
    return closing;
  };
  return { url, port, close };
}
