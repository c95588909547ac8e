/**
 * Bounds on fan-out (issue 16): one call of 100 events to a tenant with 1,000 endpoints would make
 * 100,000 deliveries — seconds of the database and of every other tenant's time.
 *
 * - A call may create at most {@link MAX_DELIVERIES_PER_CALL} deliveries: more is 422
 *   LIMIT_EXCEEDED, and the caller publishes in smaller calls.
 * - A tenant may create deliveries at `perSecond` on average (a token bucket of `burst`, in this
 *   process): a call that would overdraw it is refused whole with 429 RATE_LIMITED and a
 *   Retry-After of when it would fit. Nothing of a refused call is written, and what a call took
 *   is given back when its write fails or is tried again (kept candidates found stale).
 */
import { HeraldError } from '../core/errors.ts';
import { createTokenBuckets } from '../core/token-buckets.ts';

export const MAX_DELIVERIES_PER_CALL = 10_000;

export interface DeliveryBudget {
  /** Takes `n` deliveries from the tenant's budget; refuses (throws) when they do not fit. */
  take(tenantId: string, n: number): void;
  /** Gives back `n` taken for deliveries that were not written after all. */
  giveBack(tenantId: string, n: number): void;
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
}): DeliveryBudget {
  const buckets = createTokenBuckets({ ratePerSecond: opts.perSecond, burst: opts.burst, now: opts.now });
  return {
    take(tenantId, n) {
      if (n === 0) return;
      const result = buckets.take(tenantId, n);
      if (result.allowed) return;
      const wait = result.retryAfterSeconds;
      throw new HeraldError(
        'RATE_LIMITED',
        `This tenant creates deliveries faster than ${opts.perSecond} a second; retry after ${wait} s`,
        [{ path: 'events', message: `this call would create ${n} deliveries` }],
        { retryAfterSeconds: wait },
      );
    },
    giveBack(tenantId, n) {
      if (n > 0) buckets.giveBack(tenantId, n);
    },
  };
}
