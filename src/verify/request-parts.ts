/**
 * Reading the parts of a webhook request the way every receiver framework hands them over: headers
 * as Node's `IncomingHttpHeaders`, a fetch `Headers`, or a plain object in any letter case; the body
 * as the exact bytes received.
 */
import { WebhookVerificationError } from './verification-error.ts';

/** Anything with headers: Node's `req.headers`, a fetch `Headers`, or a plain record. */
export type WebhookHeaders =
  | { get(name: string): string | null }
  | Readonly<Record<string, string | readonly string[] | undefined>>;

/** The raw body: a Buffer/Uint8Array as received, or a string (taken as its UTF-8 bytes). */
export type RawBody = Buffer | Uint8Array | string;

function isFetchHeaders(h: WebhookHeaders): h is { get(name: string): string | null } {
  return typeof (h as { get?: unknown }).get === 'function';
}

/** The header's value (case-insensitive name), or undefined when absent or empty. */
export function headerValue(headers: WebhookHeaders, name: string): string | undefined {
  const lower = name.toLowerCase();
  let value: string | readonly string[] | null | undefined;
  if (isFetchHeaders(headers)) {
    value = headers.get(lower);
  } else {
    value = headers[lower] ?? headers[name];
    if (value === undefined) {
      for (const key of Object.keys(headers)) {
        if (key.toLowerCase() === lower) {
          value = headers[key];
          break;
        }
      }
    }
  }
  // A header sent twice reaches Node as an array for a few names; the first one is the sender's.
  const one = Array.isArray(value) ? value[0] : value;
  if (typeof one !== 'string') return undefined;
  const trimmed = one.trim();
  return trimmed === '' ? undefined : trimmed;
}

/** The header's value, or a MISSING_HEADER error. */
export function requireHeader(headers: WebhookHeaders, name: string): string {
  const value = headerValue(headers, name);
  if (value === undefined) throw new WebhookVerificationError('MISSING_HEADER', `Missing header ${name}`);
  return value;
}

/** The body's exact bytes. A parsed object is refused: signatures cover bytes, not values. */
export function bodyBytes(body: unknown): Buffer {
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (Buffer.isBuffer(body)) return body;
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  throw new WebhookVerificationError(
    'INVALID_OPTIONS',
    'body must be the raw request body (Buffer or string), not a parsed object: ' +
      'read it before any JSON parser runs (express.raw(), a Fastify buffer parser)',
  );
}

/** The body parsed as JSON, or INVALID_BODY. */
export function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new WebhookVerificationError('INVALID_BODY', 'The body is not valid JSON');
  }
}
