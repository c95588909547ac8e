/**
 * How `herald listen` prints one request: what it claims to be, whether it verified, what listen
 * answered (or what the app behind --forward-to answered), and the body. Everything that came from
 * the request is escaped — any web page can POST to a local port.
 */
import type { IncomingMessage } from 'node:http';
import { headerValue } from '../../verify/request-parts.ts';
import type { VerifiedWebhook } from '../../verify/verify-webhook.ts';
import { details, printable } from '../table.ts';

export type Verification = { ok: true; v: VerifiedWebhook } | { ok: false; code: string; message: string };

function pretty(body: Buffer): string {
  try {
    return JSON.stringify(JSON.parse(body.toString('utf8')), null, 2);
  } catch {
    return body.toString('utf8');
  }
}

/** What an unverified request claims to be, for display only. */
function claimed(req: IncomingMessage, body: Buffer): { type?: string; id?: string } {
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  } catch {
    // Shown as raw text below.
  }
  const str = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : undefined);
  const type =
    headerValue(req.headers, 'herald-event-type') ??
    headerValue(req.headers, 'event-type') ??
    str(parsed['type']);
  const id = headerValue(req.headers, 'webhook-id') ?? str(parsed['id']);
  return { ...(type ? { type } : {}), ...(id ? { id } : {}) };
}

/**
 * One request as printed.
 * @param outcome what listen did with it, e.g. `answered 200` or `forwarded → 200 http://…` (omitted when empty)
 */
export function report(
  req: IncomingMessage,
  profile: string,
  body: Buffer,
  result: Verification,
  outcome: string,
  at: Date,
): string {
  const seen = result.ok ? { type: result.v.eventType, id: result.v.id } : claimed(req, body);
  const lines: Record<string, unknown> = {
    profile,
    event: `${seen.type ?? '?'}${seen.id ? `  (id ${seen.id})` : ''}`,
    verified: result.ok ? '✓' : `✗ ${result.code}: ${result.message}`,
  };
  const seq = headerValue(req.headers, 'herald-sequence');
  if (seq) lines['sequence'] = `${seq} (attempt ${headerValue(req.headers, 'herald-attempt') ?? '?'})`;
  if (outcome) lines['answered'] = outcome;
  return `── ${printable(`${req.method} ${req.url}`)}  ${at.toISOString()}\n${details(lines)}\n${printable(pretty(body))}\n\n`;
}
