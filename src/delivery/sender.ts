/**
 * One HTTP request of an attempt. Failure is data, not an exception: `send` always resolves, with
 * the status and response excerpt when the endpoint answered, or an error kind when it did not.
 *
 * - POST through the given undici dispatcher (the SSRF-guarded agent: a keep-alive pool per origin,
 *   its connect timeout, address checks at connect time), with undici's low-level `dispatch` and a
 *   handler: no response stream, promise chain or AbortSignal per request — this is the hot path,
 *   and `request()`'s machinery cost more than the rest of an attempt (docs/performance.md).
 *   Nothing here follows redirects, so a 3xx is just a failed attempt.
 * - The total timeout covers queueing for a connection, connecting, waiting for headers and reading
 *   the excerpt: when it fires the attempt is over at once, and the request is aborted as soon as
 *   undici lets it be.
 * - At most `maxExcerptBytes` of the response body is kept; the rest is not read (the request is
 *   aborted, so the connection is closed instead of reused, which only happens for large answers).
 */
import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';

export type SendErrorKind =
  | 'timeout'
  | 'connect_error'
  | 'tls_error'
  | 'blocked_address'
  | 'network_error'
  | 'http_status'
  | 'aborted';

/**
 * Abandoning a request from outside (drain), without an AbortController per request: set
 * `cancelled` and call `onCancel` (which the sender sets while the request is out).
 */
export interface Cancellation {
  cancelled: boolean;
  onCancel: (() => void) | null;
}

export function newCancellation(): Cancellation {
  return { cancelled: false, onCancel: null };
}

/** Abandons the request, if any, that `send` is making under `c`. */
export function cancel(c: Cancellation): void {
  c.cancelled = true;
  c.onCancel?.();
}

export interface SendInput {
  url: string;
  headers: Record<string, string>;
  body: string | Buffer;
  dispatcher: Dispatcher;
  totalTimeoutMs: number;
  maxExcerptBytes?: number;
  /** Abandons the request from outside (drain); the result is then `aborted`. */
  cancellation?: Cancellation;
}

export interface SendResult {
  statusCode?: number;
  errorKind?: SendErrorKind;
  errorMessage?: string;
  durationMs: number;
  excerpt: string;
  responseHeaders: Record<string, string>;
}

export const DEFAULT_MAX_EXCERPT_BYTES = 64 * 1024;

/** What a request abandoned on drain answers (`aborted`). */
export const ABORTED_MESSAGE = 'aborted: Herald is stopping';

const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT',
]);
const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);

/** Text safe for a PostgreSQL text column (no NUL) and of bounded size. */
export function cleanText(s: string, max = 2000): string {
  // Every response header and excerpt passes here: most hold no NUL, and a search is cheaper than
  // a regular-expression replace.
  if (s.length <= max && !s.includes('\u0000')) return s;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly what PostgreSQL refuses.
  const t = s.replace(/\u0000/g, '');
  return t.length > max ? t.slice(0, max) : t;
}

/** The codes along an error's cause chain (undici wraps socket and connector errors). */
function errorCodes(err: unknown): string[] {
  const codes: string[] = [];
  let e: unknown = err;
  for (let depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    e = (e as { cause?: unknown }).cause;
  }
  return codes;
}

function classify(err: unknown): { kind: SendErrorKind; message: string } {
  const codes = errorCodes(err);
  const message = err instanceof Error ? err.message : String(err);
  if (codes.includes('BLOCKED_ADDRESS')) return { kind: 'blocked_address', message };
  if (codes.some((c) => TIMEOUT_CODES.has(c))) return { kind: 'timeout', message };
  if (codes.some((c) => CONNECT_CODES.has(c))) return { kind: 'connect_error', message };
  if (codes.some((c) => c.startsWith('ERR_TLS') || c.startsWith('ERR_SSL') || /CERT|SELF_SIGNED/.test(c))) {
    return { kind: 'tls_error', message };
  }
  return { kind: 'network_error', message: codes[0] ? `${codes[0]}: ${message}` : message };
}

function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value !== undefined) out[name] = cleanText(Array.isArray(value) ? value.join(', ') : value, 4000);
  }
  return out;
}

/** `origin` and `path` of each URL sent to, parsed once (endpoint URLs repeat endlessly). */
const targets = new Map<string, { origin: string; path: string }>();
function targetOf(url: string): { origin: string; path: string } {
  let t = targets.get(url);
  if (!t) {
    const u = new URL(url);
    t = { origin: u.origin, path: `${u.pathname}${u.search}` };
    if (targets.size >= 10_000) targets.clear();
    targets.set(url, t);
  }
  return t;
}

