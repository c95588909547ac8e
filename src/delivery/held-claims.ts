/**
 * What a dispatcher holds claimed but has not sent yet — claimed ahead, waiting for an endpoint
 * slot, or handed over by publishing in its process — bounded in time and in memory:
 *
 * - Time: a claim held unsent for more than half its lease is stale. The lease (leaseMs plus the
 *   request's own timeout) must outlast the request, or another worker may take the delivery over
 *   while it is still out; a stale claim is given back instead of sent late.
 * - Memory: handed-over deliveries carry their events' data from the publish call, so their event
 *   JSON counts against `maxBytes` from the moment a publish reserves room until each delivery
 *   leaves (sent or given back).
 *
 * Counting deliveries (in flight, ready, waiting) stays with the dispatcher, which owns those lists.
 */
import type { ClaimedDelivery } from '../queue/claim-deliveries.ts';

export interface HeldClaims {
  readonly maxHoldMs: number;
  /** Whether `bytes` more event JSON fits the budget, counting what publishes have reserved. */
  fits(bytes: number): boolean;
  /** A publish reserved room for `bytes` (+) or gave it back (−). */
  reserve(bytes: number): void;
  /** Claims taken at `at` (performance.now()); handed-over ones share the publish's `bytes`. */
  hold(deliveries: ClaimedDelivery[], at: number, bytes?: number): void;
  /** The delivery left the dispatcher (sent or given back): its bytes no longer count. */
  letGo(d: ClaimedDelivery): void;
  /** Held unsent longer than half its lease. */
  isStale(d: ClaimedDelivery, now: number): boolean;
}

/** @example const held = createHeldClaims({ leaseMs: 30_000, maxBytes: 32 * 1024 * 1024 }) */
export function createHeldClaims(opts: { leaseMs: number; maxBytes: number }): HeldClaims {
  const maxHoldMs = opts.leaseMs / 2;
  let reservedBytes = 0;
  let heldBytes = 0;
  return {
    maxHoldMs,
    fits: (bytes) => heldBytes + reservedBytes + bytes <= opts.maxBytes,
    reserve(bytes) {
      reservedBytes += bytes;
    },
    hold(deliveries, at, bytes) {
      const share = bytes !== undefined && deliveries.length > 0 ? bytes / deliveries.length : 0;
      for (const d of deliveries) {
        d.heldSince = at;
        if (share > 0) d.heldBytes = share;
      }
      if (share > 0) heldBytes += bytes!;
    },
    letGo(d) {
      if (d.heldBytes) {
        heldBytes -= d.heldBytes;
        d.heldBytes = 0;
      }
    },
    isStale: (d, now) => d.heldSince !== undefined && now - d.heldSince > maxHoldMs,
  };
}
