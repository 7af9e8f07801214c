/**
 * Shared corpus loaders: where the corpora live, and one corpus read into memory with its sizes,
 * so every scenario and every engine sees the same documents. Corpora are never copied into the repo.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCorpusLine, splitNdjsonLines, type CorpusDoc } from './ndjson.js';
import type { CorpusName } from './options.js';

/** The repository root: the nearest ancestor of this file with Quarry's package.json (works from bench/ and dist/bench/). */
export function findRepoRoot(fromDir = dirname(fileURLToPath(import.meta.url))): string {
  let dir = fromDir;
  for (;;) {
    const packagePath = join(dir, 'package.json');
    if (existsSync(packagePath)) {
      const pkg = JSON.parse(readFileSync(packagePath, 'utf8')) as { name?: string };
      if (pkg.name === 'quarry') return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no Quarry package.json above ${fromDir}`);
    dir = parent;
  }
}

/** The corpora directory: `$QUARRY_CORPORA`, else `../shared/corpora` relative to the repo root. */
export function corporaDir(repoRoot: string, env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env['QUARRY_CORPORA'];
  return fromEnv !== undefined && fromEnv !== '' ? resolve(fromEnv) : resolve(repoRoot, '..', 'shared', 'corpora');
}

/** The path of a corpus file in `dir`. */
export function corpusPath(dir: string, name: CorpusName): string {
  return join(dir, `${name}.ndjson`);
}

/** One corpus in memory: the raw lines (what peers parse), the parsed docs, and sizes. */
export interface LoadedCorpus {
  name: CorpusName;
  path: string;
  /** Raw NDJSON lines, at most the requested limit. */
  lines: string[];
  docs: CorpusDoc[];
  /** UTF-8 bytes of the kept lines: the "source" that MB/s figures divide by, equal for every engine. */
  sourceBytes: number;
  /** Docs in the whole file, before any `--quick` limit. */
  docsInFile: number;
}

/** Reads the first `docsLimit` docs of a corpus (Infinity for all). */
export function loadCorpus(dir: string, name: CorpusName, docsLimit: number): LoadedCorpus {
  const path = corpusPath(dir, name);
  const allLines = splitNdjsonLines(readFileSync(path, 'utf8'));
  const lines = Number.isFinite(docsLimit) ? allLines.slice(0, docsLimit) : allLines;
  const docs = lines.map((line, index) => parseCorpusLine(line, index + 1));
  const sourceBytes = lines.reduce((sum, line) => sum + Buffer.byteLength(line, 'utf8'), 0);
  return { name, path, lines, docs, sourceBytes, docsInFile: allLines.length };
}
