/**
 * Publishing's side of the direct handoff (src/queue/handoff.ts): which new deliveries go in claimed
 * by this process's dispatcher, and the claimed deliveries it is then given, built from what
 * publishing already holds — no read of the rows just written.
 */
import { attemptBudgetMs, leaseFor } from '../delivery/attempt-budget.ts';
import type { FanOutEndpoint } from '../delivery/fan-out.ts';
import { PROFILES } from '../profiles/index.ts';
import type { ProfileName } from '../profiles/profile-names.ts';
import {
  type ClaimedDelivery,
  type EndpointConfigRow,
  toClaimedEndpoint,
} from '../queue/claim-deliveries.ts';
import type { DeliveryHandoff } from '../queue/handoff.ts';
import type { InsertedDelivery, NewDelivery } from './insert-deliveries.ts';
import type { EventInput } from './publish-events.ts';

export type Candidate = FanOutEndpoint & EndpointConfigRow & { active: boolean };
export type StoredTimes = Map<string, { created_at: Date; occurred_at: Date | null }>;

/**
 * Marks as many planned deliveries as the handoff has room for to be inserted claimed by it; answers
 * the count reserved. fifo deliveries and inactive endpoints keep to the claim's rules.
 */
export function reserveHandoff(
  planned: NewDelivery[],
  endpoints: Map<string, Candidate>,
  handoff: DeliveryHandoff | undefined,
  /** The size of the events' JSON: what holding them in memory costs, roughly. */
  bytes: number,
): number {
  if (!handoff) return 0;
  const eligible = planned.filter((d) => !d.fifo && endpoints.get(d.endpointId)?.active);
  const reserved = eligible.length > 0 ? handoff.reserve(eligible.length, bytes) : 0;
  for (const d of eligible.slice(0, reserved)) {
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
  events: Map<string, EventInput & { id: string }>,
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
  return inserted
    .filter((d) => d.claimed)
    .map((d) => ({
      id: d.id,
      tenantId,
      endpointId: d.endpointId,
      eventType: d.eventType,
      sequence: d.sequence,
      fifo: d.fifo,
      attemptNumber: 1,
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
    }));
}
