#!/usr/bin/env node
/**
 * The `quarry` command: starts a node. `npm start` runs it with the defaults (127.0.0.1:9200, data in
 * ./data); `--port`, `--host`, `--data`, `--name`, `--log-level` override them.
 */
import { Command, InvalidArgumentError } from 'commander';
import { startNode } from './node.js';

function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`port must be an integer in [0, 65535], got [${value}]`);
  return n;
}

const program = new Command()
  .name('quarry')
  .description('Quarry: a search engine node with an Elasticsearch-compatible REST API')
  .option('-p, --port <port>', 'HTTP port', parsePort, 9200)
  .option('--host <host>', 'address to bind', '127.0.0.1')
  .option('-d, --data <dir>', 'data directory', './data')
  .option('-n, --name <name>', 'node name')
  .option('--cluster-name <name>', 'cluster name', 'quarry')
  .option('--log-level <level>', 'log level (fatal, error, warn, info, debug, trace)', process.env.QUARRY_LOG_LEVEL ?? 'info')
  .parse();

const opts = program.opts<{ port: number; host: string; data: string; name?: string; clusterName: string; logLevel: string }>();

// A rejected promise nobody awaited is a bug of ours, but it must not take the node (and every
// acknowledged-but-unflushed shard) down with it: log it loudly and keep serving.
process.on('unhandledRejection', (reason) => {
  process.stderr.write(`quarry: unhandled rejection: ${reason instanceof Error ? reason.stack : String(reason)}\n`);
});

try {
  const node = await startNode({
    dataPath: opts.data,
    port: opts.port,
    host: opts.host,
    name: opts.name,
    clusterName: opts.clusterName,
    logLevel: opts.logLevel,
  });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`quarry: ${signal} received, shutting down\n`);
    node.close().then(
      () => process.exit(0),
      (err) => {
        process.stderr.write(`quarry: shutdown failed: ${err instanceof Error ? err.stack : String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.stderr.write(`quarry: listening on ${node.url} (data in ${opts.data})\n`);
} catch (err) {
  process.stderr.write(`quarry: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
