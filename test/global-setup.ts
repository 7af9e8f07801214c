/**
 * Vitest global setup: builds `dist/` once per run (`tsc -p tsconfig.build.json`), so process tests
 * (`test/crash`, `test/http`, ...) spawn the current code even when run alone with `npx vitest run test/crash`.
 * `scripts/test.mjs` builds first and sets `QUARRY_SKIP_BUILD=1` to avoid building twice.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** Runs the build; a failed build is reported but does not abort unit tests (process tests then fail with the reason). */
export default function setup(): void {
  if (process.env.QUARRY_SKIP_BUILD === '1') return;
  const repoRoot = fileURLToPath(new URL('..', import.meta.url));
  const tscPath = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const startedMs = Date.now();
  const result = spawnSync(process.execPath, [tscPath, '-p', 'tsconfig.build.json'], { cwd: repoRoot, encoding: 'utf8' });
  const elapsedMs = Date.now() - startedMs;
  if (result.status === 0) {
    console.log(`global setup: built dist/ in ${elapsedMs} ms`);
    return;
  }
  // tsc still emits JavaScript on type errors, so process tests may run; they fail clearly if dist/bin/quarry.js is missing.
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim();
  console.warn(`global setup: tsc -p tsconfig.build.json failed (exit ${result.status}) in ${elapsedMs} ms:\n${output.slice(0, 4000)}`);
}
