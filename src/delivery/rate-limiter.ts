/**
 * Per-endpoint request rate limit for this process: a token bucket holding up to one second's worth
 * of requests, refilled continuously. A delivery that finds the bucket empty is not held in memory;
 * the dispatcher gives it back to the queue to fall due when a token will be there.
 *
 * Deferred deliveries are spread out: each one is given the next free slot after the previous
 * deferral, so a batch of 100 deferred deliveries returns one per token instead of all at once (and
 * then mostly being deferred again).
 */

interface Bucket {
  tokens: number;
  updatedAt: number;
  /** The earliest time the next deferral may be scheduled for. */
  nextSlot: number;
}

export interface RateLimiter {
  /**
   * Takes a token for `key` at `nowMs`: answers 0 when the request may go now, otherwise the delay in
   * ms until it should be tried again.
   */
  take(key: string, perSecond: number, nowMs: number): number;
}

/** Buckets idle this long are full again and can be forgotten. */
const IDLE_MS = 60_000;

/**
 * @example const limiter = createRateLimiter(); limiter.take('ep_1', 10, Date.now()) // 0
 */
export function createRateLimiter(): RateLimiter {
  const buckets = new Map<string, Bucket>();
  let lastSweep = 0;

  function sweep(nowMs: number): void {
    if (nowMs - lastSweep < IDLE_MS) return;
    lastSweep = nowMs;
    for (const [key, b] of buckets)
      if (nowMs - b.updatedAt > IDLE_MS && b.nextSlot < nowMs) buckets.delete(key);
  }

  return {
    take(key, perSecond, nowMs) {
      sweep(nowMs);
      const rate = Math.max(perSecond, 0.001);
      const capacity = Math.max(1, rate);
      let b = buckets.get(key);
      if (!b) {
        b = { tokens: capacity, updatedAt: nowMs, nextSlot: 0 };
        buckets.set(key, b);
      }
      b.tokens = Math.min(capacity, b.tokens + (Math.max(0, nowMs - b.updatedAt) * rate) / 1000);
      b.updatedAt = nowMs;
      if (b.tokens >= 1) {
        b.tokens -= 1;
        return 0;
      }
      const interval = 1000 / rate;
      const slot = Math.max(nowMs + (1 - b.tokens) * interval, b.nextSlot);
      b.nextSlot = slot + interval;
      return Math.ceil(slot - nowMs);
    },
  };
}
