/**
 * Scenario "index": bulk indexing of one corpus by Quarry (a real node over REST, fsync per bulk)
 * and by the peers (SQLite FTS5, MiniSearch, each in its own process) with the same docs in the
 * same 1,000-doc batches, then refresh, merge to one segment, peak RSS and disk size. Prints one
 * table with Quarry ÷ peer ratios and the §9 indexing targets.
 */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { bulkLoad, prepareBulks, type PreparedBulk } from '../bulk-load.js';
import type { LoadedCorpus } from '../corpus.js';
import { formatMegabytes, formatNumber, formatRatio, formatTargetMark, ratioOf, renderTable, type Figure } from '../format.js';
import type { PeerIndexArgs, PeerIndexResult } from '../peers/protocol.js';
import { dirSize, runChildScript } from '../proc.js';
import { countOf, QuarryNode } from '../quarry-node.js';
import type { MappingMode } from '../options.js';
import type { ScenarioContext, ScenarioReport, TargetVerdict } from '../scenario.js';
import { ratePerSecond } from '../stats.js';

/** The index the bench writes to. */
export const BENCH_INDEX = 'bench';
/** A peer may take this long for one corpus before it is killed. */
const PEER_DEADLINE_MS = 30 * 60_000;
/** §9: Quarry's bulk docs/s must be at least this multiple of MiniSearch's. */
const MINISEARCH_MULTIPLE_TARGET = 3;
const BYTES_PER_MB = 1024 * 1024;
/** §9: a refresh of this many buffered docs must take < REFRESH_10K_TARGET_MS ... */
const REFRESH_DOCS = 10_000;
const REFRESH_10K_TARGET_MS = 250;
/** ... and never block the event loop longer than this (seen as the slowest probe answer). */
const REFRESH_STALL_TARGET_MS = 50;
/** The index the refresh measurement writes to. */
const REFRESH_INDEX = 'bench-refresh';

/** Figures of one engine on one corpus; undefined where the engine has no such thing. */
export interface EngineIndexFigures {
  engine: string;
  docs: number;
  indexMs: number;
  docsPerSecond: number;
  megabytesPerSecond: number;
  refreshMs?: number;
  /** §9: `_refresh` of 10,000 buffered docs (a second index, refresh_interval -1). */
  refresh10kMs?: number;
  /** Slowest `GET /` answered while that refresh ran (probes back to back): how long the event loop stalled, at most. */
  refresh10kMaxProbeMs?: number;
  mergeMs?: number;
  peakRssBytes?: number;
  baselineRssBytes?: number;
  diskAllocatedBytes?: number;
  diskApparentBytes?: number;
  /** Heap the in-memory index holds (heap after indexing minus heap before, both after a full GC). */
  indexHeapBytes?: number;
  /** `_count` after the refresh (Quarry): must equal docs. */
  countAfterRefresh?: number;
  failedItems?: number;
  notes: string[];
}

/** An engine that could not be measured, and why. */
export interface EngineFailure {
  engine: string;
  error: string;
}

/**
 * The PUT body of the bench index. `peers` maps the corpus fields the way the peers index them
 * (SQLite FTS5 and MiniSearch: full text on title and body; the id is the key) so the engines do
 * the same work; `dynamic` leaves mapping to Elasticsearch's defaults (text + .keyword per string).
 */
export function benchIndexBody(mapping: MappingMode, settings: Record<string, unknown>): Record<string, unknown> {
  const body: Record<string, unknown> = { settings: { number_of_shards: 1, number_of_replicas: 0, ...settings } };
  if (mapping === 'peers') body.mappings = { properties: { id: { type: 'keyword' }, title: { type: 'text' }, body: { type: 'text' } } };
  return body;
}

/** Runs the index scenario on one corpus. */
export async function runIndexScenario(context: ScenarioContext, corpus: LoadedCorpus): Promise<ScenarioReport> {
  const { options } = context;
  const figures: EngineIndexFigures[] = [];
  const failures: EngineFailure[] = [];
  const attempt = async (engine: string, run: () => Promise<EngineIndexFigures>): Promise<void> => {
    try {
      figures.push(await run());
    } catch (error) {
      failures.push({ engine, error: (error as Error).message });
      process.stderr.write(`  ${engine} failed: ${(error as Error).message}\n`);
    }
  };

  await attempt('sqlite-fts5', () => runPeer(context, corpus, 'sqlite-fts5'));
  await attempt('minisearch', () => runPeer(context, corpus, 'minisearch'));
  const binPath = context.quarryBinPath;
  if (binPath === undefined) {
    failures.push({ engine: 'quarry', error: 'not run: dist/bin/quarry.js does not exist (the node is not built yet)' });
  } else {
    const bulks = prepareBulks(corpus.docs, options.batchDocs);
    await attempt('quarry', () => runQuarry(context, corpus, binPath, bulks, 1));
    if (options.concurrency > 1) {
      await attempt(`quarry-c${options.concurrency}`, () => runQuarry(context, corpus, binPath, bulks, options.concurrency));
    }
  }

  const targets = indexTargets(figures);
  const text = renderIndexReport(corpus, options.batchDocs, figures, failures, targets, options.mapping);
  return {
    scenario: 'index',
    corpus: corpus.name,
    text,
    targets,
    json: { docs: corpus.docs.length, sourceBytes: corpus.sourceBytes, batchDocs: options.batchDocs, mapping: options.mapping, engines: figures, failures },
  };
}

