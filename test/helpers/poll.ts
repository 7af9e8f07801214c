/** Polling with a deadline: the only way tests wait for a condition (never a bare sleep). */

/** Options of `pollUntil`. */
export interface PollOptions {
  /** Give up after this long (default 10 000 ms). */
  timeoutMs?: number;
  /** Pause between attempts (default 50 ms). */
  intervalMs?: number;
  /** Named in the error on timeout, so a failure says what was awaited. */
  description?: string;
}

/**
 * Calls `condition` until it returns a truthy value (which is returned) or the deadline passes.
 * A throw counts as "not yet"; on timeout the error names the last value or error, because
 * "timed out" alone never explains a failure.
 */
export async function pollUntil<T>(condition: () => T | Promise<T>, options: PollOptions = {}): Promise<NonNullable<T>> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 50;
  const deadlineMs = Date.now() + timeoutMs;
  let last: { kind: 'value'; value: unknown } | { kind: 'error'; error: unknown } = { kind: 'value', value: undefined };
  for (;;) {
    try {
      const value = await condition();
      if (value) return value as NonNullable<T>;
      last = { kind: 'value', value };
    } catch (error) {
      last = { kind: 'error', error };
    }
    if (Date.now() >= deadlineMs) break;
    await delay(intervalMs);
  }
  const what = options.description ? ` waiting for ${options.description}` : '';
  const detail =
    last.kind === 'error'
      ? `last error: ${last.error instanceof Error ? (last.error.stack ?? last.error.message) : String(last.error)}`
      : `last value: ${safeJson(last.value)}`;
  throw new Error(`pollUntil timed out after ${timeoutMs} ms${what}; ${detail}`, last.kind === 'error' ? { cause: last.error } : undefined);
}

/** Pause between poll attempts (internal: tests poll, they never sleep for a condition). */
function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** JSON for error messages that never throws on cycles or BigInts. */
function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value)?.slice(0, 2000) ?? String(value);
  } catch {
    return String(value);
  }
}
