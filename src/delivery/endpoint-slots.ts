/**
 * The cap on concurrent requests per endpoint: one receiver must not get the dispatcher's whole
 * concurrency at once (a slow receiver would otherwise tie up every slot, and a small one would be
 * flooded). A delivery over its endpoint's cap waits, claimed, until one of that endpoint's requests
 * finishes. Waiting deliveries count against the dispatcher's claim room, so memory stays bounded;
 * the price is that a backlog of one capped endpoint can hold that room until it drains at the
 * endpoint's own pace (giving such claims back instead cost a second of delay per round trip).
 */
import type { ClaimedDelivery } from '../queue/claim-deliveries.ts';

export type Admission = 'start' | 'queued';

export interface EndpointSlots {
  /** `start`: a slot was taken; `queued`: it waits for one. */
  admit(d: ClaimedDelivery): Admission;
  /** One of the endpoint's requests finished: the next waiting delivery, its slot already taken. */
  finish(endpointId: string): ClaimedDelivery | undefined;
  /** Everything waiting (on drain), slots untouched. */
  takeWaiting(): ClaimedDelivery[];
  /** Deliveries waiting for a slot. */
  readonly waiting: number;
}

/** @example const slots = createEndpointSlots(64); if (slots.admit(d) === 'start') send(d) */
export function createEndpointSlots(maxPerEndpoint: number): EndpointSlots {
  const inFlight = new Map<string, number>();
  const queues = new Map<string, ClaimedDelivery[]>();
  let waiting = 0;
  return {
    admit(d) {
      const n = inFlight.get(d.endpointId) ?? 0;
      if (n < maxPerEndpoint) {
        inFlight.set(d.endpointId, n + 1);
        return 'start';
      }
      const queue = queues.get(d.endpointId) ?? [];
      queue.push(d);
      queues.set(d.endpointId, queue);
      waiting++;
      return 'queued';
    },
    finish(endpointId) {
      const queue = queues.get(endpointId);
      const next = queue?.shift();
      if (next) {
        waiting--;
        if (queue!.length === 0) queues.delete(endpointId);
        return next; // the finished request's slot passes to it
      }
      const n = (inFlight.get(endpointId) ?? 1) - 1;
      if (n <= 0) inFlight.delete(endpointId);
      else inFlight.set(endpointId, n);
      return undefined;
    },
    takeWaiting() {
      const all = [...queues.values()].flat();
      queues.clear();
      waiting = 0;
      return all;
    },
    get waiting() {
      return waiting;
    },
  };
}
