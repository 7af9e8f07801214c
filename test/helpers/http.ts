/** A small fetch-based HTTP client for talking to a Quarry node in tests. */

/** A response with its body parsed as JSON when it is JSON (else the raw text). */
export interface HttpResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/** Per-request options. */
export interface RequestOptions {
  headers?: Record<string, string>;
  /** Abort the request after this long (default: the client's `timeoutMs`). */
  timeoutMs?: number;
  /** Retry this many times when no response arrives (only for idempotent reads; default 0). */
  retryNetworkErrors?: number;
}

/** Thrown when no HTTP response arrived (refused, reset, timed out): the outcome of a write is then unknown. */
export class NetworkError extends Error {
  constructor(method: string, url: string, cause: unknown) {
    super(`${method} ${url}: no response (${describeCause(cause)})`, { cause });
    this.name = 'NetworkError';
  }
}

/** Talks JSON (and NDJSON for bulk) to one base URL. Never throws on HTTP error statuses: tests assert them. */
export class HttpClient {
  readonly timeoutMs: number;

  constructor(readonly baseUrl: string, options: { timeoutMs?: number } = {}) {
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** Sends a request; an object body is sent as JSON, a string body as is. */
  async request<T = any>(method: string, path: string, body?: unknown, options: RequestOptions = {}): Promise<HttpResponse<T>> {
    const url = this.baseUrl + path;
    const headers: Record<string, string> = { ...options.headers };
    let payload: string | undefined;
    if (body !== undefined) {
      payload = typeof body === 'string' ? body : JSON.stringify(body);
      headers['content-type'] ??= 'application/json';
    }
    const attempts = 1 + (options.retryNetworkErrors ?? 0);
    for (let attempt = 1; ; attempt++) {
      let response: Response;
      try {
        response = await fetch(url, { method, headers, body: payload, signal: AbortSignal.timeout(options.timeoutMs ?? this.timeoutMs) });
      } catch (error) {
        if (attempt < attempts) continue;
        throw new NetworkError(method, url, error);
      }
      let text: string;
      try {
        text = await response.text();
      } catch (error) {
        // The status line arrived but the body did not: for a write, the outcome is still unknown.
        if (attempt < attempts) continue;
        throw new NetworkError(method, url, error);
      }
      let parsed: unknown = text;
      if (text.length > 0 && (response.headers.get('content-type') ?? '').includes('json')) {
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = text;
        }
      }
      return { status: response.status, headers: response.headers, body: parsed as T, text };
    }
  }

  /** GET, parsed. */
  get<T = any>(path: string, options?: RequestOptions): Promise<HttpResponse<T>> {
    return this.request<T>('GET', path, undefined, options);
  }

  /** PUT with a JSON body. */
  put<T = any>(path: string, body?: unknown, options?: RequestOptions): Promise<HttpResponse<T>> {
    return this.request<T>('PUT', path, body, options);
  }

  /** POST with a JSON body. */
  post<T = any>(path: string, body?: unknown, options?: RequestOptions): Promise<HttpResponse<T>> {
    return this.request<T>('POST', path, body, options);
  }

  /** DELETE. */
  delete<T = any>(path: string, options?: RequestOptions): Promise<HttpResponse<T>> {
    return this.request<T>('DELETE', path, undefined, options);
  }

  /**
   * Any method, expecting a 2xx JSON answer: returns its body, or throws with the status and body
   * otherwise, so a setup step that fails says why.
   */
  async json<T = any>(method: string, path: string, body?: unknown, options?: RequestOptions): Promise<T> {
    const response = await this.request<T>(method, path, body, options);
    if (response.status < 200 || response.status >= 300) {
      throw new Error(`${method} ${path} answered ${response.status}: ${response.text.slice(0, 2000)}`);
    }
    return response.body;
  }

  /** `POST {path}` (e.g. `/_bulk` or `/i/_bulk`) with NDJSON lines (each an object, or a pre-serialized string). */
  bulk<T = any>(path: string, lines: unknown[], options?: RequestOptions): Promise<HttpResponse<T>> {
    const payload = lines.map((line) => (typeof line === 'string' ? line : JSON.stringify(line))).join('\n') + '\n';
    return this.request<T>('POST', path, payload, { ...options, headers: { 'content-type': 'application/x-ndjson', ...options?.headers } });
  }
}

/** The innermost cause of a fetch failure (undici wraps the socket error in "fetch failed"). */
function describeCause(cause: unknown): string {
  let current: unknown = cause;
  const parts: string[] = [];
  for (let depth = 0; current && depth < 4; depth++) {
    if (current instanceof Error) {
      const code = (current as { code?: string }).code;
      parts.push(code ? `${current.message} [${code}]` : current.message);
      current = current.cause;
    } else {
      parts.push(String(current));
      break;
    }
  }
  return parts.join(' <- ');
}
