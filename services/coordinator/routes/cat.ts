/**
 * `_cat` APIs: `indices`, `health`, `shards`. Text tables (aligned columns, `?v` for headers, `?h=`
 * to pick columns, `?s=` to sort, `?bytes=` for raw sizes) or `?format=json` (every value a string,
 * as Elasticsearch does).
 */
import { errors } from '../../../lib/common/errors.js';
import type { Deps } from '../deps.js';
import { resolveIndices } from '../names.js';
import { booleanParam, splitList } from '../params.js';
import { TEXT_CONTENT_TYPE, sendJson } from '../respond.js';
import type { RestContext, RestRouter } from '../router.js';

const CAT_PARAMS = ['format', 'v', 'h', 's', 'help', 'bytes', 'time', 'local', 'master_timeout', 'expand_wildcards', 'health', 'pri', 'include_unloaded_segments', 'ts'];

/** One column of a cat table. */
interface Column {
  name: string;
  /** Numbers align right in text output, like Elasticsearch's `text-align:right`. */
  alignRight?: boolean;
  description: string;
}

type Row = Record<string, string | number | null>;

/** Registers the `_cat` routes. */
export function registerCatRoutes(router: RestRouter, deps: Deps): void {
  router.add(['GET'], '/_cat', (ctx) => {
    ctx.res.statusCode = 200;
    ctx.res.setHeader('content-type', TEXT_CONTENT_TYPE);
    ctx.res.end('=^.^=\n/_cat/health\n/_cat/indices\n/_cat/indices/{index}\n/_cat/shards\n/_cat/shards/{index}\n');
  });
  router.add(['GET'], '/_cat/indices', (ctx) => catIndices(deps, ctx), { params: CAT_PARAMS });
  router.add(['GET'], '/_cat/indices/{index}', (ctx) => catIndices(deps, ctx), { params: CAT_PARAMS });
  router.add(['GET'], '/_cat/health', (ctx) => catHealth(deps, ctx), { params: CAT_PARAMS });
  router.add(['GET'], '/_cat/shards', (ctx) => catShards(deps, ctx), { params: CAT_PARAMS });
  router.add(['GET'], '/_cat/shards/{index}', (ctx) => catShards(deps, ctx), { params: CAT_PARAMS });
}

const INDICES_COLUMNS: Column[] = [
  { name: 'health', description: 'current health status' },
  { name: 'status', description: 'open/close status' },
  { name: 'index', description: 'index name' },
  { name: 'uuid', description: 'index uuid' },
  { name: 'pri', alignRight: true, description: 'number of primary shards' },
  { name: 'rep', alignRight: true, description: 'number of replica shards' },
  { name: 'docs.count', alignRight: true, description: 'available docs' },
  { name: 'docs.deleted', alignRight: true, description: 'deleted docs' },
  { name: 'store.size', alignRight: true, description: 'store size of primaries & replicas' },
  { name: 'pri.store.size', alignRight: true, description: 'store size of primaries' },
  { name: 'dataset.size', alignRight: true, description: 'total size of dataset' },
];

function catIndices(deps: Deps, ctx: RestContext): void {
  const health = deps.node.health();
  const bytesUnit = ctx.query.bytes;
  const rows: Row[] = [];
  for (const metadata of resolveIndices(deps.node, ctx.params.index)) {
    let docsCount = 0;
    let docsDeleted = 0;
    let storeBytes = 0;
    for (let shard = 0; shard < metadata.settings.numberOfShards; shard++) {
      const stats = deps.node.shardStats(metadata.name, shard);
      docsCount += stats.docsCount;
      docsDeleted += stats.docsDeleted;
      storeBytes += stats.storeSizeBytes;
    }
    const size = formatBytes(storeBytes, bytesUnit);
    rows.push({
      health: health.indices[metadata.name]?.status ?? 'red',
      status: 'open',
      index: metadata.name,
      uuid: metadata.uuid,
      pri: metadata.settings.numberOfShards,
      rep: metadata.settings.numberOfReplicas,
      'docs.count': docsCount,
      'docs.deleted': docsDeleted,
      'store.size': size,
      'pri.store.size': size,
      'dataset.size': size,
    });
  }
  if (ctx.query.health !== undefined) {
    const wanted = ctx.query.health;
    sendTable(ctx, INDICES_COLUMNS, rows.filter((r) => r.health === wanted));
    return;
  }
  sendTable(ctx, INDICES_COLUMNS, rows);
}

