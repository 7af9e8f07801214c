/** Locates the shared corpora (SciFact, Debian) for corpus-based tests and benchmarks. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { REPO_ROOT } from './paths.js';

let announced = false;

/**
 * The corpora directory: `$QUARRY_CORPORA` when set, else `../shared/corpora` from the repo root.
 * Returns undefined (and prints one clear line, once per process) when it is absent, so a test can
 * `it.skipIf(!corporaDir())` instead of failing on machines without the corpora.
 */
export function corporaDir(): string | undefined {
  const dir = process.env.QUARRY_CORPORA ? resolve(process.env.QUARRY_CORPORA) : resolve(REPO_ROOT, '..', 'shared', 'corpora');
  if (existsSync(dir)) return dir;
  if (!announced) {
    announced = true;
    console.log(`corpora not found at ${dir} (set QUARRY_CORPORA); corpus-based tests are skipped`);
  }
  return undefined;
}
