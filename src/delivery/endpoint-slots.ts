/**
 * This process's share of each endpoint's requests in flight. The claim already keeps every
 * endpoint under its limit cluster-wide (src/queue/claim-deliveries.ts counts leases), so a claimed
 * delivery normally starts at once; the slots are the local backstop for what bypasses the claim —
 * deliveries handed over by publishing (src/queue/handoff.ts) — and for an endpoint whose adaptive
 * limit dropped after its deliveries were claimed.
 *
 * Each endpoint's local limit is the last one heard: from its claimed deliveries
 * (`endpoint.maxInFlight`, 1 while its circuit probes) or from recorded outcomes (`setLimit`). A
 * delivery over it waits, claimed, until one of the endpoint's requests finishes; the dispatcher
 * counts waiting deliveries against its claim room, and gives back those that wait too long
 * (held-claims.ts) or whose endpoint's circuit opened (`takeWaitingOf`).
 *
 * Fresh deliveries go first. Those handed over by publishing (`handedOver`) wait in a line of
 * their own, served before the deliveries claimed ahead from the endpoint's backlog: an endpoint
 * draining a backlog holds up to `HERALD_CLAIM_AHEAD` limits' worth of it here, and an event
 * published meanwhile would otherwise wait behind all of that (~130 ms at 8 limits on a loopback
 * receiver; a published event is what a user waits for). The endpoint has no order to keep —
 * fifo deliveries are never handed over — and the backlog still drains at whatever rate the fresh
 * flow leaves (docs/isolation.md, "Claiming ahead"). Those handed over past the endpoint's ahead
 * room (`heldBehind`, src/delivery/handoff-room.ts) are backlog too: they join the claimed line,
 * and are counted apart (`waitingBehind`) because they have a budget of their own.
 */
import { Fifo } from '../core/fifo.ts';
import type { ClaimedDelivery } from '../queue/claimed-delivery.ts';

export type Admission = 'start' | 'queued';

export interface EndpointSlots {
  /** `start`: a slot was taken; `queued`: it waits for one (a handed-over delivery ahead of claimed ones). */
  admit(d: ClaimedDelivery): Admission;
  /** One of the endpoint's requests finished: the next waiting delivery, its slot already taken. */
  finish(endpointId: string): ClaimedDelivery | undefined;
  /**
   * The endpoint's limit changed (adaptive concurrency, circuit); null = the configured maximum.
   * The waiting deliveries a raised limit lets start go to `start`, their slots already taken — as
   * many as their tenant's room (`tenantRoom`) and the process's (`processRoom`) allow: a raised
   * limit must carry neither past its own. (A callback, not an answer: a caller that ignored the answer once left them claimed
   * and unsent until their lease ran out.)
   */
  setLimit(endpointId: string, limit: number | null): void;
  /**
   * How many more deliveries the endpoint may take here: with `limits` 1, those that can start now
   * (counting those waiting); with more, that many limits' worth held in all (claiming ahead).
   */
  room(endpointId: string, limits?: number): number;
  /**
   * How many more handed-over deliveries the endpoint may hold here, `limits` limits' worth counting
   * those in flight and the handed-over ones waiting (they go before the claimed ones).
   */
  freshRoom(endpointId: string, limits: number): number;
  /**
   * A request of the tenant finished without passing its slot on: start what its endpoints left
   * waiting for the tenant's room (not their own) when their limits were raised.
   */
  resume(tenantId: string): void;
  /**
   * A request finished and the process has room again: start what endpoints left waiting for the
   * process's room (`processRoom`) when their limits were raised, as far as that room goes.
   */
  resumeProcess(): void;
  /** Everything waiting (on drain), slots untouched. */
  takeWaiting(): ClaimedDelivery[];
  /** One endpoint's waiting deliveries (its circuit opened), slots untouched. */
  takeWaitingOf(endpointId: string): ClaimedDelivery[];
  /** Deliveries waiting for a slot. */
  readonly waiting: number;
  /** Of those, the ones handed over to wait behind (`heldBehind`). */
  readonly waitingBehind: number;
  /** One endpoint's deliveries waiting for a slot. */
  waitingOf(endpointId: string): number;
  /** The endpoint's limit here. */
  limitOf(endpointId: string): number;
}

/** An endpoint's waiting deliveries: handed-over ones first, then claimed ones, each in arrival order. */
interface Line {
  fresh: Fifo<ClaimedDelivery>;
  claimed: Fifo<ClaimedDelivery>;
}

const lengthOf = (line: Line | undefined) => (line ? line.fresh.length + line.claimed.length : 0);

