/**
 * Bounds on fan-out (issue 16): one call of 100 events to a tenant with 1,000 endpoints would make
 * 100,000 deliveries — seconds of the database and of every other tenant's time.
 *
 * - A call may create at most {@link MAX_DELIVERIES_PER_CALL} deliveries: more is 422
 *   LIMIT_EXCEEDED, and the caller publishes in smaller calls.
 * - A tenant may create deliveries at `perSecond` on average (a token bucket of `burst`, in this
 *   process): a call that would overdraw it is refused whole with 429 RATE_LIMITED and a
 *   Retry-After of when it would fit. Nothing of a refused call is written.
 */
import { HeraldError } from '../core/errors.ts';

export const MAX_DELIVERIES_PER_CALL = 10_000;

export interface DeliveryBudget {
  /** Takes `n` deliveries from the tenant's budget; refuses (throws) when they do not fit. */
  take(tenantId: string, n: number): void;
}

/** Refuses a call that would create more than {@link MAX_DELIVERIES_PER_CALL} deliveries. */
export function checkDeliveriesPerCall(n: number): void {
  if (n > MAX_DELIVERIES_PER_CALL) {
    throw new HeraldError(
      'LIMIT_EXCEEDED',
      `This call would create ${n} deliveries; one call may create at most ${MAX_DELIVERIES_PER_CALL}: publish fewer events per call`,
      [
        {
          path: 'events',
          message: `at most ${MAX_DELIVERIES_PER_CALL} deliveries per call (events × matching endpoints)`,
        },
      ],
    );
  }
}

/** @example const budget = createDeliveryBudget({ perSecond: 20_000, burst: 100_000, now: Date.now }) */
export function createDeliveryBudget(opts: {
  perSecond: number;
  burst: number;
  now: () => number;
  /** Most tenants tracked; the least recently seen are forgotten (a full bucket is the same as none). */
  maxTenants?: number;
}): DeliveryBudget {
  const maxTenants = opts.maxTenants ?? 50_000;
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    take(tenantId, n) {
      if (n === 0) return;
      const now = opts.now();
      const b = buckets.get(tenantId);
      let tokens = opts.burst;
      if (b) {
        tokens = Math.min(opts.burst, b.tokens + (Math.max(0, now - b.at) / 1000) * opts.perSecond);
        buckets.delete(tenantId);
      }
      if (tokens < n) {
        buckets.set(tenantId, { tokens, at: now });
        const wait = Math.max(1, Math.ceil((Math.min(n, opts.burst) - tokens) / opts.perSecond));
        throw new HeraldError(
          'RATE_LIMITED',
          `This tenant creates deliveries faster than ${opts.perSecond} a second; retry after ${wait} s`,
          [{ path: 'events', message: `this call would create ${n} deliveries` }],
          { retryAfterSeconds: wait },
        );
      }
      buckets.set(tenantId, { tokens: tokens - n, at: now });
      if (buckets.size > maxTenants) buckets.delete(buckets.keys().next().value as string);
    },
  };
}