async function runPeer(context: ScenarioContext, corpus: LoadedCorpus, engine: 'sqlite-fts5' | 'minisearch'): Promise<EngineIndexFigures> {
  const scriptPath = fileURLToPath(new URL(`../peers/${engine}.js`, import.meta.url));
  const args: PeerIndexArgs = {
    corpusPath: corpus.path,
    docsLimit: Number.isFinite(context.options.docsLimit) ? context.options.docsLimit : null,
    batchDocs: context.options.batchDocs,
    dataDir: await context.tempDir(engine),
    label: `${engine} ${corpus.name}`,
  };
  const nodeFlags = engine === 'minisearch' ? ['--expose-gc'] : [];
  const result = await runChildScript<PeerIndexResult>(scriptPath, args, PEER_DEADLINE_MS, nodeFlags);
  if (result.docs !== corpus.docs.length) throw new Error(`${engine} indexed ${result.docs} docs, expected ${corpus.docs.length}`);
  const indexHeapBytes =
    result.heapUsedBytes != null && result.baselineHeapUsedBytes != null ? result.heapUsedBytes - result.baselineHeapUsedBytes : undefined;
  return {
    engine,
    docs: result.docs,
    indexMs: result.indexMs,
    docsPerSecond: ratePerSecond(result.docs, result.indexMs),
    megabytesPerSecond: ratePerSecond(corpus.sourceBytes / BYTES_PER_MB, result.indexMs),
    mergeMs: result.mergeMs ?? undefined,
    peakRssBytes: result.peakRssBytes ?? undefined,
    baselineRssBytes: result.baselineRssBytes,
    diskAllocatedBytes: result.diskAllocatedBytes ?? undefined,
    diskApparentBytes: result.diskApparentBytes ?? undefined,
    indexHeapBytes,
    notes: [],
  };
}

/** Times `POST path`; a non-2xx answer is a note, not a failure, so one missing endpoint does not hide the rest. */
async function timedPost(node: QuarryNode, path: string, notes: string[]): Promise<number | undefined> {
  const startedAtMs = performance.now();
  const response = await node.request('POST', path);
  const elapsedMs = performance.now() - startedAtMs;
  if (response.status >= 200 && response.status <= 299) return elapsedMs;
  notes.push(`POST ${path} answered ${response.status}`);
  return undefined;
}

async function runQuarry(
  context: ScenarioContext,
  corpus: LoadedCorpus,
  binPath: string,
  bulks: readonly PreparedBulk[],
  concurrency: number,
): Promise<EngineIndexFigures> {
  const engine = concurrency === 1 ? 'quarry' : `quarry-c${concurrency}`;
  const dataDir = await context.tempDir(`${engine}-data`);
  const logPath = join(await context.tempDir(`${engine}-log`), 'node.log');
  const { node } = await QuarryNode.start({ binPath, dataDir, name: 'bench', logPath });
  try {
    await node.requestOk('PUT', `/${BENCH_INDEX}`, benchIndexBody(context.options.mapping, {}));
    const baselineRssBytes = node.rssBytes();
    const load = await bulkLoad(node, BENCH_INDEX, bulks, concurrency, `${engine} ${corpus.name}`);
    const notes: string[] = [];
    if (load.failedItems > 0) notes.push(`${load.failedItems} bulk items failed, first: ${load.firstError}`);
    const refreshMs = await timedPost(node, `/${BENCH_INDEX}/_refresh`, notes);
    const countResponse = await node.request('GET', `/${BENCH_INDEX}/_count`);
    const countAfterRefresh = countOf(countResponse.body);
    if (countAfterRefresh !== corpus.docs.length) notes.push(`_count after refresh: ${countAfterRefresh ?? countResponse.status}, expected ${corpus.docs.length}`);
    const refresh10k = await measureRefresh(node, corpus, context.options.mapping, notes);
    const mergeMs = await timedPost(node, `/${BENCH_INDEX}/_forcemerge?max_num_segments=1`, notes);
    const disk = await dirSize(dataDir);
    const peakRssBytes = node.peakRssBytes();
    return {
      engine,
      docs: load.docs,
      indexMs: load.indexMs,
      docsPerSecond: ratePerSecond(load.docs, load.indexMs),
      megabytesPerSecond: ratePerSecond(corpus.sourceBytes / BYTES_PER_MB, load.indexMs),
      refreshMs,
      refresh10kMs: refresh10k?.refreshMs,
      refresh10kMaxProbeMs: refresh10k?.maxProbeMs,
      mergeMs,
      peakRssBytes,
      baselineRssBytes,
      diskAllocatedBytes: disk.allocatedBytes,
      diskApparentBytes: disk.apparentBytes,
      countAfterRefresh,
      failedItems: load.failedItems,
      notes,
    };
  } finally {
    await node.stop();
  }
}

