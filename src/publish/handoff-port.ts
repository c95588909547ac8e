/**
 * Publishing's side of the direct handoff (src/queue/handoff.ts): which new deliveries are handed
 * over to this process's dispatcher, and the claimed deliveries it is then given, built from what
 * publishing already holds — no read of what was just written.
 */

import { PROFILES } from '../profiles/index.ts';
import type { ProfileName } from '../profiles/profile-names.ts';
import { type ClaimedDelivery, toClaimedEndpoint } from '../queue/claimed-delivery.ts';
import type { DeliveryHandoff, HandoffWanted } from '../queue/handoff.ts';
import { attemptBudgetMs, leaseFor } from '../rules/attempt-budget.ts';
import type { Candidate } from './candidates.ts';
import type { InsertedDelivery, NewDelivery, StoredTimes } from './publish-sql.ts';
import type { PublishedEvent } from './types.ts';

/**
 * Marks the planned deliveries the handoff has room for to be handed over to it; answers the
 * reservations. fifo deliveries, inactive endpoints and open circuits keep to the claim's rules.
 */
export function reserveHandoff(
  tenantId: string,
  planned: NewDelivery[],
  endpoints: Map<string, Candidate>,
  handoff: DeliveryHandoff | undefined,
  /** The size of the events' JSON: what holding them in memory costs, roughly. */
  bytes: number,
  /**
   * Whether the endpoints' adaptive limits were just read. Kept candidates (candidate-cache.ts)
   * carry the limit of their read, which the dispatcher's own (from claims and recorded outcomes)
   * has since overtaken: passing it on would pin the endpoint back, so they pass none (null).
   */
  limitsFresh = true,
): HandoffWanted[] {
  if (!handoff) return [];
  const eligible = planned.filter((d) => {
    const ep = endpoints.get(d.endpointId);
    return !d.fifo && ep?.active && !ep.circuit_open;
  });
  if (eligible.length === 0) return [];
  const wanted = eligible.map(
    (d): HandoffWanted => ({
      tenantId,
      endpointId: d.endpointId,
      limit: limitsFresh ? endpoints.get(d.endpointId)!.concurrency_limit : null,
    }),
  );
  const taken = handoff.reserve(wanted, bytes);
  const reserved: HandoffWanted[] = [];
  for (const [i, d] of eligible.entries()) {
    if (!taken[i]) continue;
    reserved.push(wanted[i]!);
    if (wanted[i]!.heldBehind) d.heldBehind = true;
    const ep = endpoints.get(d.endpointId)!;
    d.leaseMs = leaseFor(
      attemptBudgetMs(
        ep.total_timeout_ms,
        PROFILES[ep.profile as ProfileName]?.timeouts?.totalMs,
        handoff.defaultTotalTimeoutMs,
      ),
      handoff.leaseMs,
    );
  }
  return reserved;
}

/** The claimed deliveries as the dispatcher takes them, built from what publishing already holds. */
export function handedOver(
  tenantId: string,
  inserted: InsertedDelivery[],
  endpoints: Map<string, Candidate>,
  events: Map<string, PublishedEvent>,
  stored: StoredTimes,
): ClaimedDelivery[] {
  // One endpoint object per endpoint, shared by its deliveries (read-only from here on).
  const configs = new Map<string, ClaimedDelivery['endpoint']>();
  const configOf = (id: string) => {
    let c = configs.get(id);
    if (!c) {
      c = toClaimedEndpoint(id, endpoints.get(id)!);
      configs.set(id, c);
    }
    return c;
  };
  const handed: ClaimedDelivery[] = [];
  for (const d of inserted) {
    if (d.handoffId === null) continue;
    const first = stored.get(d.eventIds[0]!)!;
    handed.push({
      id: d.id,
      tenantId,
      endpointId: d.endpointId,
      eventType: d.eventType,
      sequence: d.sequence,
      fifo: d.fifo,
      attemptNumber: 1,
      heldBehind: d.heldBehind === true,
      endpoint: configOf(d.endpointId),
      events: d.eventIds.map((id) => {
        const e = events.get(id)!;
        const times = stored.get(id)!;
        return {
          id,
          type: e.type,
          data: e.data,
          purged: false,
          occurredAt: times.occurred_at,
          createdAt: times.created_at,
        };
      }),
      // A delivery's events come from one call, which has one trace context (publish-events.ts).
      traceContext: events.get(d.eventIds[0]!)?.traceContext ?? null,
      handoff: {
        handoffId: d.handoffId,
        endpointId: d.endpointId,
        eventIds: d.eventIds,
        eventType: d.eventType,
        sequence: d.sequence,
        createdMs: first.created_at.getTime(),
      },
    });
  }
  return handed;
}
