/**
 * Everything a dispatcher holds claimed but has not sent yet, in one owner: deliveries claimed
 * (ahead, from the queue) or handed over by publishing in this process, first in a ready line in
 * arrival order, then — admitted to their endpoint but over its limit — in the endpoint's waiting
 * line (endpoint-slots.ts). Held claims are bounded in time and in memory:
 *
 * - Time: a claim held unsent for more than half its lease is stale. The lease (leaseMs plus the
 *   request's own timeout) must outlast the request, or another worker may take the delivery over
 *   while it is still out; a stale claim is given back instead of sent late.
 * - Memory: handed-over deliveries carry their events' data from the publish call, so their event
 *   JSON counts against `maxBytes` from the moment a publish reserves room until each delivery
 *   leaves (sent or given back).
 *
 * Sending, giving back and requests in flight stay with the dispatcher.
 */
import type { ClaimedDelivery } from '../queue/claimed-delivery.ts';
import type { EndpointSlots } from './endpoint-slots.ts';

export interface HeldClaims {
  readonly maxHoldMs: number;
  /** Deliveries held and not yet admitted to their endpoint (waiting ones are `slots.waiting`). */
  readonly ready: number;
  /** Whether `bytes` more event JSON fits the budget, counting what publishes have reserved. */
  fits(bytes: number): boolean;
  /** A publish reserved room for `bytes` (+) or gave it back (−). */
  reserve(bytes: number): void;
  /**
   * Claims taken at `at` (performance.now()) join the ready line. Handed-over ones (`handedOver`)
   * share the publish's `bytes` and go before claimed ones in their endpoint's waiting line.
   */
  hold(deliveries: ClaimedDelivery[], at: number, handedOver?: { bytes: number }): void;
  /** The first ready delivery, taken off the line. */
  nextReady(): ClaimedDelivery | undefined;
  /** Everything held of one endpoint (its circuit opened), ready or waiting, taken back. */
  takeOf(endpointId: string): ClaimedDelivery[];
  /** Everything held (stopping), taken back; the endpoints' slots are untouched. */
  takeAll(): ClaimedDelivery[];
  /** The delivery left the dispatcher (sent or given back): its bytes no longer count. */
  letGo(d: ClaimedDelivery): void;
  /** Held unsent longer than half its lease. */
  isStale(d: ClaimedDelivery, now: number): boolean;
}

/** @example const held = createHeldClaims({ leaseMs: 30_000, maxBytes: 32 * 1024 * 1024, slots }) */
export function createHeldClaims(opts: {
  leaseMs: number;
  maxBytes: number;
  slots: Pick<EndpointSlots, 'takeWaiting' | 'takeWaitingOf'>;
}): HeldClaims {
  const { slots } = opts;
  const maxHoldMs = opts.leaseMs / 2;
  let ready: ClaimedDelivery[] = [];
  // `ready` is consumed from `head` and compacted now and then: no O(n) shift per delivery.
  let head = 0;
  let reservedBytes = 0;
  let heldBytes = 0;

  const readyNow = () => ready.slice(head);

  return {
    maxHoldMs,
    get ready() {
      return ready.length - head;
    },
    fits: (bytes) => heldBytes + reservedBytes + bytes <= opts.maxBytes,
    reserve(bytes) {
      reservedBytes += bytes;
    },
    hold(deliveries, at, handedOver) {
      const share =
        handedOver !== undefined && deliveries.length > 0 ? handedOver.bytes / deliveries.length : 0;
      for (const d of deliveries) {
        d.heldSince = at;
        if (handedOver) d.handedOver = true;
        if (share > 0) d.heldBytes = share;
        ready.push(d);
      }
      if (share > 0) heldBytes += handedOver!.bytes;
    },
    nextReady() {
      if (head >= ready.length) return undefined;
      const d = ready[head++]!;
      if (head === ready.length) {
        ready = [];
        head = 0;
      } else if (head >= 1024 && head * 2 >= ready.length) {
        ready = readyNow();
        head = 0;
      }
      return d;
    },
    takeOf(endpointId) {
      const taken = slots.takeWaitingOf(endpointId);
      const kept: ClaimedDelivery[] = [];
      for (const d of readyNow()) (d.endpointId === endpointId ? taken : kept).push(d);
      ready = kept;
      head = 0;
      return taken;
    },
    takeAll() {
      const taken = [...readyNow(), ...slots.takeWaiting()];
      ready = [];
      head = 0;
      return taken;
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