/**
 * §9 refresh target (corpora of at least REFRESH_DOCS docs): loads the first REFRESH_DOCS docs into a second index with refresh_interval -1,
 * then times `POST /_refresh` while another connection sends `GET /` back to back; the slowest probe
 * bounds the longest event-loop stall the refresh caused (plus one HTTP round trip).
 */
async function measureRefresh(
  node: QuarryNode,
  corpus: LoadedCorpus,
  mapping: MappingMode,
  notes: string[],
): Promise<{ refreshMs: number; maxProbeMs: number } | undefined> {
  // A smaller corpus cannot fill the 10,000-doc buffer the target names: not measured there.
  if (corpus.docs.length < REFRESH_DOCS) return undefined;
  const docs = corpus.docs.slice(0, REFRESH_DOCS);
  await node.requestOk('PUT', `/${REFRESH_INDEX}`, benchIndexBody(mapping, { refresh_interval: '-1' }));
  const load = await bulkLoad(node, REFRESH_INDEX, prepareBulks(docs, 1000), 1, `quarry refresh ${corpus.name}`);
  if (load.failedItems > 0) notes.push(`refresh measurement: ${load.failedItems} bulk items failed`);
  let probing = true;
  let maxProbeMs = 0;
  const prober = (async () => {
    while (probing) {
      const startedAtMs = performance.now();
      await node.request('GET', '/');
      maxProbeMs = Math.max(maxProbeMs, performance.now() - startedAtMs);
    }
  })();
  // Let the prober reach its steady state (a connection open) before the refresh starts.
  await node.request('GET', '/');
  const refreshMs = await timedPost(node, `/${REFRESH_INDEX}/_refresh`, notes);
  probing = false;
  await prober;
  const count = countOf((await node.request('GET', `/${REFRESH_INDEX}/_count`)).body);
  if (count !== docs.length) notes.push(`refresh measurement: _count ${count}, expected ${docs.length}`);
  await node.request('DELETE', `/${REFRESH_INDEX}`);
  return refreshMs === undefined ? undefined : { refreshMs, maxProbeMs };
}

/** §9 indexing targets: Quarry (one bulk at a time) against SQLite FTS5 and 3× MiniSearch. */
export function indexTargets(figures: readonly EngineIndexFigures[]): TargetVerdict[] {
  const byEngine = (engine: string) => figures.find((figure) => figure.engine === engine);
  const quarry = byEngine('quarry');
  const sqlite = byEngine('sqlite-fts5');
  const minisearch = byEngine('minisearch');
  // A load that lost docs cannot meet a throughput target, however fast it was.
  const quarryComplete = quarry !== undefined && (quarry.failedItems ?? 0) === 0 && quarry.countAfterRefresh === quarry.docs;
  const verdict = (target: string, peer: EngineIndexFigures | undefined, multiple: number): TargetVerdict => {
    const ratio = ratioOf(quarry?.docsPerSecond, peer?.docsPerSecond);
    if (ratio === undefined) {
      const missing = [quarry === undefined ? 'Quarry' : undefined, peer === undefined ? 'the peer' : undefined].filter(Boolean).join(' and ');
      return { target, met: undefined, detail: `${missing} not measured` };
    }
    const detail = `${ratio.toFixed(2)}× ${quarryComplete ? '' : '(but the load was incomplete: see notes)'}`.trim();
    return { target, met: quarryComplete && ratio >= multiple, detail };
  };
  const refreshVerdict: TargetVerdict =
    quarry?.refresh10kMs === undefined || quarry.refresh10kMaxProbeMs === undefined
      ? { target: `refresh of ${formatNumber(REFRESH_DOCS)} docs < ${REFRESH_10K_TARGET_MS} ms, event loop never blocked > ${REFRESH_STALL_TARGET_MS} ms`, met: undefined, detail: 'not measured' }
      : {
          target: `refresh of ${formatNumber(REFRESH_DOCS)} docs < ${REFRESH_10K_TARGET_MS} ms, event loop never blocked > ${REFRESH_STALL_TARGET_MS} ms`,
          met: quarry.refresh10kMs < REFRESH_10K_TARGET_MS && quarry.refresh10kMaxProbeMs < REFRESH_STALL_TARGET_MS,
          detail: `${formatNumber(quarry.refresh10kMs)} ms, slowest probe ${formatNumber(quarry.refresh10kMaxProbeMs)} ms`,
        };
  return [
    verdict('bulk docs/s ≥ SQLite FTS5', sqlite, 1),
    verdict(`bulk docs/s ≥ ${MINISEARCH_MULTIPLE_TARGET}× MiniSearch`, minisearch, MINISEARCH_MULTIPLE_TARGET),
    refreshVerdict,
  ];
}

