/**
 * Runs a Quarry node as a real child process (`node dist/bin/quarry.js`), for tests that need real
 * signals, real crashes and real restarts on the same data directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, closeSync, readFileSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { freePort } from './net.js';
import { HttpClient } from './http.js';
import { pollUntil } from './poll.js';
import { QUARRY_BIN, REPO_ROOT } from './paths.js';
import { tempDir, testTmpRoot } from './fs.js';

/** How to start a node. */
export interface NodeProcessOptions {
  /** The `--data` directory; reuse it across starts to test recovery. */
  dataPath: string;
  /** HTTP port (default: a free one). Reuse the previous port to restart "the same" node. */
  port?: number;
  /** `--name` (default `node-<port>`). */
  name?: string;
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Extra CLI arguments, appended. */
  args?: string[];
  /** How long to wait for `GET /` to answer 200 (default 30 000 ms). */
  readyTimeoutMs?: number;
  /** Resolve right after spawning instead of waiting for `GET /` (to crash a node while it starts and recovers). */
  waitForReady?: boolean;
  /** `--log-level` (default `info`, so recovery messages reach the log files). */
  logLevel?: string;
}

/** A running (or exited) node process. */
export interface NodeProcess {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly name: string;
  readonly dataPath: string;
  /** A client bound to `url`. */
  readonly http: HttpClient;
  /** Files receiving the child's stdout (pino JSON) and stderr. */
  readonly stdoutPath: string;
  readonly stderrPath: string;
  /** Resolves when the process has exited, with its code or the signal that ended it. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Whether the process has exited. */
  hasExited(): boolean;
  /** Sends a signal (e.g. `SIGKILL` for a crash). Does not wait. */
  kill(signal: NodeJS.Signals): void;
  /** Sends SIGKILL and waits until the process is gone (so its port and files are free). */
  crash(): Promise<void>;
  /** Graceful stop: SIGTERM, then waits for exit (SIGKILL after `timeoutMs`, and throws). Returns the exit code. */
  stop(timeoutMs?: number): Promise<number | null>;
  /** The captured stdout and stderr, for failure messages (tail only when `maxChars` is given). */
  logs(maxChars?: number): string;
  /** stdout lines parsed as JSON (pino), skipping anything that is not JSON. */
  logRecords(): Array<Record<string, unknown>>;
}

const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Never leave orphaned nodes behind when a test process ends, whatever happened in the tests. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of liveChildren) child.kill('SIGKILL');
  });
}

/**
 * Spawns `node dist/bin/quarry.js --port P --data DIR --name N` and resolves once `GET /` answers 200.
 * Throws (with the node's log) if the process exits first or the deadline passes.
 */
export async function startNodeProcess(options: NodeProcessOptions): Promise<NodeProcess> {
  if (!existsSync(QUARRY_BIN)) {
    throw new Error(`${QUARRY_BIN} does not exist: the build failed or bin/quarry.ts is missing (run: npx tsc -p tsconfig.build.json)`);
  }
  installExitHook();
  const port = options.port ?? (await freePort());
  const name = options.name ?? `node-${port}`;
  mkdirSync(options.dataPath, { recursive: true });
  const logDir = tempDir(`quarry-log-${name}-`);
  const stdoutPath = join(logDir, 'stdout.log');
  const stderrPath = join(logDir, 'stderr.log');
  // Files, not pipes: the child never blocks on a full pipe, and the log survives a kill -9 intact.
  const stdoutFd = openSync(stdoutPath, 'a');
  const stderrFd = openSync(stderrPath, 'a');
  const args = [QUARRY_BIN, '--port', String(port), '--data', options.dataPath, '--name', name, '--host', '127.0.0.1', '--log-level', options.logLevel ?? 'info', ...(options.args ?? [])];
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', stdoutFd, stderrFd],
  });
  closeSync(stdoutFd);
  closeSync(stderrFd);
  liveChildren.add(child);
  // Recorded for the global teardown, which kills whatever a worker left behind.
  const pidFile = child.pid !== undefined && process.env.QUARRY_TEST_TMP ? join(testTmpRoot(), 'pids', String(child.pid)) : undefined;
  if (pidFile) {
    mkdirSync(dirname(pidFile), { recursive: true });
    writeFileSync(pidFile, name);
  }
  let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      liveChildren.delete(child);
      if (pidFile) rmSync(pidFile, { force: true });
      resolve(exitInfo);
    });
    child.once('error', () => {
      exitInfo ??= { code: null, signal: null };
      liveChildren.delete(child);
      resolve(exitInfo);
    });
  });
  const url = `http://127.0.0.1:${port}`;
  const http = new HttpClient(url);
  const readLog = (path: string): string => {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return '';
    }
  };
  const logs = (maxChars?: number): string => {
    const text = `--- stdout (${stdoutPath}) ---\n${readLog(stdoutPath)}\n--- stderr (${stderrPath}) ---\n${readLog(stderrPath)}`;
    return maxChars !== undefined && text.length > maxChars ? '…' + text.slice(-maxChars) : text;
  };
  const node: NodeProcess = {
    url,
    port,
    pid: child.pid ?? -1,
    name,
    dataPath: options.dataPath,
    http,
    stdoutPath,
    stderrPath,
    exited,
    hasExited: () => exitInfo !== undefined,
    kill: (signal) => {
      if (exitInfo === undefined) child.kill(signal);
    },
    crash: async () => {
      if (exitInfo === undefined) child.kill('SIGKILL');
      await exited;
    },
    stop: async (timeoutMs = 15_000) => {
      if (exitInfo === undefined) child.kill('SIGTERM');
      const timer = new Promise<'timeout'>((resolve) => setTimeout(resolve, timeoutMs, 'timeout').unref());
      const outcome = await Promise.race([exited, timer]);
      if (outcome === 'timeout') {
        child.kill('SIGKILL');
        await exited;
        throw new Error(`node ${name} did not exit within ${timeoutMs} ms of SIGTERM\n${logs(8000)}`);
      }
      return outcome.code;
    },
    logs,
    logRecords: () =>
      readLog(stdoutPath)
        .split('\n')
        .flatMap((line) => {
          if (!line.startsWith('{')) return [];
          try {
            return [JSON.parse(line) as Record<string, unknown>];
          } catch {
            return [];
          }
        }),
  };
  if (options.waitForReady === false) return node;
  try {
    await pollUntil(
      async () => {
        if (exitInfo !== undefined) throw new ExitedEarly(exitInfo);
        const response = await http.get('/', { timeoutMs: 2000 });
        return response.status === 200;
      },
      { timeoutMs: options.readyTimeoutMs ?? 30_000, intervalMs: 50, description: `node ${name} to answer GET / on ${url}` },
    ).catch((error: unknown) => {
      // pollUntil wraps the last error; surface an early exit directly.
      if (error instanceof Error && error.cause instanceof ExitedEarly) throw error.cause;
      throw error;
    });
  } catch (error) {
    if (exitInfo === undefined) {
      child.kill('SIGKILL');
      await exited;
    }
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`node ${name} failed to start: ${message.split('\n')[0]}\n${logs(8000)}`);
  }
  return node;
}

/** The node process exited before it became ready. */
class ExitedEarly extends Error {
  constructor(info: { code: number | null; signal: NodeJS.Signals | null }) {
    super(`process exited before it was ready (code ${info.code}, signal ${info.signal})`);
  }
}
