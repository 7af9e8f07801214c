/**
 * Scenario "recovery": a fresh node with `refresh_interval: -1` takes N ops (the corpus, then
 * updates of its docs until N), is killed with `kill -9`, and is restarted on the same data dir.
 * Measures spawn → first full `GET /bench/_count` (§9: replay of 100k translog ops < 5 s), and
 * quotes what the node itself logs about translog replay.
 */
import { join } from 'node:path';
import { bulkLoad, prepareBulks } from '../bulk-load.js';
import type { LoadedCorpus } from '../corpus.js';
import { formatNumber, formatTargetMark, renderTable } from '../format.js';
import type { CorpusDoc } from '../ndjson.js';
import { pollUntil, readPeakRssBytes } from '../proc.js';
import { countOf, NODE_RESTART_DEADLINE_MS, QuarryNode } from '../quarry-node.js';
import type { ScenarioContext, ScenarioReport, TargetVerdict } from '../scenario.js';
import { BENCH_INDEX, benchIndexBody } from './indexing.js';

/** §9: restart with this many ops in the translog must be serving the full count within this. */
const RECOVERY_TARGET_MS = 5000;
/** How long the bench waits for the full count on its own before it tries an explicit refresh. */
const FULL_COUNT_DEADLINE_MS = 20_000;
/** Log lines about replay quoted in the report, at most. */
const REPLAY_LOG_LINES_MAX = 5;

/**
 * The ops of the scenario: every doc once, then updates (same ids, a revised title) cycling from
 * the first doc until `opCount`. Updates exercise the version map during replay, as real traffic does.
 */
export function recoveryOps(docs: readonly CorpusDoc[], opCount: number): { ops: CorpusDoc[]; uniqueIds: number } {
  if (docs.length === 0) throw new RangeError('recovery needs at least one doc');
  const ops: CorpusDoc[] = docs.slice(0, opCount);
  for (let index = 0; ops.length < opCount; index += 1) {
    const doc = docs[index % docs.length]!;
    const revision = Math.floor(index / docs.length) + 2;
    ops.push({ id: doc.id, title: `${doc.title} (revision ${revision})`, body: doc.body });
  }
  return { ops, uniqueIds: Math.min(docs.length, opCount) };
}

/** Lines of a node log that talk about translog replay or recovery, with any duration field found in them. */
export function replayLogLines(logText: string): Array<{ line: string; durationMs?: number }> {
  const found: Array<{ line: string; durationMs?: number }> = [];
  const aboutReplay = /translog|replay|recover/i;
  for (const line of logText.split('\n')) {
    let record: Record<string, unknown> | undefined;
    try {
      const parsed: unknown = JSON.parse(line);
      record = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
    } catch {
      record = undefined;
    }
    let durationMs: number | undefined;
    if (record !== undefined) {
      // In a JSON (pino) line only the message and its keys count: paths in other fields may say "recovery".
      const keys = Object.keys(record).join(' ');
      if (!aboutReplay.test(String(record['msg'] ?? '')) && !aboutReplay.test(keys)) continue;
      for (const [key, value] of Object.entries(record)) {
        if (durationMs === undefined && typeof value === 'number' && /(ms|millis|took|duration)/i.test(key) && key !== 'time') durationMs = value;
      }
    } else {
      if (!aboutReplay.test(line.replace(/\S*\/\S*/g, ''))) continue; // ignore paths in plain lines too
      const match = /(\d+(?:\.\d+)?)\s*ms\b/.exec(line);
      if (match) durationMs = Number(match[1]);
    }
    found.push({ line: line.slice(0, 300), durationMs });
  }
  return found;
}