const ENGINE_LABELS: Record<string, string> = { quarry: 'Quarry', 'sqlite-fts5': 'SQLite FTS5', minisearch: 'MiniSearch' };

function engineLabel(engine: string): string {
  const concurrent = /^quarry-c(\d+)$/.exec(engine);
  return concurrent ? `Quarry ×${concurrent[1]}` : (ENGINE_LABELS[engine] ?? engine);
}

/** Renders the per-corpus table: one row per metric, one column per engine, then Quarry ÷ peer ratios. */
export function renderIndexReport(
  corpus: Pick<LoadedCorpus, 'name' | 'docs' | 'sourceBytes'>,
  batchDocs: number,
  figures: readonly EngineIndexFigures[],
  failures: readonly EngineFailure[],
  targets: readonly TargetVerdict[],
  mapping: MappingMode = 'peers',
): string {
  const order = ['quarry', ...figures.map((f) => f.engine).filter((e) => e.startsWith('quarry-c')), 'sqlite-fts5', 'minisearch'];
  const columns = order.filter((engine, index) => order.indexOf(engine) === index);
  const byEngine = (engine: string) => figures.find((figure) => figure.engine === engine);
  const quarry = byEngine('quarry');
  const sqlite = byEngine('sqlite-fts5');
  const minisearch = byEngine('minisearch');
  const rows: Array<[string, (figure: EngineIndexFigures | undefined) => Figure, (figure: Figure) => string]> = [
    ['docs/s', (f) => f?.docsPerSecond, (v) => formatNumber(v)],
    ['MB/s (source)', (f) => f?.megabytesPerSecond, (v) => formatNumber(v, 2)],
    ['index s', (f) => (f === undefined ? undefined : f.indexMs / 1000), (v) => formatNumber(v, 2)],
    ['refresh ms', (f) => f?.refreshMs, (v) => formatNumber(v, 1)],
    ['merge ms', (f) => f?.mergeMs, (v) => formatNumber(v, 1)],
    ['peak RSS MB', (f) => f?.peakRssBytes, formatMegabytes],
    ['RSS before MB', (f) => f?.baselineRssBytes, formatMegabytes],
    ['refresh 10k docs ms', (f) => f?.refresh10kMs, formatNumber],
    ['  slowest GET / meanwhile ms', (f) => f?.refresh10kMaxProbeMs, formatNumber],
    ['disk MB', (f) => f?.diskAllocatedBytes, formatMegabytes],
    ['index heap MB', (f) => f?.indexHeapBytes, formatMegabytes],
  ];
  const header = ['metric', ...columns.map(engineLabel), 'Quarry/SQLite', 'Quarry/MiniSearch'];
  const tableRows = rows.map(([name, pick, format]) => [
    name,
    ...columns.map((engine) => format(pick(byEngine(engine)))),
    formatRatio(pick(quarry), pick(sqlite)),
    formatRatio(pick(quarry), pick(minisearch)),
  ]);
  const title =
    `index · ${corpus.name}: ${formatNumber(corpus.docs.length)} docs, ${formatMegabytes(corpus.sourceBytes)} MB source, ` +
    `batches of ${formatNumber(batchDocs)} docs, ${mapping === 'peers' ? 'mapping like the peers (id keyword, title/body text)' : 'dynamic mapping'}`;
  const lines = [title, renderTable(header, tableRows)];
  for (const figure of figures) for (const note of figure.notes) lines.push(`  note ${engineLabel(figure.engine)}: ${note}`);
  for (const failure of failures) lines.push(`  ${engineLabel(failure.engine)}: ${failure.error.split('\n')[0]}`);
  lines.push('targets (architecture §9):');
  for (const target of targets) lines.push(`  ${target.target}: ${formatTargetMark(target.met)} (${target.detail})`);
  return lines.join('\n');
}