/** @example const slots = createEndpointSlots(64, send); if (slots.admit(d) === 'start') send(d) */
export function createEndpointSlots(
  maxPerEndpoint: number,
  /** Given each waiting delivery a raised limit lets start, its slot taken. */
  start: (d: ClaimedDelivery) => void,
  /** How many more requests the tenant may have in flight here; default: no tenant limit. */
  tenantRoom: (tenantId: string) => number = () => Number.POSITIVE_INFINITY,
  /** How many more requests this process may have in flight; default: no process limit. */
  processRoom: () => number = () => Number.POSITIVE_INFINITY,
): EndpointSlots {
  const inFlight = new Map<string, number>();
  const lines = new Map<string, Line>();
  // Only endpoints below the maximum are kept.
  const limits = new Map<string, number>();
  let waiting = 0;
  let waitingBehind = 0;
  // Endpoints below their limit whose line waits for its tenant's room, by tenant (`resume`)...
  const stalled = new Map<string, Set<string>>();
  // ... or for the process's (`resumeProcess`).
  const processStalled = new Set<string>();
  /** `d` left the waiting lines. */
  const left = (d: ClaimedDelivery) => {
    waiting--;
    if (d.heldBehind) waitingBehind--;
  };

  const limitOf = (endpointId: string) => limits.get(endpointId) ?? maxPerEndpoint;

  /** Keeps the endpoint's limit (null or at least the maximum: the maximum); answers it. */
  function storeLimit(endpointId: string, limit: number | null): number {
    const l = limit === null ? maxPerEndpoint : Math.max(1, Math.min(maxPerEndpoint, limit));
    if (l >= maxPerEndpoint) limits.delete(endpointId);
    else limits.set(endpointId, l);
    return l;
  }

  /** The endpoint's next waiting delivery, taken off its line (which goes once empty). */
  function next(endpointId: string, line: Line): ClaimedDelivery {
    const d = (line.fresh.length > 0 ? line.fresh.shift() : line.claimed.shift())!;
    left(d);
    if (lengthOf(line) === 0) lines.delete(endpointId);
    return d;
  }

  function setLimit(endpointId: string, limit: number | null): void {
    const l = storeLimit(endpointId, limit);
    const line = lines.get(endpointId);
    if (!line) return;
    let n = inFlight.get(endpointId) ?? 0;
    const started: ClaimedDelivery[] = [];
    // One endpoint's deliveries share a tenant.
    const first = line.fresh.peek() ?? line.claimed.peek();
    const ofTenant = first ? tenantRoom(first.tenantId) : 0;
    const ofProcess = processRoom();
    const room = Math.min(ofTenant, ofProcess);
    while (lengthOf(line) > 0 && n < l && started.length < room) {
      started.push(next(endpointId, line));
      n++;
    }
    if (first && lengthOf(line) > 0 && n < l) {
      if (ofProcess < ofTenant) processStalled.add(endpointId);
      else {
        const ids = stalled.get(first.tenantId) ?? new Set<string>();
        stalled.set(first.tenantId, ids.add(endpointId));
      }
    }
    if (started.length === 0) return;
    inFlight.set(endpointId, n);
    // Once the counts are settled: `start` may finish a slot again (a delivery held too long).
    for (const d of started) start(d);
  }

  return {
    admit(d) {
      // A claim's limit is as fresh as the database's; a line is then at most one finish behind.
      if (d.endpoint.maxInFlight !== undefined) storeLimit(d.endpointId, d.endpoint.maxInFlight);
      const n = inFlight.get(d.endpointId) ?? 0;
      if (n < limitOf(d.endpointId) && !lines.has(d.endpointId)) {
        inFlight.set(d.endpointId, n + 1);
        return 'start';
      }
      let line = lines.get(d.endpointId);
      if (!line) {
        line = { fresh: new Fifo(), claimed: new Fifo() };
        lines.set(d.endpointId, line);
      }
      (d.handedOver && !d.heldBehind ? line.fresh : line.claimed).push(d);
      waiting++;
      if (d.heldBehind) waitingBehind++;
      return 'queued';
    },
    finish(endpointId) {
      const n = inFlight.get(endpointId) ?? 1;
      const line = lines.get(endpointId);
      // The finished request's slot passes to the next waiting one, if the limit still allows.
      if (line && n <= limitOf(endpointId)) return next(endpointId, line);
      if (n <= 1) inFlight.delete(endpointId);
      else inFlight.set(endpointId, n - 1);
      return undefined;
    },
    setLimit,
    resume(tenantId) {
      const ids = stalled.get(tenantId);
      if (!ids) return;
      stalled.delete(tenantId);
      // Re-applying an endpoint's limit starts what its tenant's room allows, and marks it again
      // if that was not all.
      for (const id of ids) setLimit(id, limitOf(id));
    },
    resumeProcess() {
      if (processStalled.size === 0) return;
      const ids = [...processStalled];
      processStalled.clear();
      for (const id of ids) {
        if (processRoom() <= 0) processStalled.add(id);
        else setLimit(id, limitOf(id));
      }
    },
    room(endpointId, limits = 1) {
      const used = (inFlight.get(endpointId) ?? 0) + lengthOf(lines.get(endpointId));
      return Math.max(0, limitOf(endpointId) * limits - used);
    },
    freshRoom(endpointId, limits) {
      const used = (inFlight.get(endpointId) ?? 0) + (lines.get(endpointId)?.fresh.length ?? 0);
      return Math.max(0, limitOf(endpointId) * limits - used);
    },
    takeWaiting() {
      const all = [...lines.values()].flatMap((line) => [...line.fresh.toArray(), ...line.claimed.toArray()]);
      lines.clear();
      waiting = 0;
      waitingBehind = 0;
      return all;
    },
    takeWaitingOf(endpointId) {
      const line = lines.get(endpointId);
      if (!line) return [];
      lines.delete(endpointId);
      const taken = [...line.fresh.toArray(), ...line.claimed.toArray()];
      for (const d of taken) left(d);
      return taken;
    },
    get waiting() {
      return waiting;
    },
    get waitingBehind() {
      return waitingBehind;
    },
    waitingOf(endpointId) {
      return lengthOf(lines.get(endpointId));
    },
    limitOf,
  };
}
