// Throwaway dev harness (not committed): an in-memory NodeApi to smoke-test the app before bin/node.ts lands.
import pino from 'pino';
import { createApp } from './app.js';
import { QuarryError, errors } from '../../lib/common/errors.js';
import type { NodeApi, IndexMetadata, ShardWriteResult } from '../../lib/cluster/api.js';

const indices = new Map<string, IndexMetadata>();
const docs = new Map<string, { source: Uint8Array; version: number; seqNo: number }>();
let seq = 0;
const node: NodeApi = {
  nodeInfo: () => ({ name: 'n', clusterName: 'c', clusterUuid: 'u', nodeId: 'id' }),
  getIndex: (n) => indices.get(n),
  listIndices: () => [...indices.values()],
  async createIndex(r) {
    if (indices.has(r.name)) throw errors.indexExists(r.name, 'x');
    const s: any = r.settings ?? {};
    const shards = Number(s.number_of_shards ?? s.index?.number_of_shards ?? 1);
    const m: IndexMetadata = { name: r.name, uuid: 'uuid-' + r.name, settings: { numberOfShards: shards, numberOfReplicas: 1, refreshIntervalMs: 1000, translogDurability: 'request', translogSyncIntervalMs: 5000, searchRealtime: true, maxResultWindow: 10000, raw: {} }, mappings: { properties: {} }, creationDateMs: Date.now(), version: 1 };
    indices.set(r.name, m); return m;
  },
  async deleteIndex(n) { indices.delete(n); },
  async putMapping(n) { return indices.get(n)!; },
  health: () => ({ clusterName: 'c', status: 'yellow', numberOfNodes: 1, numberOfDataNodes: 1, activePrimaryShards: 1, activeShards: 1, relocatingShards: 0, initializingShards: 0, unassignedShards: 1, indices: Object.fromEntries([...indices.keys()].map((k) => [k, { status: 'yellow' as const, numberOfShards: 1, numberOfReplicas: 1, activePrimaryShards: 1, activeShards: 1, unassignedShards: 1 }])) }),
  shardRouting: () => [...indices.values()].flatMap((m) => [{ index: m.name, shard: 0, primary: true, state: 'STARTED' as const, node: 'id' }, { index: m.name, shard: 0, primary: false, state: 'UNASSIGNED' as const, node: null }]),
  async bulk(r) {
    return { items: r.items.map((it): ShardWriteResult => {
      const key = r.index + '/' + it.id; const cur = docs.get(key);
      if (it.op === 'create' && cur) return { status: 409, id: it.id, error: { type: 'version_conflict_engine_exception', reason: `[${it.id}]: version conflict, document already exists (current version [${cur.version}])`, index: r.index, shard: String(r.shard), index_uuid: 'u' } };
      if (it.op === 'delete') { if (!cur) return { status: 404, id: it.id, result: 'not_found', version: 1, seqNo: seq++, primaryTerm: 1 }; docs.delete(key); return { status: 200, id: it.id, result: 'deleted', version: cur.version + 1, seqNo: seq++, primaryTerm: 1 }; }
      if (it.op === 'update') { if (!cur) return { status: 404, id: it.id, error: errors.documentMissing(r.index, r.shard, it.id, 'u').toBody() as any }; const merged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(cur.source).toString()), ...it.update!.doc })); docs.set(key, { source: merged, version: cur.version + 1, seqNo: seq }); return { status: 200, id: it.id, result: 'updated', version: cur.version + 1, seqNo: seq++, primaryTerm: 1, get: it.update?.fetchSource ? { source: merged, found: true, seqNo: seq - 1, primaryTerm: 1, version: cur.version + 1 } : undefined }; }
      docs.set(key, { source: it.source!, version: (cur?.version ?? 0) + 1, seqNo: seq });
      return { status: cur ? 200 : 201, id: it.id, result: cur ? 'updated' : 'created', version: (cur?.version ?? 0) + 1, seqNo: seq++, primaryTerm: 1, forcedRefresh: r.refresh === 'true' };
    }) };
  },
  async get(r) { const d = docs.get(r.index + '/' + r.id); return d ? { found: true, id: r.id, version: d.version, seqNo: d.seqNo, primaryTerm: 1, source: d.source } : { found: false, id: r.id }; },
  async search(r) { const hits = [...docs.entries()].filter(([k]) => k.startsWith(r.index + '/')).map(([k, d], i) => ({ id: k.split('/')[1], score: 1, docKey: i, source: d.source })); return { hits: hits.slice(0, r.size), totalHits: hits.length, totalRelation: 'eq', maxScore: hits.length ? 1 : null }; },
  async count(r) { return [...docs.keys()].filter((k) => k.startsWith(r.index + '/')).length; },
  async refresh() {}, async flush() {}, async forceMerge() {},
  shardStats: (index, shard) => ({ index, shard, primary: true, docsCount: 1, docsDeleted: 0, storeSizeBytes: 5000, indexingIndexTotal: 1, indexingIndexTimeMs: 0, indexingDeleteTotal: 0, indexingIndexCurrent: 0, getTotal: 0, searchQueryTotal: 0, searchQueryTimeMs: 0, refreshTotal: 0, refreshTimeMs: 0, flushTotal: 0, flushTimeMs: 0, mergeTotal: 0, mergeTimeMs: 0, mergeCurrent: 0, mergeDocs: 0, mergeSizeBytes: 0, segmentsCount: 1, translogOperations: 0, translogSizeBytes: 0, translogUncommittedOperations: 0, translogUncommittedSizeBytes: 0, seqNoMax: 0, localCheckpoint: 0, globalCheckpoint: 0 }),
  segments: () => [{ name: '_0', generation: 0, numDocs: 1, deletedDocs: 0, sizeBytes: 100, committed: true, search: true, version: '9.11.1', compound: true, attributes: {} }],
};
void QuarryError;
const app = createApp(node, { logger: pino({ level: 'debug' }) });
app.listen(Number(process.env.PORT ?? 9399), '127.0.0.1', () => console.log('listening'));
