/**
 * The banner (`GET /`) and cluster health (`GET /_cluster/health[/{index}]`) with its wait
 * conditions: `wait_for_status`, `wait_for_no_relocating_shards`, `wait_for_no_initializing_shards`,
 * `wait_for_active_shards`, all bounded by `timeout` (408 with `timed_out: true` when it passes).
 */
import { errors } from '../../../lib/common/errors.js';
import { HEALTH_TIMEOUT_MS_DEFAULT } from '../../../lib/common/limits.js';
import type { ClusterHealth, ShardRoutingState } from '../../../lib/cluster/api.js';
import type { Deps } from '../deps.js';
import { globMatches } from '../names.js';
import { booleanParam, timeParamMs } from '../params.js';
import { sendEmpty, sendJson } from '../respond.js';
import type { RestContext, RestRouter } from '../router.js';
import { LUCENE_VERSION } from './indices.js';

/** The Elasticsearch version we answer as (clients pick their wire behaviour from it). */
export const ES_VERSION = '8.15.0';
/**
 * How often a waiting health request re-reads the cluster state. NodeApi has no change
 * notification yet; a short poll bounded by the request's timeout is the honest substitute.
 */
const HEALTH_POLL_INTERVAL_MS = 50;

type Status = 'green' | 'yellow' | 'red';
const STATUS_RANK: Record<Status, number> = { red: 0, yellow: 1, green: 2 };

/** Registers the banner and health routes. */
export function registerClusterRoutes(router: RestRouter, deps: Deps): void {
  router.add(['GET'], '/', (ctx) => banner(deps, ctx));
  router.add(['HEAD'], '/', (ctx) => sendEmpty(ctx.res, 200));
  const healthParams = ['wait_for_status', 'timeout', 'master_timeout', 'level', 'local', 'wait_for_no_relocating_shards', 'wait_for_no_initializing_shards', 'wait_for_active_shards', 'wait_for_nodes', 'wait_for_events', 'expand_wildcards'];
  router.add(['GET'], '/_cluster/health', (ctx) => health(deps, ctx, undefined), { params: healthParams });
  router.add(['GET'], '/_cluster/health/{index}', (ctx) => health(deps, ctx, ctx.params.index), { params: healthParams });
}

function banner(deps: Deps, ctx: RestContext): void {
  const info = deps.node.nodeInfo();
  sendJson(ctx.res, 200, {
    name: info.name,
    cluster_name: info.clusterName,
    cluster_uuid: info.clusterUuid,
    version: {
      number: ES_VERSION,
      build_flavor: 'default',
      build_type: 'tar',
      build_hash: 'quarry',
      build_date: '2024-08-05T10:05:34.233336849Z',
      build_snapshot: false,
      lucene_version: LUCENE_VERSION,
      minimum_wire_compatibility_version: '7.17.0',
      minimum_index_compatibility_version: '7.0.0',
    },
    tagline: 'You Know, for Search',
  });
}

/** A health snapshot restricted to some indices (all when `names` is undefined). */
interface HealthView {
  status: Status;
  activePrimaryShards: number;
  activeShards: number;
  relocatingShards: number;
  initializingShards: number;
  unassignedShards: number;
  unassignedPrimaryShards: number;
  /** Missing index names (a requested index that does not exist keeps the status red). */
  missing: string[];
  indices: string[];
}

function view(cluster: ClusterHealth, routing: ShardRoutingState[], names: string[] | undefined): HealthView {
  const known = Object.keys(cluster.indices);
  let indices = known;
  const missing: string[] = [];
  if (names !== undefined) {
    const chosen = new Set<string>();
    for (const name of names) {
      if (name === '_all' || name === '*') known.forEach((n) => chosen.add(n));
      else if (name.includes('*')) known.filter((n) => globMatches(name, n)).forEach((n) => chosen.add(n));
      else if (cluster.indices[name]) chosen.add(name);
      else missing.push(name);
    }
    indices = [...chosen].sort();
  }
  const selected = new Set(indices);
  const copies = names === undefined ? routing : routing.filter((r) => selected.has(r.index));
  let status: Status = names === undefined ? cluster.status : 'green';
  if (names !== undefined) {
    for (const name of indices) if (STATUS_RANK[cluster.indices[name].status] < STATUS_RANK[status]) status = cluster.indices[name].status;
    if (missing.length > 0) status = 'red';
  }
  return {
    status,
    activePrimaryShards: copies.filter((c) => c.primary && (c.state === 'STARTED' || c.state === 'RELOCATING')).length,
    activeShards: copies.filter((c) => c.state === 'STARTED' || c.state === 'RELOCATING').length,
    relocatingShards: copies.filter((c) => c.state === 'RELOCATING').length,
    initializingShards: copies.filter((c) => c.state === 'INITIALIZING').length,
    unassignedShards: copies.filter((c) => c.state === 'UNASSIGNED').length,
    unassignedPrimaryShards: copies.filter((c) => c.primary && c.state === 'UNASSIGNED').length,
    missing,
    indices,
  };
}

