/**
 * Portal session tokens: short-lived, tenant-scoped bearer credentials that the tenant portal
 * (/portal) uses instead of a tenant key. A token is `hps_<payload>.<signature>`, both base64url;
 * the payload is `{"v":2,"tid":<tenant id>,"inc":<tenant incarnation>,"g":<portal generation>,
 * "exp":<unix s>,"n":<nonce>}` — plus `"b":{name, logoUrl, accentColor}` when the session was minted
 * with its own branding (only the portal page reads it) — and the signature an HMAC-SHA256 under a key derived from the admin
 * key. No session is stored: every Herald process that shares the admin key verifies every token.
 * A token holds only while its tenant is the same incarnation and portal generation
 * (src/store/portal-sessions.ts): ending a tenant's sessions, or deleting and re-creating the
 * tenant, ends its tokens; changing the admin key ends all of them.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { PortalBranding } from '../config/portal-branding.ts';

export const PORTAL_TOKEN_PREFIX = 'hps_';

/** Default and bounds of a session's lifetime, in seconds. */
export const PORTAL_SESSION_DEFAULT_SECONDS = 3600;
export const PORTAL_SESSION_MIN_SECONDS = 60;
export const PORTAL_SESSION_MAX_SECONDS = 24 * 3600;
/** Longest token accepted: room for the largest branding (src/config/portal-branding.ts). */
export const PORTAL_TOKEN_MAX_LENGTH = 2048;

export interface PortalSession {
  tenantId: string;
  /** The tenant's `created_at` in microseconds, as text (src/store/portal-sessions.ts). */
  incarnation: string;
  /** The tenant's portal generation when the token was minted. */
  generation: number;
  expiresAt: Date;
  /** The session's own branding of the portal page, if minted with one. */
  branding?: PortalBranding;
}

/**
 * The signing key: an HMAC of a fixed label under the admin key's SHA-256, so it is as secret as
 * the admin key, is never stored, and is distinct from any other use of that digest.
 *
 * @example const key = portalSigningKey(ctx.adminKeyHash)
 */
export function portalSigningKey(adminKeyHash: string): Buffer {
  return createHmac('sha256', Buffer.from(adminKeyHash, 'hex')).update('herald portal-session v1').digest();
}

function signature(key: Buffer, payload: string): Buffer {
  return createHmac('sha256', key).update(`${PORTAL_TOKEN_PREFIX}${payload}`).digest();
}

/** @example signPortalToken(key, { tenantId: 'acme', expiresAt: new Date(Date.now() + 3600_000) }) */
export function signPortalToken(key: Buffer, session: PortalSession): string {
  const body = {
    v: 2,
    tid: session.tenantId,
    inc: session.incarnation,
    g: session.generation,
    exp: Math.floor(session.expiresAt.getTime() / 1000),
    n: randomBytes(9).toString('base64url'),
    ...(session.branding && Object.keys(session.branding).length > 0 ? { b: session.branding } : {}),
  };
  const payload = Buffer.from(JSON.stringify(body), 'utf8').toString('base64url');
  return `${PORTAL_TOKEN_PREFIX}${payload}.${signature(key, payload).toString('base64url')}`;
}

/** The session a token carries, or undefined when it is malformed, forged or expired at `now`. */
export function verifyPortalToken(key: Buffer, token: string, now: Date): PortalSession | undefined {
  if (!token.startsWith(PORTAL_TOKEN_PREFIX) || token.length > PORTAL_TOKEN_MAX_LENGTH) return undefined;
  const [payload, sig, extra] = token.slice(PORTAL_TOKEN_PREFIX.length).split('.');
  if (!payload || !sig || extra !== undefined) return undefined;
  // Compared as canonical text, in constant time, before the payload is parsed: decoding the given
  // signature would accept spellings that differ in ignored trailing bits.
  const expected = Buffer.from(signature(key, payload).toString('base64url'), 'utf8');
  const given = Buffer.from(sig, 'utf8');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  let body: { v?: unknown; tid?: unknown; inc?: unknown; g?: unknown; exp?: unknown; b?: unknown };
  try {
    body = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (
    body.v !== 2 ||
    typeof body.tid !== 'string' ||
    typeof body.inc !== 'string' ||
    typeof body.g !== 'number' ||
    typeof body.exp !== 'number'
  )
    return undefined;
  if (body.exp * 1000 <= now.getTime()) return undefined;
  return {
    tenantId: body.tid,
    incarnation: body.inc,
    generation: body.g,
    expiresAt: new Date(body.exp * 1000),
    ...(body.b !== null && typeof body.b === 'object' ? { branding: body.b as PortalBranding } : {}),
  };
}
