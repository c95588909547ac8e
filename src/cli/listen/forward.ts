/**
 * `herald listen --forward-to`: hands a verified delivery to the developer's own app — the same
 * method, body bytes and headers, so the app can verify the signature itself — and brings back the
 * app's answer for listen to relay to Herald, so a failing app makes a failed attempt (and retries).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { request } from 'undici';

/** Connection-level headers: they describe the hop from Herald to listen, not the delivery. */
const HOP_BY_HOP = new Set([
  'host',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'proxy-authorization',
  'proxy-connection',
  'expect',
  'content-length',
]);

export type ForwardResult =
  | { ok: true; status: number; contentType: string | undefined; body: Buffer }
  | { ok: false; message: string };

/** The most of the app's answer relayed to Herald (Herald keeps 64 KiB of it). */
const MAX_ANSWER_BYTES = 256 * 1024;

function forwardedHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name)) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** The error's own code where Node or undici gave one (ECONNREFUSED …), for a readable line. */
function describe(err: unknown): string {
  const e = err as { code?: unknown; cause?: { code?: unknown }; message?: string };
  const code = typeof e.code === 'string' ? e.code : typeof e.cause?.code === 'string' ? e.cause.code : '';
  const message = e.message ?? String(err);
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}

/**
 * Sends the delivery on to `target`; never throws: an app that cannot be reached is `ok: false`.
 * `signal` abandons it (Herald gave up on listen's answer).
 */
export async function forward(
  target: URL,
  method: string,
  headers: IncomingHttpHeaders,
  body: Buffer,
  signal: AbortSignal,
): Promise<ForwardResult> {
  try {
    // undici's request, not fetch: fetch would drop or rewrite some headers and follow redirects,
    // and a redirect is an answer to relay, as Herald itself never follows one.
    const res = await request(target, {
      method: method as 'POST',
      headers: forwardedHeaders(headers),
      body,
      signal,
    });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body) {
      const buf = chunk as Buffer;
      if (size + buf.length > MAX_ANSWER_BYTES) {
        chunks.push(buf.subarray(0, MAX_ANSWER_BYTES - size));
        res.body.destroy();
        break;
      }
      size += buf.length;
      chunks.push(buf);
    }
    const type = res.headers['content-type'];
    return {
      ok: true,
      status: res.statusCode,
      contentType: Array.isArray(type) ? type[0] : type,
      body: Buffer.concat(chunks),
    };
  } catch (err) {
    return { ok: false, message: `cannot reach ${target.href}: ${describe(err)}` };
  }
}
