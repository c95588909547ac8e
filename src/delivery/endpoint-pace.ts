/**
 * How far ahead this process holds each endpoint's deliveries (docs/isolation.md, "Claiming ahead").
 *
 * A delivery claimed k limits ahead waits behind about k rounds of the endpoint's own requests, so
 * k × the time a request takes is how long it sits claimed and unsent. Held longer than half its
 * lease it is given back unsent (held-claims.ts) — a claim and a release written for nothing. So
 * the number of limits held ahead follows each endpoint's pace: as many as fit in `holdMs` of its
 * requests (a moving average of their durations), between 1 and the configured most. An endpoint
 * answering in 20 ms gets the most; one taking 3 s gets 1 (only what can start now).
 *
 * Deliveries handed over by publishing are held without a claim, so a fast endpoint's may wait
 * further behind (`behindFor`): as many limits' worth as its requests finish in `holdMs` — the same
 * wait — up to `maxBehind`, without the cap a claim keeps to (`claimAhead`: how much of an endpoint
 * one claim takes from the queue other workers share).
 *
 * Only the endpoints held to fewer than the most are kept apart (`reduced`), for the claim's
 * parameter; the averages of at most `maxTracked` endpoints are kept, the least recently heard
 * forgotten first (they then count as fast again until their next request).
 */

export interface EndpointPace {
  /** A request to the endpoint finished after `ms` (whatever its outcome). */
  observe(endpointId: string, ms: number): void;
  /** Limits' worth to hold for the endpoint, 1 to the most. */
  aheadFor(endpointId: string): number;
  /**
   * Limits' worth of the endpoint's handed-over deliveries to hold in all, those behind its ahead
   * room included (handoff-room.ts): as many as its requests finish in `holdMs`, up to
   * `maxBehind`; never fewer than `aheadFor`. Only an endpoint heard from goes past `aheadFor`.
   */
  behindFor(endpointId: string): number;
  /** Endpoints held to fewer than the most → their number of limits (at most `maxReduced` of them). */
  reduced(maxReduced?: number): Record<string, number>;
}

/** Weight of the newest duration in the moving average. */
const WEIGHT = 0.2;

/** @example const pace = createEndpointPace({ maxAhead: 8, holdMs: 5_000 }); pace.observe('ep_1', 2_500); pace.aheadFor('ep_1') // 2 */
export function createEndpointPace(opts: {
  /** The most limits' worth held ahead (HERALD_CLAIM_AHEAD). */
  maxAhead: number;
  /** How long a delivery held ahead should wait at most, roughly. */
  holdMs: number;
  /** The most limits' worth held of one endpoint's handed-over deliveries. Default 1,000. */
  maxBehind?: number;
  maxTracked?: number;
}): EndpointPace {
  const maxTracked = opts.maxTracked ?? 10_000;
  const maxBehind = Math.max(opts.maxAhead, opts.maxBehind ?? 1_000);
  const averages = new Map<string, number>();
  const reduced = new Map<string, number>();

  const fitting = (avgMs: number) => Math.floor(opts.holdMs / Math.max(avgMs, 1));
  const aheadOf = (avgMs: number) => Math.max(1, Math.min(opts.maxAhead, fitting(avgMs)));

  return {
    observe(endpointId, ms) {
      const before = averages.get(endpointId);
      const avg = before === undefined ? ms : before + WEIGHT * (ms - before);
      // Re-inserted, so the Map's order is least recently heard first.
      averages.delete(endpointId);
      averages.set(endpointId, avg);
      if (averages.size > maxTracked) {
        const oldest = averages.keys().next().value as string;
        averages.delete(oldest);
        reduced.delete(oldest);
      }
      const ahead = aheadOf(avg);
      if (ahead < opts.maxAhead) reduced.set(endpointId, ahead);
      else reduced.delete(endpointId);
    },
    aheadFor(endpointId) {
      return reduced.get(endpointId) ?? opts.maxAhead;
    },
    behindFor(endpointId) {
      const avg = averages.get(endpointId);
      if (avg === undefined) return opts.maxAhead;
      return Math.max(aheadOf(avg), Math.min(maxBehind, fitting(avg)));
    },
    reduced(maxReduced = 1_000) {
      const out: Record<string, number> = {};
      let n = 0;
      for (const [id, ahead] of reduced) {
        if (n++ >= maxReduced) break;
        out[id] = ahead;
      }
      return out;
    },
  };
}
