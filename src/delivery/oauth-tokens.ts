/**
 * OAuth 2 client-credentials tokens for endpoints whose `auth` is `oauth2` (CorrigoPro's receivers
 * check a bearer token their own authorisation server issued).
 *
 * - The token request is a POST to `tokenUrl`, form-encoded `grant_type=client_credentials`,
 *   `client_id`, `client_secret` and `scope` when set (RFC 6749 §4.4, client_secret_post). It goes
 *   through the same SSRF-guarded undici dispatcher as a delivery (`send`), inside the attempt's
 *   budget: `timeoutMs` is what is left of it (src/rules/attempt-budget.ts), and a caller that
 *   joins a fetch already under way waits no longer than its own `timeoutMs` either.
 * - Tokens are cached per endpoint credentials until shortly before they expire (`expires_in`; one
 *   hour when the server does not say), and dropped when a receiver answers 401 to one, so the next
 *   attempt fetches a fresh token. Concurrent deliveries of one endpoint share a single fetch.
 * - Any failure (unreachable token URL, non-2xx, no `access_token`) is an `OAuthTokenError`; the
 *   attempt that needed the token fails with kind `oauth_token_error` and is retried on schedule.
 */
import type { Dispatcher } from 'undici';
import { send } from './sender.ts';

export interface OAuthClientCredentials {
  type: 'oauth2';
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  scope?: string;
}

export class OAuthTokenError extends Error {}

/** Refetch this long before the server's expiry, so a token does not expire in flight. */
const EXPIRY_MARGIN_MS = 30_000;
const DEFAULT_LIFETIME_S = 3600;
const MAX_CACHED = 10_000;

interface Cached {
  token: string;
  expiresAtMs: number;
}

export interface TokenRequest {
  /** Names the cache entry: the endpoint and its stored credentials (a new seal = new credentials). */
  key: string;
  credentials: OAuthClientCredentials;
  dispatcher: Dispatcher;
  /** The longest this call may take: what is left of the attempt's budget. */
  timeoutMs: number;
  nowMs: number;
  userAgent: string;
}

export interface OAuthTokens {
  /** A live token for the credentials: cached, or fetched now. Throws OAuthTokenError. */
  get(req: TokenRequest): Promise<string>;
  /** Forgets `token` for `key` (the receiver refused it); a newer cached token is kept. */
  invalidate(key: string, token: string): void;
}

async function fetchToken(req: TokenRequest): Promise<Cached> {
  const c = req.credentials;
  if (!c.tokenUrl || !c.clientId || typeof c.clientSecret !== 'string') {
    throw new OAuthTokenError('the endpoint oauth2 auth lacks tokenUrl, clientId or clientSecret');
  }
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: c.clientId,
    client_secret: c.clientSecret,
  });
  if (c.scope) form.set('scope', c.scope);
  const res = await send({
    url: c.tokenUrl,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
      'user-agent': req.userAgent,
    },
    body: form.toString(),
    dispatcher: req.dispatcher,
    totalTimeoutMs: req.timeoutMs,
  });
  if (res.statusCode === undefined) {
    throw new OAuthTokenError(`token request failed (${res.errorKind}): ${res.errorMessage ?? ''}`);
  }
  if (res.statusCode < 200 || res.statusCode >= 300) {
    throw new OAuthTokenError(`token endpoint answered HTTP ${res.statusCode}: ${res.excerpt.slice(0, 200)}`);
  }
  let parsed: { access_token?: unknown; expires_in?: unknown };
  try {
    parsed = JSON.parse(res.excerpt) as typeof parsed;
  } catch {
    throw new OAuthTokenError('token endpoint answered something that is not JSON');
  }
  const token = parsed?.access_token;
  if (typeof token !== 'string' || !/^[\u0021-\u007e]+$/.test(token)) {
    throw new OAuthTokenError('token endpoint answered no usable access_token');
  }
  const lifetime = Number(parsed.expires_in);
  const seconds = Number.isFinite(lifetime) && lifetime > 0 ? lifetime : DEFAULT_LIFETIME_S;
  // A short-lived token is still used once rather than refetched for every delivery.
  const margin = Math.min(EXPIRY_MARGIN_MS, (seconds * 1000) / 2);
  return { token, expiresAtMs: req.nowMs + seconds * 1000 - margin };
}

/** `p`, or an OAuthTokenError once `ms` have passed without it (a fetch started by another caller). */
async function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new OAuthTokenError(`token request failed (timeout): no token within ${ms} ms`)),
      ms,
    );
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** @example const tokens = createOAuthTokens(); const t = await tokens.get({ key, credentials, dispatcher, timeoutMs, nowMs, userAgent }) */
export function createOAuthTokens(): OAuthTokens {
  const cache = new Map<string, Cached>();
  const pending = new Map<string, Promise<Cached>>();
  return {
    async get(req) {
      const hit = cache.get(req.key);
      if (hit && hit.expiresAtMs > req.nowMs) return hit.token;
      let inFlight = pending.get(req.key);
      let fresh: Cached;
      if (!inFlight) {
        inFlight = fetchToken(req).finally(() => pending.delete(req.key));
        pending.set(req.key, inFlight);
        fresh = await inFlight; // its request has req.timeoutMs as its own total timeout
      } else {
        fresh = await within(inFlight, req.timeoutMs);
      }
      if (cache.size >= MAX_CACHED) cache.clear();
      cache.set(req.key, fresh);
      return fresh.token;
    },
    invalidate(key, token) {
      if (cache.get(key)?.token === token) cache.delete(key);
    },
  };
}
