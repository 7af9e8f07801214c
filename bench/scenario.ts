/**
 * The contract between `run.ts` and one scenario file: what a scenario gets (options, paths, the
 * shared corpus loader) and what it hands back (a printed report, JSON, target verdicts). Query
 * scenarios of later issues plug in the same way.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LoadedCorpus } from './corpus.js';
import type { BenchOptions, CorpusName } from './options.js';

/** What every scenario receives. */
export interface ScenarioContext {
  options: BenchOptions;
  repoRoot: string;
  corporaDir: string;
  /** `dist/bin/quarry.js`, or undefined when the node is not built: scenarios then run peers only. */
  quarryBinPath: string | undefined;
  /** Loads (once) the first `options.docsLimit` docs of a corpus. */
  corpus(name: CorpusName): LoadedCorpus;
  /** A fresh temp directory, deleted at the end of the run unless `--keep`. */
  tempDir(label: string): Promise<string>;
}

/** One performance target of architecture §9 and whether this run met it (undefined: not measured). */
export interface TargetVerdict {
  target: string;
  met: boolean | undefined;
  detail: string;
}

/** What a scenario hands back for one corpus. */
export interface ScenarioReport {
  scenario: string;
  corpus: CorpusName;
  /** Plain text printed to stdout: title line, table, targets. */
  text: string;
  targets: TargetVerdict[];
  /** Everything measured, written to bench/results/<timestamp>.json. */
  json: unknown;
}

/** Temp directories of one run, removed together at the end. */
export class TempDirs {
  private readonly paths: string[] = [];

  /** A new directory under the OS temp dir named after `label`. */
  async create(label: string): Promise<string> {
    const path = await mkdtemp(join(tmpdir(), `quarry-bench-${label}-`));
    this.paths.push(path);
    return path;
  }

  /** Deletes them all (or lists them when kept). */
  async cleanup(keep: boolean): Promise<string[]> {
    if (!keep) await Promise.all(this.paths.map((path) => rm(path, { recursive: true, force: true })));
    return [...this.paths];
  }
}