const HEALTH_COLUMNS: Column[] = [
  { name: 'epoch', alignRight: true, description: 'seconds since 1970-01-01 00:00:00' },
  { name: 'timestamp', description: 'time in HH:MM:SS' },
  { name: 'cluster', description: 'cluster name' },
  { name: 'status', description: 'health status' },
  { name: 'node.total', alignRight: true, description: 'total number of nodes' },
  { name: 'node.data', alignRight: true, description: 'number of nodes that can store data' },
  { name: 'shards', alignRight: true, description: 'total number of shards' },
  { name: 'pri', alignRight: true, description: 'number of primary shards' },
  { name: 'relo', alignRight: true, description: 'number of relocating nodes' },
  { name: 'init', alignRight: true, description: 'number of initializing nodes' },
  { name: 'unassign', alignRight: true, description: 'number of unassigned shards' },
  { name: 'unassign.pri', alignRight: true, description: 'number of unassigned primary shards' },
  { name: 'pending_tasks', alignRight: true, description: 'number of pending tasks' },
  { name: 'max_task_wait_time', alignRight: true, description: 'wait time of longest task pending' },
  { name: 'active_shards_percent', alignRight: true, description: 'active number of shards in percent' },
];

function catHealth(deps: Deps, ctx: RestContext): void {
  const health = deps.node.health();
  const routing = deps.node.shardRouting();
  const nowMs = Date.now();
  const total = health.activeShards + health.initializingShards + health.unassignedShards;
  const showTimestamp = booleanParam(ctx.query, 'ts', true);
  const columns = showTimestamp ? HEALTH_COLUMNS : HEALTH_COLUMNS.filter((c) => c.name !== 'epoch' && c.name !== 'timestamp');
  sendTable(ctx, columns, [
    {
      epoch: Math.floor(nowMs / 1000),
      timestamp: new Date(nowMs).toISOString().slice(11, 19),
      cluster: health.clusterName,
      status: health.status,
      'node.total': health.numberOfNodes,
      'node.data': health.numberOfDataNodes,
      shards: health.activeShards,
      pri: health.activePrimaryShards,
      relo: health.relocatingShards,
      init: health.initializingShards,
      unassign: health.unassignedShards,
      'unassign.pri': routing.filter((r) => r.primary && r.state === 'UNASSIGNED').length,
      pending_tasks: 0,
      max_task_wait_time: '-',
      active_shards_percent: `${(total === 0 ? 100 : (100 * health.activeShards) / total).toFixed(1)}%`,
    },
  ]);
}

const SHARDS_COLUMNS: Column[] = [
  { name: 'index', description: 'index name' },
  { name: 'shard', alignRight: true, description: 'shard name' },
  { name: 'prirep', description: 'primary or replica' },
  { name: 'state', description: 'shard state' },
  { name: 'docs', alignRight: true, description: 'number of docs in shard' },
  { name: 'store', alignRight: true, description: 'store size of shard (how much disk it uses)' },
  { name: 'dataset', alignRight: true, description: 'total size of dataset' },
  { name: 'ip', description: 'ip of node where it lives' },
  { name: 'node', description: 'name of node where it lives' },
];

function catShards(deps: Deps, ctx: RestContext): void {
  const selected = new Set(resolveIndices(deps.node, ctx.params.index).map((m) => m.name));
  const nodeName = deps.node.nodeInfo().name;
  const rows: Row[] = [];
  for (const copy of deps.node.shardRouting()) {
    if (!selected.has(copy.index)) continue;
    const started = copy.state === 'STARTED' && copy.primary;
    const stats = started ? deps.node.shardStats(copy.index, copy.shard) : undefined;
    const size = stats ? formatBytes(stats.storeSizeBytes, ctx.query.bytes) : null;
    rows.push({
      index: copy.index,
      shard: copy.shard,
      prirep: copy.primary ? 'p' : 'r',
      state: copy.state,
      docs: stats ? stats.docsCount : null,
      store: size,
      dataset: size,
      ip: copy.node ? '127.0.0.1' : null,
      node: copy.node ? nodeName : null,
    });
  }
  sendTable(ctx, SHARDS_COLUMNS, rows);
}

