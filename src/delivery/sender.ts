/**
 * One HTTP request of an attempt. Failure is data, not an exception: `send` always resolves, with
 * the status and response excerpt when the endpoint answered, or an error kind when it did not.
 *
 * - POST through the given undici dispatcher (the SSRF-guarded agent: a keep-alive pool per origin,
 *   its connect timeout, address checks at connect time). `request()` never follows redirects, so a
 *   3xx is just a failed attempt.
 * - The total timeout covers connecting, waiting for headers and reading the excerpt, enforced with
 *   an AbortSignal.
 * - At most `maxExcerptBytes` of the response body is read; the rest is discarded by destroying the
 *   body (the connection is then closed instead of reused, which only happens for large answers).
 */
import { performance } from 'node:perf_hooks';
import { type Dispatcher, request } from 'undici';

export type SendErrorKind =
  | 'timeout'
  | 'connect_error'
  | 'tls_error'
  | 'blocked_address'
  | 'network_error'
  | 'http_status'
  | 'aborted';

export interface SendInput {
  url: string;
  headers: Record<string, string>;
  body: string | Buffer;
  dispatcher: Dispatcher;
  totalTimeoutMs: number;
  maxExcerptBytes?: number;
  /** Aborts the request from outside (drain); the result is then `aborted`. */
  signal?: AbortSignal;
  /**
   * Instead of `signal`: the caller's own controller for this one request, used for the total
   * timeout too (saves a controller and a listener per request). Aborted by the caller → `aborted`.
   */
  controller?: AbortController;
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
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name] = cleanText(Array.isArray(value) ? value.join(', ') : value, 4000);
  }
  return out;
}

/**
 * Reads up to `max` bytes of the body, then destroys it (the rest is never read). Event-driven
 * rather than `for await`: this runs once per attempt, and an async iterator per response costs
 * more than the 2-byte answers most receivers give.
 */
function readExcerpt(body: Dispatcher.ResponseData['body'], max: number): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      if (!body.destroyed) body.destroy();
      const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      resolve(cleanText(all.subarray(0, max).toString('utf8'), max));
    };
    body.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= max) finish();
    });
    // A body cut short (reset, timeout) still leaves what was read: the status has already decided.
    body.on('end', finish);
    body.on('error', finish);
    body.on('close', finish);
  });
}

/**
 * Sends one webhook request; never throws.
 *
 * @example const r = await send({ url, headers, body, dispatcher: agent, totalTimeoutMs: 15_000 })
 */
export async function send(input: SendInput): Promise<SendResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const controller = input.controller ?? new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new Error('total timeout'));
  }, input.totalTimeoutMs);
  const onOuterAbort = () => controller.abort(new Error('aborted'));
  if (input.signal?.aborted) onOuterAbort();
  input.signal?.addEventListener('abort', onOuterAbort, { once: true });
  try {
    const res = await request(input.url, {
      method: 'POST',
      headers: input.headers,
      body: input.body,
      dispatcher: input.dispatcher,
      signal: controller.signal,
      // undici's own timers stay out of the way: the total timeout above is the one that counts.
      headersTimeout: input.totalTimeoutMs + 1000,
      bodyTimeout: input.totalTimeoutMs + 1000,
    });
    const excerpt = await readExcerpt(res.body, input.maxExcerptBytes ?? DEFAULT_MAX_EXCERPT_BYTES);
    const ok = res.statusCode >= 200 && res.statusCode < 300;
    return {
      statusCode: res.statusCode,
      ...(ok ? {} : { errorKind: 'http_status' as const, errorMessage: `HTTP ${res.statusCode}` }),
      durationMs: elapsed(),
      excerpt,
      responseHeaders: flattenHeaders(res.headers),
    };
  } catch (err) {
    const base = { durationMs: elapsed(), excerpt: '', responseHeaders: {} };
    if (timedOut) {
      return { ...base, errorKind: 'timeout', errorMessage: `no response within ${input.totalTimeoutMs} ms` };
    }
    if (input.signal?.aborted || input.controller?.signal.aborted)
      return { ...base, errorKind: 'aborted', errorMessage: 'aborted: Herald is stopping' };
    const { kind, message } = classify(err);
    return { ...base, errorKind: kind, errorMessage: cleanText(message) };
  } finally {
    clearTimeout(timer);
    input.signal?.removeEventListener('abort', onOuterAbort);
  }
}
