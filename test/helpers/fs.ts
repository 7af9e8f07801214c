/** Temporary directories and files for tests, removed when the test process exits. */
import { mkdtempSync, rmSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const createdDirs: string[] = [];
let cleanupRegistered = false;

/**
 * Where this run's temp files go: the run directory made by test/global-setup.ts (removed by its
 * teardown), or the OS temp dir outside vitest.
 */
export function testTmpRoot(): string {
  return process.env.QUARRY_TEST_TMP ?? tmpdir();
}

/**
 * Creates a fresh directory for a test. It is removed at the end of the vitest run (and, outside
 * vitest, when the process exits), unless `QUARRY_KEEP_DATA=1` (to inspect a failed crash test's data).
 */
export function tempDir(prefix = 'quarry-test-'): string {
  const dir = mkdtempSync(join(testTmpRoot(), prefix));
  createdDirs.push(dir);
  if (!cleanupRegistered) {
    cleanupRegistered = true;
    process.on('exit', () => {
      if (process.env.QUARRY_KEEP_DATA === '1') return;
      for (const d of createdDirs) rmSync(d, { recursive: true, force: true });
    });
  }
  return dir;
}

/** Every file under `root` (recursively) whose path matches `pattern`, sorted; for finding translog files without a glob dependency. */
export function findFiles(root: string, pattern: RegExp): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of entries) {
      const path = join(dir, name);
      let isDir = false;
      try {
        isDir = statSync(path).isDirectory();
      } catch {
        continue;
      }
      if (isDir) walk(path);
      else if (pattern.test(path)) found.push(path);
    }
  };
  walk(root);
  return found.sort();
}
