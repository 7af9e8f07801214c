/**
 * `npm run bench`: runs the chosen scenarios on the chosen corpora, Quarry and its peers on the
 * same docs in the same run, prints sizes first and then one table per scenario and corpus, and
 * writes everything to bench/results/<timestamp>.json. Exits 0 with one line when the corpora are
 * absent, so CI without them stays green.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { corporaDir as findCorporaDir, corpusPath, findRepoRoot, loadCorpus, type LoadedCorpus } from './corpus.js';
import { formatMegabytes, formatNumber, formatTargetMark } from './format.js';
import { probeFsyncMedianMs } from './proc.js';
import { parseBenchOptions, USAGE, type CorpusName } from './options.js';
import { quarryBinPath } from './quarry-node.js';
import { TempDirs, type ScenarioContext, type ScenarioReport } from './scenario.js';
import { runIndexScenario } from './scenarios/indexing.js';
import { runRecoveryScenario } from './scenarios/recovery.js';

/** The corpus the recovery scenario prefers: the largest, since the target is about 100k ops. */
const RECOVERY_CORPUS_PREFERRED: CorpusName = 'debian';

async function main(): Promise<number> {
  let options;
  try {
    options = parseBenchOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`bench: ${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const repoRoot = findRepoRoot();
  const corporaDir = findCorporaDir(repoRoot);
  const missing = options.corpora.filter((name) => !existsSync(corpusPath(corporaDir, name)));
  if (missing.length > 0) {
    process.stdout.write(`bench: corpora not found (${missing.map((name) => `${name}.ndjson`).join(', ')} in ${corporaDir}); set QUARRY_CORPORA to run the benchmarks. Nothing to do.\n`);
    return 0;
  }

  const tempDirs = new TempDirs();
  const loaded = new Map<CorpusName, LoadedCorpus>();
  const context: ScenarioContext = {
    options,
    repoRoot,
    corporaDir,
    quarryBinPath: quarryBinPath(repoRoot),
    corpus(name) {
      let corpus = loaded.get(name);
      if (corpus === undefined) {
        corpus = loadCorpus(corporaDir, name, options.docsLimit);
        loaded.set(name, corpus);
      }
      return corpus;
    },
    tempDir: (label) => tempDirs.create(label),
  };

  const environment = await describeEnvironment(repoRoot);
  process.stdout.write(`Quarry bench · ${environment.summary}\n`);
  process.stdout.write(`Quarry node: ${context.quarryBinPath ?? 'NOT BUILT (dist/bin/quarry.js missing): peers only'}\n`);
  // Sizes first, so every figure below reads against the data it came from.
  process.stdout.write(`corpora (${corporaDir}):\n`);
  for (const name of options.corpora) {
    const corpus = context.corpus(name);
    const averageBytes = corpus.docs.length === 0 ? 0 : corpus.sourceBytes / corpus.docs.length;
    process.stdout.write(
      `  ${name}: ${formatNumber(corpus.docs.length)} docs${corpus.docs.length < corpus.docsInFile ? ` (of ${formatNumber(corpus.docsInFile)})` : ''}, ` +
        `${formatMegabytes(corpus.sourceBytes)} MB, ${formatNumber(averageBytes)} bytes/doc\n`,
    );
  }
  process.stdout.write('\n');

  const reports: ScenarioReport[] = [];
  const startedAt = new Date();
  try {
    if (options.scenarios.includes('index')) {
      for (const name of options.corpora) reports.push(print(await runIndexScenario(context, context.corpus(name))));
    }
    if (options.scenarios.includes('recovery')) {
      const name = options.corpora.includes(RECOVERY_CORPUS_PREFERRED) ? RECOVERY_CORPUS_PREFERRED : options.corpora[0]!;
      reports.push(print(await runRecoveryScenario(context, context.corpus(name))));
    }
  } finally {
    const kept = await tempDirs.cleanup(options.keepData);
    if (options.keepData && kept.length > 0) process.stdout.write(`kept temp dirs:\n${kept.map((path) => `  ${path}\n`).join('')}`);
  }

  process.stdout.write('summary of targets:\n');
  for (const report of reports) {
    for (const target of report.targets) process.stdout.write(`  [${report.scenario} ${report.corpus}] ${target.target}: ${formatTargetMark(target.met)} (${target.detail})\n`);
  }
  const resultsDir = join(repoRoot, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const resultsPath = join(resultsDir, `${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  const results = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    environment,
    options: { ...options, docsLimit: Number.isFinite(options.docsLimit) ? options.docsLimit : null },
    corpora: [...loaded.values()].map((corpus) => ({ name: corpus.name, path: corpus.path, docs: corpus.docs.length, sourceBytes: corpus.sourceBytes })),
    reports: reports.map(({ scenario, corpus, targets, json }) => ({ scenario, corpus, targets, results: json })),
  };
  writeFileSync(resultsPath, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`results: ${resultsPath}\n`);
  return 0;
}

function print(report: ScenarioReport): ScenarioReport {
  process.stdout.write(`${report.text}\n\n`);
  return report;
}

/** Machine and code identity for the results file, so runs on different commits compare honestly. */
async function describeEnvironment(repoRoot: string) {
  let gitCommit: string | undefined;
  try {
    gitCommit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim();
  } catch {
    gitCommit = undefined;
  }
  let tempFilesystem: string | undefined;
  try {
    tempFilesystem = execFileSync('stat', ['-f', '-c', '%T', tmpdir()], { encoding: 'utf8' }).trim();
  } catch {
    tempFilesystem = undefined;
  }
  const fsyncMedianMs = await probeFsyncMedianMs(tmpdir());
  const cpuList = cpus();
  const memoryGb = totalmem() / 1024 ** 3;
  return {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpuModel: cpuList[0]?.model ?? 'unknown',
    cpuCount: cpuList.length,
    memoryBytes: totalmem(),
    gitCommit,
    tempDir: tmpdir(),
    tempFilesystem,
    fsyncMedianMs,
    summary:
      `node ${process.version}, ${cpuList.length} × ${cpuList[0]?.model ?? 'cpu'}, ${memoryGb.toFixed(0)} GB, commit ${gitCommit ?? '?'}\n` +
      `temp dir ${tmpdir()} (${tempFilesystem ?? '?'}), 4 KiB write+fsync median ${fsyncMedianMs.toFixed(2)} ms`,
  };
}

main().then(
  (exitCode) => {
    process.exitCode = exitCode;
  },
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
