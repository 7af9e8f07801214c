/**
 * Where a worker thread of lib/segments starts (merge worker, segment-writer worker). From dist it
 * is the module's .js file itself. Under vitest/tsx the sources run as .ts, and on Node 20 neither
 * `execArgv: ['--import', 'tsx']` nor the parent's loader hooks reach a worker thread (both tried:
 * "Unknown file extension .ts"), so the worker starts from a tiny ESM bootstrap that registers
 * tsx's loader in the thread, then imports the .ts module.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const IS_TS_SOURCE = import.meta.url.endsWith('.ts');

/** The URL to pass to `new Worker` for a worker module of this directory (name without extension). */
export function workerEntry(moduleName: 'merge-worker' | 'refresh-worker'): URL {
  const moduleUrl = new URL(`./${moduleName}${IS_TS_SOURCE ? '.ts' : '.js'}`, import.meta.url);
  if (!IS_TS_SOURCE) return moduleUrl;
  const require = createRequire(import.meta.url);
  const tsxApi = pathToFileURL(join(dirname(require.resolve('tsx/package.json')), 'dist/esm/api/index.mjs')).href;
  const code = `import { register } from ${JSON.stringify(tsxApi)}; register(); await import(${JSON.stringify(moduleUrl.href)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(code)}`);
}
