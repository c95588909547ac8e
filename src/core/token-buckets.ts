/**
 * Token buckets by name: `burst` tokens each, refilled at `ratePerSecond`, memory bounded (a bucket
 * that has refilled is the same as none and is dropped; at most `maxBuckets`, least recently used
 * first). The API's rate limit (src/api/rate-limit.ts) takes one token a request; the tenants'
 * delivery budget (src/publish/delivery-budget.ts) one a delivery.
 */
export interface TokenBucketOptions {
  /** Tokens added per second. */
  ratePerSecond: number;
  /** Bucket size: requests that may be made at once. */
  burst: number;
  /** Milliseconds since some epoch; injected in tests. */
  now: () => number;
  /** Most buckets kept in memory. */
  maxBuckets?: number;
}

export interface TakeResult {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the bucket is full again. */
  resetSeconds: number;
  /** Seconds until the same take would be allowed (0 when allowed). */
  retryAfterSeconds: number;
}

interface Bucket {
  tokens: number;
  updatedMs: number;
}

export const DEFAULT_MAX_BUCKETS = 50_000;

/**
 * Token buckets by name.
 *
 * @example const limiter = createTokenBuckets({ ratePerSecond: 10, burst: 20, now: Date.now });
 *          limiter.take('key:ab12').allowed
 */
export function createTokenBuckets(options: TokenBucketOptions) {
  const { ratePerSecond: rate, burst } = options;
  const maxBuckets = options.maxBuckets ?? DEFAULT_MAX_BUCKETS;
  const fullAfterMs = (burst / rate) * 1000;
  // A Map iterates in insertion order; re-inserting on every use keeps it least-recently-used first.
  const buckets = new Map<string, Bucket>();

  function evictIdle(nowMs: number): void {
    for (const [name, b] of buckets) {
      if (nowMs - b.updatedMs < fullAfterMs && buckets.size <= maxBuckets) break;
      buckets.delete(name);
    }
  }

  return {
    /** Takes `n` tokens (default 1) from `name`'s bucket, or none when they are not all there. */
    take(name: string, n = 1): TakeResult {
      const nowMs = options.now();
      const b = buckets.get(name);
      let tokens = burst;
      if (b) {
        tokens = Math.min(burst, b.tokens + (Math.max(0, nowMs - b.updatedMs) / 1000) * rate);
        buckets.delete(name);
      }
      const allowed = tokens >= n;
      if (allowed) tokens -= n;
      buckets.set(name, { tokens, updatedMs: nowMs });
      evictIdle(nowMs);
      return {
        allowed,
        limit: burst,
        remaining: Math.floor(tokens),
        resetSeconds: Math.ceil((burst - tokens) / rate),
        retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil((Math.min(n, burst) - tokens) / rate)),
      };
    },
    /**
     * Puts back `n` tokens taken from `name` for something that then did not happen (a write that
     * failed or must be tried again), up to a full bucket.
     */
    giveBack(name: string, n: number): void {
      const b = buckets.get(name);
      if (b) b.tokens = Math.min(burst, b.tokens + n);
    },
    /** How many buckets are held (for tests of the memory bound). */
    size(): number {
      return buckets.size;
    },
  };
}
