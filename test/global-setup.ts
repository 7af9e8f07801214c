/**
 * Vitest global setup: builds `dist/` once per run (`tsc -p tsconfig.build.json`), so process tests
 * (`test/crash`, `test/http`, ...) spawn the current code even when run alone with `npx vitest run test/crash`.
 * `scripts/test.mjs` builds first and sets `QUARRY_SKIP_BUILD=1` to avoid building twice.
 *
 * It also makes one temp directory for the run (`QUARRY_TEST_TMP`, inherited by the test workers), in
 * which `tempDir()` creates data dirs and `startNodeProcess()` records child pids. The teardown, in the
 * main process, SIGKILLs any node a worker left running and removes the directory: workers are ended
 * by vitest in ways that skip their own exit hooks.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Creates the run's temp dir, builds, and returns the teardown. */
export default function setup(): () => void {
  const runDir = mkdtempSync(join(tmpdir(), 'quarry-run-'));
  process.env.QUARRY_TEST_TMP = runDir;
  build();
  return () => teardown(runDir);
}

/** Kills leftover node processes of this run, then removes its temp dir (kept with QUARRY_KEEP_DATA=1). */
function teardown(runDir: string): void {
  const pidDir = join(runDir, 'pids');
  let pids: string[] = [];
  try {
    pids = readdirSync(pidDir);
  } catch {
    // No process test ran.
  }
  for (const pid of pids) {
    try {
      // Only our own node: a pid the OS reused since is left alone.
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('quarry.js')) process.kill(Number(pid), 'SIGKILL');
    } catch {
      // Already gone (or no /proc): nothing to do.
    }
  }
  if (process.env.QUARRY_KEEP_DATA === '1') {
    console.log(`test data kept in ${runDir}`);
    return;
  }
  rmSync(runDir, { recursive: true, force: true });
}

/** Runs the build; a failed build is reported but does not abort unit tests (process tests then fail with the reason). */
function build(): void {
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
