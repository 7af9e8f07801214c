/**
 * A real Quarry node as a child process for benchmarks: `node dist/bin/quarry.js --port --data
 * --name`, readiness by polling `GET /` with a deadline (never by parsing its output), a small HTTP
 * client, peak RSS from /proc, graceful stop and `kill -9`. Its stdout/stderr go to a log file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { freeNodePort, pollUntil, readPeakRssBytes, readRssBytes } from './proc.js';

/** How long a fresh node may take from spawn to answering `GET /` before the bench gives up. */
export const NODE_START_DEADLINE_MS = 60_000;
/** A restart replays the translog before it listens: allow far more than the 5 s target, so a slow replay still gets a figure. */
export const NODE_RESTART_DEADLINE_MS = 5 * 60_000;
/** How long a graceful stop (SIGTERM) may take before SIGKILL. */
export const NODE_STOP_DEADLINE_MS = 15_000;
/** Per-request deadline: generous, because forcemerge of a whole corpus is one request. */
export const REQUEST_DEADLINE_MS = 10 * 60_000;

/**
 * The node's CLI: `$QUARRY_BIN` (to bench another build) or `dist/bin/quarry.js` in the repo;
 * undefined when it does not exist (not built yet: `npm run build`).
 */
export function quarryBinPath(repoRoot: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const fromEnv = env['QUARRY_BIN'];
  const path = fromEnv !== undefined && fromEnv !== '' ? resolve(fromEnv) : join(repoRoot, 'dist', 'bin', 'quarry.js');
  return existsSync(path) ? path : undefined;
}

/** An HTTP answer: status and the body parsed as JSON when it is JSON. */
export interface NodeResponse {
  status: number;
  body: unknown;
  text: string;
}

/** Where and how to start a node. */
export interface QuarryNodeLaunch {
  binPath: string;
  dataDir: string;
  name: string;
  logPath: string;
}

