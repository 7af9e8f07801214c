/**
 * Process and filesystem measurements for the harness: peak RSS of a pid, on-disk size of a
 * directory, free ports, polling with a deadline, a stderr progress line, and running a peer child.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { lstat, open, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';

const BYTES_PER_KB = 1024;

/** Peak resident set size (VmHWM) of a live process, or undefined when /proc has no such pid (not Linux, exited). */
export function readPeakRssBytes(pid: number | 'self'): number | undefined {
  return readStatusKilobytes(pid, 'VmHWM');
}

/** Current resident set size (VmRSS) of a live process, or undefined as for readPeakRssBytes. */
export function readRssBytes(pid: number | 'self'): number | undefined {
  return readStatusKilobytes(pid, 'VmRSS');
}

function readStatusKilobytes(pid: number | 'self', field: 'VmHWM' | 'VmRSS'): number | undefined {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * BYTES_PER_KB : undefined;
  } catch {
    return undefined;
  }
}

/** Sizes of a directory tree: apparent (sum of st.size) and allocated (st.blocks × 512, what the disk holds; sparse files differ). */
export interface DirSize {
  apparentBytes: number;
  allocatedBytes: number;
  fileCount: number;
}

/** Recursive stat sum of a directory (symlinks are not followed). */
export async function dirSize(path: string): Promise<DirSize> {
  const total: DirSize = { apparentBytes: 0, allocatedBytes: 0, fileCount: 0 };
  const visit = async (entryPath: string): Promise<void> => {
    const stat = await lstat(entryPath);
    if (stat.isDirectory()) {
      for (const name of await readdir(entryPath)) await visit(join(entryPath, name));
    } else if (stat.isFile()) {
      total.apparentBytes += stat.size;
      total.allocatedBytes += stat.blocks * 512;
      total.fileCount += 1;
    }
  };
  await visit(path);
  return total;
}

async function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const server = createServer();
    server.once('error', () => resolvePromise(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolvePromise(true)));
  });
}

async function ephemeralPort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolvePromise(port));
    });
  });
}

/**
 * A free HTTP port whose transport port (HTTP + 100, architecture §1) is free too. There is a race
 * with other processes between this check and the node's bind; the node's start-up poll reports it.
 */
export async function freeNodePort(attemptsMax = 20): Promise<number> {
  for (let attempt = 0; attempt < attemptsMax; attempt += 1) {
    const port = await ephemeralPort();
    if (port + 100 <= 65535 && (await isPortFree(port + 100))) return port;
  }
  throw new Error(`no free port pair (HTTP, HTTP+100) after ${attemptsMax} attempts`);
}

/** Resolves after `delayMs` (only as the interval of a poll, never to wait for a condition). */
function pollInterval(delayMs: number): Promise<void> {
  return new Promise((resolvePromise) => setTimeout(resolvePromise, delayMs));
}

/**
 * Calls `probe` every `intervalMs` until it returns a value other than undefined, and returns it;
 * throws `what` with the last error once `deadlineMs` has passed.
 */
export async function pollUntil<T>(what: string, probe: () => Promise<T | undefined>, deadlineMs: number, intervalMs = 25): Promise<T> {
  const deadlineAt = performance.now() + deadlineMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (performance.now() >= deadlineAt) {
      const cause = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`${what}: not reached within ${deadlineMs} ms${cause}`);
    }
    await pollInterval(intervalMs);
  }
}

/** A one-line progress report on stderr: rewritten in place on a terminal, a line every few seconds otherwise (CI logs). */
export class ProgressLine {
  private readonly startedAtMs = performance.now();
  private lastPrintAtMs = 0;
  private readonly isTerminal = process.stderr.isTTY === true;

  constructor(private readonly label: string, private readonly total: number) {}

  /** Reports `done` of `total` items, throttled so printing never costs measurable time. */
  update(done: number): void {
    const nowMs = performance.now();
    const throttleMs = this.isTerminal ? 200 : 5000;
    if (done < this.total && nowMs - this.lastPrintAtMs < throttleMs) return;
    this.lastPrintAtMs = nowMs;
    const elapsedMs = nowMs - this.startedAtMs;
    const rate = elapsedMs > 0 ? Math.round((done * 1000) / elapsedMs) : 0;
    const text = `  ${this.label}: ${done.toLocaleString('en-US')}/${this.total.toLocaleString('en-US')} (${rate.toLocaleString('en-US')}/s)`;
    if (this.isTerminal) process.stderr.write(`\r\x1b[2K${text}`);
    else process.stderr.write(`${text}\n`);
  }

  /** Ends the line (on a terminal) so the next output starts clean. */
  finish(): void {
    if (this.isTerminal) process.stderr.write('\r\x1b[2K');
  }
}

/** The prefix of the one stdout line a peer child prints its result on. */
export const CHILD_RESULT_PREFIX = 'BENCH-RESULT ';

/**
 * Runs `node <scriptPath> <JSON args>` as a child (so its VmHWM is its own), inheriting stderr for
 * progress, and returns the JSON it printed after CHILD_RESULT_PREFIX. Kills it past `timeoutMs`.
 */
export async function runChildScript<T>(scriptPath: string, args: unknown, timeoutMs: number, nodeFlags: readonly string[] = []): Promise<T> {
  const child = spawn(process.execPath, [...nodeFlags, scriptPath, JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    stdout += chunk;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const exitCode = await new Promise<number | null>((resolvePromise, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolvePromise(code));
  }).finally(() => clearTimeout(timer));
  const resultLine = stdout.split('\n').find((line) => line.startsWith(CHILD_RESULT_PREFIX));
  if (exitCode !== 0 || resultLine === undefined) {
    throw new Error(`${scriptPath} exited with ${exitCode ?? 'a signal (timeout?)'} and ${resultLine === undefined ? 'no result' : 'a result'}: ${stdout.slice(-500)}`);
  }
  return JSON.parse(resultLine.slice(CHILD_RESULT_PREFIX.length)) as T;
}

/**
 * Median time of `rounds` × (append 4 KiB + fsync) in `dir`: how expensive "fsync per request" is on
 * this disk, so throughput figures of durable engines can be read in context (a VM disk that
 * acknowledges fsync from a cache makes every durable engine look faster).
 */
export async function probeFsyncMedianMs(dir: string, rounds = 25): Promise<number> {
  const path = join(dir, `fsync-probe-${process.pid}`);
  const handle = await open(path, 'a');
  const block = Buffer.alloc(4096, 1);
  const durationsMs: number[] = [];
  try {
    for (let round = 0; round < rounds; round += 1) {
      const startedAtMs = performance.now();
      await handle.write(block);
      await handle.sync();
      durationsMs.push(performance.now() - startedAtMs);
    }
  } finally {
    await handle.close();
    await rm(path, { force: true });
  }
  durationsMs.sort((a, b) => a - b);
  return durationsMs[Math.floor(durationsMs.length / 2)]!;
}