/** Runs the recovery scenario on one corpus (needs the Quarry node). */
export async function runRecoveryScenario(context: ScenarioContext, corpus: LoadedCorpus): Promise<ScenarioReport> {
  const opCount = context.options.recoveryOps;
  const title = `recovery · ${corpus.name}: ${formatNumber(opCount)} ops (refresh_interval -1), kill -9, restart`;
  const target = `restart with ${formatNumber(opCount)} translog ops: full _count < ${RECOVERY_TARGET_MS / 1000} s`;
  const binPath = context.quarryBinPath;
  if (binPath === undefined) {
    const why = 'not run: dist/bin/quarry.js does not exist (the node is not built yet)';
    return { scenario: 'recovery', corpus: corpus.name, text: `${title}\n  ${why}`, targets: [{ target, met: undefined, detail: why }], json: { error: why } };
  }
  try {
    const measured = await measureRecovery(context, corpus, binPath, opCount);
    const met = measured.fullCountMs !== undefined && measured.fullCountMs < RECOVERY_TARGET_MS && measured.failedItems === 0;
    const detail =
      measured.fullCountMs === undefined
        ? measured.neededRefresh
          ? `full count not served within ${FULL_COUNT_DEADLINE_MS / 1000} s without an explicit _refresh`
          : 'full count never reached'
        : `${formatNumber(measured.fullCountMs)} ms` +
          `${measured.failedItems > 0 ? `, ${measured.failedItems} bulk items failed` : ''}`;
    const targets: TargetVerdict[] = [{ target, met, detail }];
    const rows = [
      ['ops written (fsync per bulk)', formatNumber(measured.ops)],
      ['unique docs (expected _count)', formatNumber(measured.expectedCount)],
      ['write time s', formatNumber(measured.indexMs / 1000, 2)],
      ['restart: spawn → GET / ms', formatNumber(measured.httpUpMs)],
      ['restart: spawn → full _count ms', formatNumber(measured.fullCountMs)],
      ['replay ms (node log)', formatNumber(measured.loggedReplayMs)],
      ['peak RSS after restart MB', formatNumber(measured.peakRssBytes === undefined ? undefined : measured.peakRssBytes / (1024 * 1024), 1)],
    ];
    const lines = [title, renderTable(['metric', 'Quarry'], rows)];
    if (measured.neededRefresh) {
      lines.push(
        `  note: _count stayed at ${measured.countBeforeRefresh ?? 'no answer'} for ${FULL_COUNT_DEADLINE_MS / 1000} s; ` +
          (measured.refreshThenCountMs === undefined
            ? `still not full after POST /${BENCH_INDEX}/_refresh`
            : `full after POST /${BENCH_INDEX}/_refresh (${formatNumber(measured.refreshThenCountMs)} ms)`),
      );
    }
    if (measured.replayLog.length === 0) lines.push('  note: the node logged no line about translog replay');
    for (const entry of measured.replayLog.slice(0, REPLAY_LOG_LINES_MAX)) lines.push(`  node log: ${entry.line}`);
    lines.push('targets (architecture §9):', `  ${target}: ${formatTargetMark(met)} (${detail})`);
    return { scenario: 'recovery', corpus: corpus.name, text: lines.join('\n'), targets, json: measured };
  } catch (error) {
    const message = (error as Error).message;
    process.stderr.write(`  recovery failed: ${message}\n`);
    return {
      scenario: 'recovery',
      corpus: corpus.name,
      text: `${title}\n  failed: ${message.split('\n')[0]}`,
      targets: [{ target, met: false, detail: `failed: ${message.split('\n')[0]}` }],
      json: { error: message },
    };
  }
}

interface RecoveryMeasurement {
  ops: number;
  expectedCount: number;
  indexMs: number;
  failedItems: number;
  httpUpMs: number;
  fullCountMs?: number;
  neededRefresh: boolean;
  countBeforeRefresh?: number;
  /** When the count needed an explicit refresh: how long refresh + count took (full count then, or undefined). */
  refreshThenCountMs?: number;
  loggedReplayMs?: number;
  replayLog: Array<{ line: string; durationMs?: number }>;
  peakRssBytes?: number;
}

async function measureRecovery(context: ScenarioContext, corpus: LoadedCorpus, binPath: string, opCount: number): Promise<RecoveryMeasurement> {
  const { ops, uniqueIds } = recoveryOps(corpus.docs, opCount);
  const bulks = prepareBulks(ops, context.options.batchDocs);
  const dataDir = await context.tempDir('recovery-data');
  const logDir = await context.tempDir('recovery-log');

  const first = (await QuarryNode.start({ binPath, dataDir, name: 'bench', logPath: join(logDir, 'before-kill.log') })).node;
  let load;
  try {
    await first.requestOk('PUT', `/${BENCH_INDEX}`, benchIndexBody(context.options.mapping, { refresh_interval: '-1' }));
    load = await bulkLoad(first, BENCH_INDEX, bulks, 1, `recovery ${corpus.name} (writing)`);
  } finally {
    await first.kill9(); // every bulk above was acknowledged, so every op must survive this
  }

  const { node: second, readyAtMs } = await QuarryNode.start(
    { binPath, dataDir, name: 'bench', logPath: join(logDir, 'after-restart.log') },
    NODE_RESTART_DEADLINE_MS,
  );
  try {
    const httpUpMs = readyAtMs - second.spawnedAtMs;
    let lastCount: number | undefined;
    let fullCountMs: number | undefined;
    let neededRefresh = false;
    let refreshThenCountMs: number | undefined;
    try {
      await pollUntil(
        `_count = ${uniqueIds} after restart`,
        async () => {
          second.throwIfExited();
          const response = await second.request('GET', `/${BENCH_INDEX}/_count`, undefined, 5000);
          lastCount = countOf(response.body) ?? lastCount;
          return response.status === 200 && lastCount === uniqueIds ? true : undefined;
        },
        FULL_COUNT_DEADLINE_MS,
        10,
      );
      fullCountMs = performance.now() - second.spawnedAtMs;
    } catch {
      // The node answers but does not show replayed ops without a refresh: measure that too, and say so.
      second.throwIfExited();
      neededRefresh = true;
      const refreshStartedAtMs = performance.now();
      const refresh = await second.request('POST', `/${BENCH_INDEX}/_refresh`);
      const count = countOf((await second.request('GET', `/${BENCH_INDEX}/_count`)).body);
      if (refresh.status === 200 && count === uniqueIds) refreshThenCountMs = performance.now() - refreshStartedAtMs;
    }
    const replayLog = replayLogLines(second.logText());
    return {
      ops: ops.length,
      expectedCount: uniqueIds,
      indexMs: load.indexMs,
      failedItems: load.failedItems,
      httpUpMs,
      fullCountMs,
      neededRefresh,
      countBeforeRefresh: neededRefresh ? lastCount : undefined,
      refreshThenCountMs,
      loggedReplayMs: replayLog.find((entry) => entry.durationMs !== undefined)?.durationMs,
      replayLog,
      peakRssBytes: readPeakRssBytes(second.pid),
    };
  } finally {
    await second.stop();
  }
}
