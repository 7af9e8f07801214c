#!/usr/bin/env node
/**
 * `npm test`: the whole gate in one command. Runs, in order,
 *   1. build      tsc -p tsconfig.build.json   (dist/bin/quarry.js, which the process tests spawn)
 *   2. typecheck  tsc --noEmit -p .            (everything, tests included)
 *   3. deps       dependency-cruiser with .dependency-cruiser.cjs (architecture.md §10)
 *   4. vitest     vitest run [extra args]      (default reporter for humans, JSON reporter for the counts)
 * prints each runner's own summary, then ONE final line `N passed, N failed`: vitest's test counts plus
 * the other three checks counted as one test each. Exits non-zero on any failure.
 * Extra arguments go to vitest: `npm test -- test/crash -t "torn"`.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);
const vitestArgs = process.argv.slice(2);

/** Runs a command with inherited stdio; resolves with its exit code (never rejects). */
function run(command, args, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: repoRoot, stdio: 'inherit', env: { ...process.env, ...env } });
    child.once('error', (error) => {
      console.error(`could not start ${command}: ${error.message}`);
      resolve(127);
    });
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

/** Prints a section header so each runner's output is easy to find in a CI log. */
function header(title) {
  console.log(`\n=== ${title} ===`);
}

/** Seconds with one decimal, for the per-step summaries. */
function seconds(startMs) {
  return `${((Date.now() - startMs) / 1000).toFixed(1)} s`;
}

const checks = []; // { name, passed } for the non-vitest checks
const tscBin = require.resolve('typescript/bin/tsc');

async function check(name, command, args, env) {
  header(`${name}: ${[command === process.execPath ? 'node' : command, ...args].join(' ')}`);
  const startMs = Date.now();
  const code = await run(command, args, env);
  const passed = code === 0;
  checks.push({ name, passed });
  console.log(`${name}: ${passed ? 'passed' : `FAILED (exit ${code})`} in ${seconds(startMs)}`);
  return passed;
}

await check('build', process.execPath, [tscBin, '-p', 'tsconfig.build.json']);
await check('typecheck', process.execPath, [tscBin, '--noEmit', '-p', '.']);

const cruiseTargets = ['bin', 'lib', 'services', 'test', 'bench'].filter((dir) => existsSync(join(repoRoot, dir)));
const depcruiseBin = join(repoRoot, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
await check('deps', process.execPath, [depcruiseBin, '--config', '.dependency-cruiser.cjs', '--output-type', 'err', ...cruiseTargets]);

// vitest: keep the default reporter on the terminal, and write the JSON report to a temp file for the counts.
const reportDir = mkdtempSync(join(tmpdir(), 'quarry-vitest-'));
const reportPath = join(reportDir, 'report.json');
header(`vitest: vitest run ${vitestArgs.join(' ')}`.trimEnd());
const vitestStartMs = Date.now();
const vitestBin = join(repoRoot, 'node_modules', 'vitest', 'vitest.mjs');
// The build step above already produced dist/ (tsc emits even when it reports type errors): the
// global setup need not build again.
const vitestCode = await run(
  process.execPath,
  [vitestBin, 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${reportPath}`, ...vitestArgs],
  { QUARRY_SKIP_BUILD: '1' },
);

let vitestPassed = 0;
let vitestFailed = 0;
let reportNote = '';
try {
  const report = JSON.parse(readFileSync(reportPath, 'utf8'));
  vitestPassed = report.numPassedTests ?? 0;
  vitestFailed = report.numFailedTests ?? 0;
  // A test file that fails to load (syntax error, throwing import, failed beforeAll) has no failed
  // test to count: count the file itself, so it can never hide behind "0 failed".
  for (const file of report.testResults ?? []) {
    const failedInFile = (file.assertionResults ?? []).filter((test) => test.status === 'failed').length;
    if (file.status === 'failed' && failedInFile === 0) {
      vitestFailed += 1;
      reportNote += `\n  counted as failed: ${file.name} (${String(file.message ?? 'suite failed').split('\n')[0]})`;
    }
  }
} catch (error) {
  reportNote += `\n  no JSON report (${error.message})`;
}
if (vitestCode !== 0 && vitestFailed === 0) {
  // vitest failed without a failing test: unhandled errors, a failed global setup, no test files...
  vitestFailed = 1;
  reportNote += `\n  vitest exited ${vitestCode} without a failing test: counted as one failure`;
}
rmSync(reportDir, { recursive: true, force: true });
console.log(`vitest: ${vitestPassed} passed, ${vitestFailed} failed in ${seconds(vitestStartMs)}${reportNote}`);

const failedChecks = checks.filter((c) => !c.passed);
if (failedChecks.length > 0) console.log(`failed checks: ${failedChecks.map((c) => c.name).join(', ')}`);
const passed = vitestPassed + checks.filter((c) => c.passed).length;
const failed = vitestFailed + failedChecks.length;
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 && vitestCode === 0 ? 0 : 1;
