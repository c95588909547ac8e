/**
 * How much this process may take on: the room a claim or a handoff may fill, counted from the
 * requests out, the deliveries held ready and waiting, and what publishes have reserved.
 *
 * Deliveries waiting behind their endpoint's own requests (claimed ahead) are not requests in
 * flight, so they do not take the claim room of other endpoints: endpoints that hang with their
 * deliveries held ahead must not starve the rest (test/delivery/isolation.property.test.ts). They
 * have a budget of their own, `concurrency` deliveries; beyond it claims and handoffs take only what
 * can start, and what still waits counts against the room. Deliveries held behind by the handoff
 * (handoff-room.ts) have a budget of their own too, `concurrency × claimAhead`, and take no room.
 */
import type { EndpointPace } from './endpoint-pace.ts';
import type { EndpointSlots } from './endpoint-slots.ts';
import type { HandoffRoom } from './handoff-room.ts';
import type { HeldClaims } from './held-claims.ts';

export interface ClaimRoom {
  /** Limits' worth to claim ahead now: HERALD_CLAIM_AHEAD while the ahead budget lasts, else 1. */
  aheadNow(): number;
  /** The endpoint's limits' worth to hold ahead: its pace (endpoint-pace.ts) while claiming ahead. */
  aheadOf(endpointId: string): number;
  /**
   * Requests this process could still start: its concurrency less those out, those claimed and
   * ready to start, what waits beyond the ahead budget and what publishes have reserved. The
   * handoff takes at most this; a claim up to a batch more (claim-pump.ts).
   */
  free(): number;
  /** What the handoff may still hold behind its endpoints' ahead room. */
  behindFree(): number;
}

export function createClaimRoom(o: {
  concurrency: number;
  claimAhead: number;
  inFlight: () => number;
  slots: Pick<EndpointSlots, 'waiting' | 'waitingBehind'>;
  held: Pick<HeldClaims, 'ready'>;
  handoffRoom: Pick<HandoffRoom, 'reserved'>;
  pace: Pick<EndpointPace, 'aheadFor'>;
}): ClaimRoom {
  const { slots, held, handoffRoom, pace } = o;
  const aheadBudget = o.concurrency;
  const behindBudget = o.concurrency * o.claimAhead;
  const waitingAhead = () => slots.waiting - slots.waitingBehind;
  const aheadNow = () => (waitingAhead() < aheadBudget ? o.claimAhead : 1);
  const overAhead = () => Math.max(0, waitingAhead() - aheadBudget);
  return {
    aheadNow,
    aheadOf: (endpointId) => (aheadNow() > 1 ? pace.aheadFor(endpointId) : 1),
    free: () => o.concurrency - o.inFlight() - held.ready - overAhead() - handoffRoom.reserved,
    behindFree: () => behindBudget - slots.waitingBehind,
  };
}