async function health(deps: Deps, ctx: RestContext, expression: string | undefined): Promise<void> {
  const waitForStatus = ctx.query.wait_for_status as Status | undefined;
  if (waitForStatus !== undefined && !(waitForStatus in STATUS_RANK)) {
    throw errors.illegalArgument(`unknown cluster health status [${waitForStatus}]`);
  }
  const timeoutMs = timeParamMs(ctx.query, 'timeout', HEALTH_TIMEOUT_MS_DEFAULT);
  const level = ctx.query.level ?? 'cluster';
  if (level !== 'cluster' && level !== 'indices' && level !== 'shards') throw errors.illegalArgument(`level must be one of [cluster, indices, shards], found [${level}]`);
  const noRelocating = booleanParam(ctx.query, 'wait_for_no_relocating_shards', false);
  const noInitializing = booleanParam(ctx.query, 'wait_for_no_initializing_shards', false);
  const activeShardsWanted = ctx.query.wait_for_active_shards;
  const names = expression?.split(',').map((s) => s.trim()).filter((s) => s.length > 0);

  const satisfied = (v: HealthView): boolean => {
    // A named index that does not exist is waited for, as in Elasticsearch.
    if (v.missing.length > 0) return false;
    if (waitForStatus !== undefined && STATUS_RANK[v.status] < STATUS_RANK[waitForStatus]) return false;
    if (noRelocating && v.relocatingShards > 0) return false;
    if (noInitializing && v.initializingShards > 0) return false;
    if (activeShardsWanted !== undefined && activeShardsWanted !== '0') {
      const all = v.activeShards + v.initializingShards + v.unassignedShards;
      const wanted = activeShardsWanted === 'all' ? all : Number(activeShardsWanted);
      if (!Number.isFinite(wanted)) throw errors.illegalArgument(`wait_for_active_shards must be [all] or a number, found [${activeShardsWanted}]`);
      if (v.activeShards < wanted) return false;
    }
    return true;
  };
  const mustWait = waitForStatus !== undefined || noRelocating || noInitializing || activeShardsWanted !== undefined || names !== undefined;
  const deadlineMs = Date.now() + Math.max(0, timeoutMs);
  let cluster = deps.node.health();
  let current = view(cluster, deps.node.shardRouting(), names);
  let timedOut = false;
  if (mustWait) {
    while (!satisfied(current)) {
      if (Date.now() >= deadlineMs || ctx.req.socket.destroyed) {
        timedOut = true;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(HEALTH_POLL_INTERVAL_MS, Math.max(1, deadlineMs - Date.now()))));
      cluster = deps.node.health();
      current = view(cluster, deps.node.shardRouting(), names);
    }
  }
  const totalCopies = current.activeShards + current.initializingShards + current.unassignedShards;
  const body: Record<string, unknown> = {
    cluster_name: cluster.clusterName,
    status: current.status,
    timed_out: timedOut,
    number_of_nodes: cluster.numberOfNodes,
    number_of_data_nodes: cluster.numberOfDataNodes,
    active_primary_shards: current.activePrimaryShards,
    active_shards: current.activeShards,
    relocating_shards: current.relocatingShards,
    initializing_shards: current.initializingShards,
    unassigned_shards: current.unassignedShards,
    unassigned_primary_shards: current.unassignedPrimaryShards,
    delayed_unassigned_shards: 0,
    number_of_pending_tasks: 0,
    number_of_in_flight_fetch: 0,
    task_max_waiting_in_queue_millis: 0,
    active_shards_percent_as_number: totalCopies === 0 ? 100.0 : (100 * current.activeShards) / totalCopies,
  };
  if (level !== 'cluster') {
    const routing = deps.node.shardRouting();
    const indices: Record<string, unknown> = {};
    for (const name of current.indices) {
      const entry = cluster.indices[name];
      const copies = routing.filter((r) => r.index === name);
      const indexJson: Record<string, unknown> = {
        status: entry.status,
        number_of_shards: entry.numberOfShards,
        number_of_replicas: entry.numberOfReplicas,
        active_primary_shards: entry.activePrimaryShards,
        active_shards: entry.activeShards,
        relocating_shards: copies.filter((c) => c.state === 'RELOCATING').length,
        initializing_shards: copies.filter((c) => c.state === 'INITIALIZING').length,
        unassigned_shards: entry.unassignedShards,
        unassigned_primary_shards: copies.filter((c) => c.primary && c.state === 'UNASSIGNED').length,
      };
      if (level === 'shards') indexJson.shards = shardHealth(copies, entry.numberOfShards);
      indices[name] = indexJson;
    }
    body.indices = indices;
  }
  // Elasticsearch answers a timed-out wait with 408 and the health it saw.
  sendJson(ctx.res, timedOut ? 408 : 200, body);
}

function shardHealth(copies: ShardRoutingState[], numberOfShards: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let shard = 0; shard < numberOfShards; shard++) {
    const mine = copies.filter((c) => c.shard === shard);
    const primaryActive = mine.some((c) => c.primary && (c.state === 'STARTED' || c.state === 'RELOCATING'));
    const unassigned = mine.filter((c) => c.state === 'UNASSIGNED').length;
    out[String(shard)] = {
      status: !primaryActive ? 'red' : unassigned > 0 ? 'yellow' : 'green',
      primary_active: primaryActive,
      active_shards: mine.filter((c) => c.state === 'STARTED' || c.state === 'RELOCATING').length,
      relocating_shards: mine.filter((c) => c.state === 'RELOCATING').length,
      initializing_shards: mine.filter((c) => c.state === 'INITIALIZING').length,
      unassigned_shards: unassigned,
      unassigned_primary_shards: mine.filter((c) => c.primary && c.state === 'UNASSIGNED').length,
    };
  }
  return out;
}
