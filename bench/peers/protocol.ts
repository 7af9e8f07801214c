/**
 * What the harness tells a peer child process and what the child reports back. Peers run in their
 * own processes so each engine's peak RSS (VmHWM) is its own, comparable to the Quarry node's.
 */
import { readFileSync } from 'node:fs';
import { CHILD_RESULT_PREFIX } from '../proc.js';
import { splitNdjsonLines } from '../ndjson.js';

/** Arguments of a peer indexing child (passed as one JSON argv entry). */
export interface PeerIndexArgs {
  corpusPath: string;
  /** Docs to index from the start of the corpus; null for all (JSON has no Infinity). */
  docsLimit: number | null;
  batchDocs: number;
  /** A fresh directory the peer may write to (SQLite's database file). */
  dataDir: string;
  label: string;
}

/** Raw measurements of a peer indexing run; the harness derives rates and ratios. */
export interface PeerIndexResult {
  docs: number;
  /** Wall time of all batches: parsing the raw lines plus indexing and committing them. */
  indexMs: number;
  /** The peer's closest thing to a merge to one segment (SQLite FTS5 `optimize`), if any. */
  mergeMs?: number;
  /** Size on disk after indexing (and after merge, if any). */
  diskAllocatedBytes?: number;
  diskApparentBytes?: number;
  /** V8 heap used after indexing and a full GC (in-memory peers). */
  heapUsedBytes?: number;
  /** V8 heap used after a full GC before indexing (the raw corpus lines): subtract for the index alone. */
  baselineHeapUsedBytes?: number;
  /** VmRSS after loading the raw corpus lines, before indexing: what the harness itself costs. */
  baselineRssBytes: number;
  peakRssBytes: number;
}

/** Parses the child's argv. */
export function readPeerArgs(): PeerIndexArgs {
  const raw = process.argv[2];
  if (raw === undefined) throw new Error('peer child: missing JSON argument');
  return JSON.parse(raw) as PeerIndexArgs;
}

/** The raw corpus lines the peer will index (loaded before the clock starts). */
export function readPeerLines(args: PeerIndexArgs): string[] {
  const lines = splitNdjsonLines(readFileSync(args.corpusPath, 'utf8'));
  return args.docsLimit === null ? lines : lines.slice(0, args.docsLimit);
}

/** Current resident set size of this process. */
export function currentRssBytes(): number {
  return process.memoryUsage().rss;
}

/** Prints the result line the harness looks for. */
export function reportPeerResult(result: PeerIndexResult): void {
  process.stdout.write(`${CHILD_RESULT_PREFIX}${JSON.stringify(result)}\n`);
}
