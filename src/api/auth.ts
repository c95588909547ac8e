/**
 * Authentication and tenant scoping. A key arrives as `Authorization: Bearer <key>` or
 * `x-api-key: <key>`. The admin key reaches everything; a tenant key reaches only
 * `/v1/tenants/<its tenant>/…` — any other tenant answers 404 exactly as if it did not exist, and
 * admin-only routes answer 403. A portal session token acts for its tenant too, except on the
 * tenant's API keys (`tenant-key` routes: 403), so nothing it mints outlives it.
 */
import type { FastifyRequest } from 'fastify';
import { HeraldError } from '../core/errors.ts';
import { digestsEqual, hashKey } from '../security/api-keys.ts';
import { PORTAL_TOKEN_PREFIX, portalSigningKey, verifyPortalToken } from '../security/portal-token.ts';
import { findActiveKey, touchKey } from '../store/api-keys.ts';
import { portalBinding } from '../store/portal-sessions.ts';
import type { ActiveKeys } from './active-keys.ts';
import type { AppContext, Principal } from './context.ts';

/**
 * What the rate limit and authentication both read of a request's key, read once: the key
 * (undefined: none presented) and its SHA-256. Kept on the request (app.ts declares the field, so
 * every request object has the same shape), not in a WeakMap keyed by request — each entry of that
 * was an ephemeron for the garbage collector to trace.
 */
export interface PresentedKey {
  key: string | undefined;
  digest: string | undefined;
}

declare module 'fastify' {
  interface FastifyRequest {
    presented: PresentedKey | null;
  }
}

function presented(request: FastifyRequest): PresentedKey {
  let p = request.presented;
  // null as declared (app.ts); undefined on a request the declaration did not reach.
  if (p == null) {
    p = { key: readKey(request), digest: undefined };
    request.presented = p;
  }
  return p;
}

function readKey(request: FastifyRequest): string | undefined {
  const auth = request.headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    return m ? m[1] : undefined;
  }
  const header = request.headers['x-api-key'];
  return typeof header === 'string' && header.length > 0 ? header : undefined;
}

/** The key the request presents (`Authorization: Bearer …` or `x-api-key`), if any. */
export function presentedKey(request: FastifyRequest): string | undefined {
  return presented(request).key;
}

/** The SHA-256 hex of the request's presented key `key`, computed once per request. */
export function presentedKeyDigest(request: FastifyRequest, key: string): string {
  const p = presented(request);
  p.digest ??= hashKey(key);
  return p.digest;
}

// last_used_at is advisory: write it at most once a minute per key instead of on every request.
const LAST_USED_EVERY_MS = 60_000;

/** `activeKeys`: the tenant keys found active lately (active-keys.ts), shared with the routes that revoke. */
export function createAuthenticator(ctx: AppContext, activeKeys: ActiveKeys) {
  const lastUsedWritten = new Map<string, number>();
  const portalKey = portalSigningKey(ctx.adminKeyHash);

  async function resolve(request: FastifyRequest, key: string): Promise<Principal | undefined> {
    // A portal session token (src/security/portal-token.ts) acts as a key of its tenant until it expires.
    if (key.startsWith(PORTAL_TOKEN_PREFIX)) {
      const session = verifyPortalToken(portalKey, key, ctx.clock.now());
      if (!session) return undefined;
      // Still the same tenant, and its sessions not ended since (src/store/portal-sessions.ts).
      const binding = await portalBinding(ctx.db, session.tenantId);
      if (binding?.incarnation !== session.incarnation || binding.generation !== session.generation) {
        return undefined;
      }
      return { kind: 'portal', tenantId: session.tenantId };
    }
    const digest = presentedKeyDigest(request, key);
    if (digestsEqual(digest, ctx.adminKeyHash)) return { kind: 'admin' };
    const now = ctx.clock.now().getTime();
    let found = activeKeys.get(digest, now);
    if (!found) {
      const mark = activeKeys.mark();
      found = await findActiveKey(ctx.db, digest);
      if (!found || !digestsEqual(found.keyHash, digest)) return undefined;
      // Kept from when the read began: never longer than KEY_RECHECK_MS after it.
      activeKeys.found(found, now, mark);
    }
    if ((lastUsedWritten.get(found.id) ?? 0) + LAST_USED_EVERY_MS < now) {
      lastUsedWritten.set(found.id, now);
      await touchKey(ctx.db, found.id, new Date(now));
    }
    return { kind: 'tenant', tenantId: found.tenantId, keyId: found.id };
  }

  /** onRequest/preHandler hook: sets request.principal or refuses. */
  return async function authenticate(request: FastifyRequest): Promise<void> {
    const access = request.routeOptions.config.access ?? 'admin';
    if (access === 'public' || request.is404) return;
    const key = presentedKey(request);
    const principal = key ? await resolve(request, key) : undefined;
    if (!principal) throw new HeraldError('UNAUTHORIZED');
    request.principal = principal;
    if (principal.kind === 'admin' || access === 'any') return;
    if (access === 'admin') throw new HeraldError('FORBIDDEN');
    const tenantId = (request.params as { tenantId?: string } | undefined)?.tenantId;
    if (tenantId !== principal.tenantId) throw new HeraldError('TENANT_NOT_FOUND');
    if (access === 'tenant-key' && principal.kind === 'portal') {
      throw new HeraldError('FORBIDDEN', 'A portal session may not manage API keys');
    }
  };
}