/** Renders rows as Elasticsearch's aligned text table or as JSON, honouring `v`, `h`, `s`, `help`. */
function sendTable(ctx: RestContext, allColumns: Column[], rows: Row[]): void {
  const format = ctx.query.format ?? 'text';
  if (format !== 'text' && format !== 'json' && format !== 'txt') throw errors.illegalArgument(`Unsupported format [${format}], supported: [text, json]`);
  if (booleanParam(ctx.query, 'help', false)) {
    const width = Math.max(...allColumns.map((c) => c.name.length));
    return sendText(ctx, allColumns.map((c) => `${c.name.padEnd(width)} | ${c.description}`).join('\n') + '\n');
  }
  let columns = allColumns;
  if (ctx.query.h !== undefined) {
    columns = splitList(ctx.query.h).map((name) => {
      const column = allColumns.find((c) => c.name === name);
      if (!column) throw errors.illegalArgument(`header [${name}] not found`);
      return column;
    });
  }
  if (ctx.query.s !== undefined) {
    const keys = splitList(ctx.query.s).map((spec) => {
      const [name, direction] = spec.split(':');
      if (!allColumns.some((c) => c.name === name)) throw errors.illegalArgument(`Unable to sort by unknown sort key \`${name}\``);
      return { name, descending: direction === 'desc' };
    });
    rows = [...rows].sort((a, b) => {
      for (const key of keys) {
        const x = a[key.name];
        const y = b[key.name];
        const order = typeof x === 'number' && typeof y === 'number' ? x - y : String(x ?? '').localeCompare(String(y ?? ''));
        if (order !== 0) return key.descending ? -order : order;
      }
      return 0;
    });
  }
  if (format === 'json') {
    sendJson(
      ctx.res,
      200,
      rows.map((row) => Object.fromEntries(columns.map((c) => [c.name, row[c.name] === null ? null : String(row[c.name])]))),
    );
    return;
  }
  const verbose = booleanParam(ctx.query, 'v', false);
  const cells = rows.map((row) => columns.map((c) => (row[c.name] === null ? '' : String(row[c.name]))));
  const widths = columns.map((c, i) => Math.max(verbose ? c.name.length : 0, ...cells.map((r) => r[i].length)));
  const lines: string[] = [];
  const render = (values: string[], header: boolean): string =>
    values
      .map((value, i) => (!header && columns[i].alignRight ? value.padStart(widths[i]) : value.padEnd(widths[i])))
      .join(' ')
      .trimEnd();
  if (verbose) lines.push(render(columns.map((c) => c.name), true));
  for (const row of cells) lines.push(render(row, false));
  sendText(ctx, lines.length === 0 ? '' : lines.join('\n') + '\n');
}

function sendText(ctx: RestContext, text: string): void {
  ctx.res.statusCode = 200;
  ctx.res.setHeader('content-type', TEXT_CONTENT_TYPE);
  ctx.res.setHeader('content-length', Buffer.byteLength(text));
  ctx.res.end(text);
}

/** Sizes as `_cat` prints them: human units (`4.5kb`) by default, or a fixed unit with `?bytes=`. */
function formatBytes(sizeBytes: number, unit: string | undefined): string | number {
  const units: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3, tb: 1024 ** 4, pb: 1024 ** 5 };
  if (unit !== undefined) {
    const divisor = units[unit];
    if (divisor === undefined) throw errors.illegalArgument(`failed to parse [bytes] with value [${unit}]: unknown unit`);
    return Math.floor(sizeBytes / divisor);
  }
  const names = ['b', 'kb', 'mb', 'gb', 'tb', 'pb'];
  let value = sizeBytes;
  let index = 0;
  while (value >= 1024 && index < names.length - 1) {
    value /= 1024;
    index++;
  }
  const text = index === 0 ? String(value) : String(Math.round(value * 10) / 10);
  return `${text}${names[index]}`;
}