/** Ends a request early (excerpt full, timeout, drain); its own callbacks are then ignored. */
class Stop extends Error {}

/**
 * One request's undici handler and its outcome. Settles exactly once: on the end of the response,
 * an error, the total timeout or an outside abort, whichever comes first.
 */
class Exchange implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | null = null;
  private stopReason: Stop | null = null;
  private statusCode = 0;
  private headers: Record<string, string | string[] | undefined> = {};
  private chunks: Buffer[] = [];
  private size = 0;
  private settled = false;
  private readonly started = performance.now();
  private timer: NodeJS.Timeout | undefined;
  resolve!: (r: SendResult) => void;

  constructor(
    private readonly input: SendInput,
    private readonly max: number,
  ) {}

  start(): void {
    this.timer = setTimeout(() => {
      this.finishError('timeout', `no response within ${this.input.totalTimeoutMs} ms`);
    }, this.input.totalTimeoutMs);
  }

  /** Stops the request: now if it is on a connection, else as soon as it gets one. */
  stop(): void {
    this.stopReason ??= new Stop('stopped');
    this.controller?.abort(this.stopReason);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.stopReason || this.settled) controller.abort(this.stopReason ?? new Stop('stopped'));
  }

  onResponseStart(
    _c: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    if (statusCode < 200) return; // 1xx: the real answer follows
    this.statusCode = statusCode;
    this.headers = headers;
  }

  onResponseData(_c: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.settled) return;
    this.chunks.push(chunk);
    this.size += chunk.length;
    if (this.size >= this.max) {
      this.finishResponse();
      this.stop();
    }
  }

  onResponseEnd(): void {
    this.finishResponse();
  }

  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    if (this.settled) return;
    // A body cut short (reset) still leaves what was read: the status has already decided.
    if (this.statusCode !== 0) {
      this.finishResponse();
    } else if (this.input.cancellation?.cancelled) {
      this.finishError('aborted', ABORTED_MESSAGE);
    } else {
      const { kind, message } = classify(err);
      this.finishError(kind, cleanText(message));
    }
  }

  private settle(r: SendResult): void {
    this.settled = true;
    clearTimeout(this.timer);
    if (this.input.cancellation) this.input.cancellation.onCancel = null;
    this.resolve(r);
  }

  private finishResponse(): void {
    if (this.settled) return;
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const ok = this.statusCode >= 200 && this.statusCode < 300;
    this.settle({
      statusCode: this.statusCode,
      ...(ok ? {} : { errorKind: 'http_status' as const, errorMessage: `HTTP ${this.statusCode}` }),
      durationMs: Math.round(performance.now() - this.started),
      excerpt: all.length === 0 ? '' : cleanText(all.subarray(0, this.max).toString('utf8'), this.max),
      responseHeaders: flattenHeaders(this.headers),
    });
  }

  finishError(kind: SendErrorKind, message: string): void {
    if (this.settled) return;
    this.settle({
      errorKind: kind,
      errorMessage: message,
      durationMs: Math.round(performance.now() - this.started),
      excerpt: '',
      responseHeaders: {},
    });
    this.stop();
  }
}

/**
 * Sends one webhook request; never throws.
 *
 * @example const r = await send({ url, headers, body, dispatcher: agent, totalTimeoutMs: 15_000 })
 */
export function send(input: SendInput): Promise<SendResult> {
  const exchange = new Exchange(input, input.maxExcerptBytes ?? DEFAULT_MAX_EXCERPT_BYTES);
  const result = new Promise<SendResult>((resolve) => {
    exchange.resolve = resolve;
  });
  const outside = input.cancellation;
  const onAbort = () => exchange.finishError('aborted', ABORTED_MESSAGE);
  if (outside?.cancelled) {
    onAbort();
    return result;
  }
  if (outside) outside.onCancel = onAbort;
  exchange.start();
  try {
    const { origin, path } = targetOf(input.url);
    input.dispatcher.dispatch(
      {
        origin,
        path,
        method: 'POST',
        headers: input.headers,
        body: input.body,
        // undici's own timers stay out of the way: the total timeout above is the one that counts.
        headersTimeout: input.totalTimeoutMs + 1000,
        bodyTimeout: input.totalTimeoutMs + 1000,
      },
      exchange,
    );
  } catch (err) {
    // Refused before it was queued (a header undici will not send, say).
    const { kind, message } = classify(err);
    exchange.finishError(kind, cleanText(message));
  }
  return result;
}