/** One running node process. */
export class QuarryNode {
  private exitCode: number | null | undefined;
  private exitSignal: NodeJS.Signals | null = null;
  private readonly exited: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    readonly logPath: string,
    /** performance.now() just before spawn, so restart timings include process start-up. */
    readonly spawnedAtMs: number,
  ) {
    this.exited = new Promise((resolvePromise) => {
      child.once('exit', (code, signal) => {
        this.exitCode = code;
        this.exitSignal = signal;
        resolvePromise();
      });
    });
  }

  /** Spawns a node on a free port; resolves once `GET /` answers 200. `readyAtMs` is when it did. */
  static async start(launch: QuarryNodeLaunch, startDeadlineMs = NODE_START_DEADLINE_MS): Promise<{ node: QuarryNode; readyAtMs: number }> {
    const port = await freeNodePort();
    const logFd = openSync(launch.logPath, 'a');
    const spawnedAtMs = performance.now();
    const child = spawn(process.execPath, [launch.binPath, '--port', String(port), '--data', launch.dataDir, '--name', launch.name], {
      stdio: ['ignore', logFd, logFd],
    });
    closeSync(logFd); // the child holds its own copy of the descriptor
    const node = new QuarryNode(child, `http://127.0.0.1:${port}`, launch.logPath, spawnedAtMs);
    try {
      await pollUntil(
        'Quarry node answering GET /',
        async () => {
          node.throwIfExited();
          const response = await node.request('GET', '/', undefined, 1000);
          return response.status === 200 ? true : undefined;
        },
        startDeadlineMs,
      );
    } catch (error) {
      await node.kill9();
      throw new Error(`${(error as Error).message}\n--- node log tail (${launch.logPath}) ---\n${node.logTail()}`);
    }
    return { node, readyAtMs: performance.now() };
  }

  /** The node's pid (for /proc). */
  get pid(): number {
    return this.child.pid!;
  }

  /** Throws with the log tail if the process has exited (a crash during a measurement). */
  throwIfExited(): void {
    if (this.exitCode !== undefined) {
      throw new Error(`Quarry node exited (code ${this.exitCode}, signal ${this.exitSignal})\n${this.logTail()}`);
    }
  }

  /** Sends one request; `body` as a string or bytes is sent as is (NDJSON for `_bulk`), anything else as JSON. */
  async request(method: string, path: string, body?: unknown, deadlineMs = REQUEST_DEADLINE_MS): Promise<NodeResponse> {
    let payload: string | Uint8Array | undefined;
    let contentType: string | undefined;
    if (typeof body === 'string' || body instanceof Uint8Array) {
      payload = body;
      contentType = 'application/x-ndjson';
    } else if (body !== undefined) {
      payload = JSON.stringify(body);
      contentType = 'application/json';
    }
    const response = await fetch(`${this.url}${path}`, {
      method,
      // Buffers are valid fetch bodies; the cast bridges TypeScript's ArrayBufferLike generics.
      body: payload as RequestInit['body'],
      headers: contentType === undefined ? {} : { 'content-type': contentType },
      signal: AbortSignal.timeout(deadlineMs),
    });
    const text = await response.text();
    let parsed: unknown = undefined;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status: response.status, body: parsed, text };
  }

  /** Like `request`, but throws unless the status is 2xx (setup steps whose failure ends the run). */
  async requestOk(method: string, path: string, body?: unknown, deadlineMs = REQUEST_DEADLINE_MS): Promise<NodeResponse> {
    const response = await this.request(method, path, body, deadlineMs);
    if (response.status < 200 || response.status > 299) {
      throw new Error(`${method} ${path} answered ${response.status}: ${response.text.slice(0, 500)}`);
    }
    return response;
  }

  /** VmHWM of the node process. */
  peakRssBytes(): number | undefined {
    return readPeakRssBytes(this.pid);
  }

  /** VmRSS of the node process. */
  rssBytes(): number | undefined {
    return readRssBytes(this.pid);
  }

  /** SIGTERM, then SIGKILL if it has not exited by the deadline. */
  async stop(): Promise<void> {
    if (this.exitCode !== undefined) return;
    this.child.kill('SIGTERM');
    const stopped = await Promise.race([this.exited.then(() => true), deadline(NODE_STOP_DEADLINE_MS)]);
    if (!stopped) await this.kill9();
  }

  /** `kill -9`: no shutdown hooks run, as in a crash. Resolves once the process is gone. */
  async kill9(): Promise<void> {
    if (this.exitCode !== undefined) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** The node's log so far. */
  logText(): string {
    try {
      return readFileSync(this.logPath, 'utf8');
    } catch {
      return '';
    }
  }

  /** The last lines of the log, for error messages. */
  logTail(lineCount = 20): string {
    return this.logText().split('\n').slice(-lineCount).join('\n');
  }
}

/** Resolves false after `delayMs`: the losing side of a race against process exit. */
function deadline(delayMs: number): Promise<false> {
  return new Promise((resolvePromise) => setTimeout(() => resolvePromise(false), delayMs).unref());
}

/** Reads `count` out of a `_count` response body, or undefined. */
export function countOf(body: unknown): number | undefined {
  const count = (body as { count?: unknown } | undefined)?.count;
  return typeof count === 'number' ? count : undefined;
}

/** Summary of a `_bulk` response: how many items failed and the first failure. */
export interface BulkOutcome {
  itemCount: number;
  failedCount: number;
  firstError?: string;
}

/** Reads a `_bulk` response body; items with an `error` or a status ≥ 300 count as failed. */
export function bulkOutcomeOf(body: unknown): BulkOutcome {
  const response = body as { errors?: boolean; items?: Array<Record<string, { status?: number; error?: unknown }>> } | undefined;
  const items = response?.items ?? [];
  let failedCount = 0;
  let firstError: string | undefined;
  for (const item of items) {
    const result = Object.values(item)[0];
    if (result === undefined) continue;
    if (result.error !== undefined || (result.status ?? 200) >= 300) {
      failedCount += 1;
      firstError ??= JSON.stringify(result.error ?? result).slice(0, 300);
    }
  }
  return { itemCount: items.length, failedCount, firstError };
}
