/**
 * The API rate limit: a token bucket per presented key (the admin key, each tenant key) and, for
 * requests without a key, per client IP — and, once the caller is known, one per tenant shared by
 * all its keys and portal sessions, so minting more keys buys no more requests (issue 16). A refused request answers 429 `RATE_LIMITED` with
 * `Retry-After`; every limited response carries `RateLimit-Limit`, `RateLimit-Remaining` and
 * `RateLimit-Reset` (IETF draft-ietf-httpapi-ratelimit-headers).
 *
 * The key's check runs in `onRequest` before authentication, on the SHA-256 of the presented key, so
 * a flood is refused before it costs a database lookup; the tenant's right after authentication. Memory is bounded: a bucket that has refilled
 * is the same as no bucket and is dropped, and at most `maxBuckets` are kept (least recently used
 * go first).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HeraldError } from '../core/errors.ts';
import { createTokenBuckets, type TakeResult } from '../core/token-buckets.ts';
import { digestsEqual } from '../security/api-keys.ts';
import { presentedKey, presentedKeyDigest } from './auth.ts';
import type { AppContext } from './context.ts';

export { createTokenBuckets } from '../core/token-buckets.ts';

function limiterFor(ratePerSecond: number, burst: number, now: () => number) {
  if (ratePerSecond <= 0) return undefined;
  return createTokenBuckets({ ratePerSecond, burst: burst > 0 ? burst : ratePerSecond * 2, now });
}

/** Sets the limit headers (and refuses) for one bucket's answer. */
function apply(result: TakeResult, reply: FastifyReply): void {
  void reply.header('ratelimit-limit', result.limit);
  void reply.header('ratelimit-remaining', result.remaining);
  void reply.header('ratelimit-reset', result.resetSeconds);
  if (!result.allowed) {
    void reply.header('retry-after', result.retryAfterSeconds);
    throw new HeraldError('RATE_LIMITED', `Too many requests; retry after ${result.retryAfterSeconds} s`);
  }
}

/**
 * The two onRequest hooks: `byKey` before authentication, `byTenant` after it.
 *
 * @example const limit = createRateLimit(ctx); app.addHook('onRequest', limit.byKey); app.addHook('onRequest', authenticate); app.addHook('onRequest', limit.byTenant)
 */
export function createRateLimit(ctx: AppContext) {
  const now = () => ctx.clock.now().getTime();
  const { apiRateLimit, apiRateLimitBurst, adminRateLimit } = ctx.config;
  const clients = limiterFor(apiRateLimit, apiRateLimitBurst, now);
  const tenants = limiterFor(apiRateLimit, apiRateLimitBurst, now);
  // The admin key has its own rate (off by default: the operator's publishers are trusted).
  const admin = limiterFor(adminRateLimit, 0, now);

  return {
    async byKey(request: FastifyRequest, reply: FastifyReply): Promise<void> {
      if (!clients && !admin) return;
      const key = presentedKey(request);
      let result: TakeResult | undefined;
      if (key === undefined) {
        result = clients?.take(`ip:${request.ip}`);
      } else {
        const digest = presentedKeyDigest(request, key);
        result = digestsEqual(digest, ctx.adminKeyHash)
          ? admin?.take('admin')
          : clients?.take(`key:${digest}`);
      }
      if (result) apply(result, reply);
    },
    async byTenant(request: FastifyRequest, reply: FastifyReply): Promise<void> {
      const principal = request.principal as FastifyRequest['principal'] | undefined;
      if (!tenants || !principal || principal.kind === 'admin') return;
      apply(tenants.take(`tenant:${principal.tenantId}`), reply);
    },
  };
}
