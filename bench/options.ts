/**
 * The `npm run bench` command line, parsed and validated into a resolved options object (nothing
 * optional), so scenarios never see a half-set flag. A bad flag stops the run with its value.
 */
import { parseArgs } from 'node:util';

/** Corpora the harness knows (files `<name>.ndjson` in the corpora directory). */
export const CORPUS_NAMES = ['debian', 'scifact'] as const;
export type CorpusName = (typeof CORPUS_NAMES)[number];

/** Scenarios the harness runs; later issues add query scenarios here. */
export const SCENARIO_NAMES = ['index', 'recovery'] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

/** Docs per `_bulk` request and per peer transaction/addAll: the brief's 1,000. */
export const BATCH_DOCS_DEFAULT = 1000;
/** `--quick` keeps the first this-many docs of each corpus. */
export const QUICK_DOCS = 10_000;
/** Ops the recovery scenario writes before `kill -9` (architecture §9: replay of 100k ops < 5 s). */
export const RECOVERY_OPS_DEFAULT = 100_000;
/** How the bench index maps the corpus fields: like the peers index them, or ES dynamic mapping. */
export const MAPPING_MODES = ['peers', 'dynamic'] as const;
export type MappingMode = (typeof MAPPING_MODES)[number];

/** Highest `--concurrency`: more parallel bulks than this only measures queueing on 2 cores. */
export const CONCURRENCY_MAX = 16;

/** Resolved bench options (every field present). */
export interface BenchOptions {
  corpora: CorpusName[];
  scenarios: ScenarioName[];
  /** Docs kept per corpus; Infinity for all. */
  docsLimit: number;
  /** Ops of the recovery scenario. */
  recoveryOps: number;
  batchDocs: number;
  /** 1 = one bulk at a time only; N > 1 adds a second Quarry run with N bulks in flight. */
  concurrency: number;
  /** `peers` (default): id keyword, title/body text, as the peers index them; `dynamic`: no mapping. */
  mapping: MappingMode;
  /** Keep temp data dirs for inspection instead of deleting them. */
  keepData: boolean;
  help: boolean;
}

/** The usage text printed by `--help`. */
export const USAGE = `usage: npm run bench -- [--corpus debian|scifact|all] [--scenario index|recovery|all]
                        [--quick] [--concurrency N] [--batch N] [--mapping peers|dynamic] [--keep]
  --corpus       corpora to index (default all)
  --scenario     scenarios to run (default all)
  --quick        first ${QUICK_DOCS.toLocaleString('en-US')} docs per corpus (recovery: ${QUICK_DOCS.toLocaleString('en-US')} ops)
  --concurrency  also run Quarry with N bulk requests in flight (default 1: sequential only)
  --batch        docs per bulk request / peer transaction (default ${BATCH_DOCS_DEFAULT})
  --mapping      peers: id keyword, title and body text, as the peers index them (default);
                 dynamic: no mapping (text + .keyword for every string, Elasticsearch's default)
  --keep         keep the temp data directories
corpora are read from $QUARRY_CORPORA or ../shared/corpora relative to the repo root`;

/** Parses argv (without node and script) into resolved options; throws with the bad value. */
export function parseBenchOptions(argv: readonly string[]): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      corpus: { type: 'string', default: 'all' },
      scenario: { type: 'string', default: 'all' },
      quick: { type: 'boolean', default: false },
      concurrency: { type: 'string', default: '1' },
      batch: { type: 'string', default: String(BATCH_DOCS_DEFAULT) },
      mapping: { type: 'string', default: 'peers' },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const corpora = pickNames('--corpus', values.corpus, CORPUS_NAMES);
  const scenarios = pickNames('--scenario', values.scenario, SCENARIO_NAMES);
  const concurrency = parsePositiveInteger('--concurrency', values.concurrency, CONCURRENCY_MAX);
  const batchDocs = parsePositiveInteger('--batch', values.batch, 100_000);
  const mapping = MAPPING_MODES.find((mode) => mode === values.mapping);
  if (mapping === undefined) throw new Error(`--mapping ${values.mapping}: expected one of ${MAPPING_MODES.join(', ')}`);
  return {
    corpora,
    scenarios,
    docsLimit: values.quick ? QUICK_DOCS : Number.POSITIVE_INFINITY,
    recoveryOps: values.quick ? QUICK_DOCS : RECOVERY_OPS_DEFAULT,
    batchDocs,
    concurrency,
    mapping,
    keepData: values.keep,
    help: values.help,
  };
}

function pickNames<T extends string>(flag: string, value: string, known: readonly T[]): T[] {
  if (value === 'all') return [...known];
  const names = value.split(',').map((name) => name.trim());
  for (const name of names) {
    if (!(known as readonly string[]).includes(name)) throw new Error(`${flag} ${value}: expected one of ${known.join(', ')} or all`);
  }
  return names as T[];
}

function parsePositiveInteger(flag: string, value: string, max: number): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1 || parsed > max) throw new Error(`${flag} ${value}: expected an integer from 1 to ${max}`);
  return parsed;
}
