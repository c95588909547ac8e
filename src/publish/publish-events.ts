/**
 * Publishing: a call's events and all their deliveries stored in one transaction, committed before
 * the answer, so an accepted event is never lost. Also the endpoint emulator's test event.
 *
 * This is the hot path, so it costs a fixed number of round trips whatever the batch size: one read
 * (the tenant's endpoints and the event types' schemas, candidates.ts), then — when Herald
 * chose every event id, so none can repeat — one autocommitted statement that inserts the events,
 * takes the sequence numbers and inserts the deliveries, shared with the tenant's other such calls
 * waiting (together.ts); otherwise a transaction that also settles repeats and the
 * Idempotency-Key. Matching endpoints is done in JS. With a handoff (src/queue/handoff.ts) the new
 * deliveries go to this process's dispatcher without a claim.
 */

import { HeraldError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import type { Db } from '../db/db.ts';
import type { ClaimedDelivery } from '../queue/claimed-delivery.ts';
import type { DeliveryHandoff, HandoffWanted } from '../queue/handoff.ts';
import { planDeliveries } from '../rules/fan-out.ts';
import { notFoundUnder } from '../store/deliveries.ts';
import { findEventType } from '../store/event-types.ts';
import type { HeraldEvent } from '../store/events.ts';
import { checkCall, eventRow, publishResult, readCandidates } from './candidates.ts';
import { checkDeliveriesPerCall, type DeliveryBudget } from './delivery-budget.ts';
import { handedOver, reserveHandoff } from './handoff-port.ts';
import { insertDeliveries, insertEvents } from './publish-sql.ts';
import { claimIdempotencyKey, firstEvents, sameCall } from './repeats.ts';
import { publishTogether } from './together.ts';
import type { EventInput, PublishedEvent, PublishResult } from './types.ts';

export const TEST_EVENT_ORIGIN = 'herald.test';

export type { EventInput, PublishResult } from './types.ts';

export interface PublishOptions {
  idempotencyKey?: string;
  /** Only this endpoint gets the events, matched or not, active or not (the emulator). */
  endpointId?: string;
  /** The dispatcher of this process, to hand the new deliveries to directly (src/queue/handoff.ts). */
  handoff?: DeliveryHandoff | undefined;
  /** The tenants' budgets of deliveries per second (delivery-budget.ts); none: unbounded. */
  budget?: DeliveryBudget | undefined;
  /** The call's W3C trace context, stored with its events (src/tracing/trace-context.ts). */
  traceContext?: string | undefined;
  /**
   * Herald's own operational events (src/delivery/operational-pump.ts): the operator's catalog does
   * not describe them, so a type of the same name there must not refuse their data.
   */
  notInCatalog?: boolean;
}

/**
 * Publishes one call's events for a tenant: validates them, stores them with all their deliveries and
 * commits, so an accepted event is never lost. Idempotent by event id and by `idempotencyKey`.
 *
 * @example await publishEvents(db, 'acme', [{ type: 'invoice.paid', data: { id: 'inv_1' } }])
 */
export async function publishEvents(
  db: Db,
  tenantId: string,
  inputs: EventInput[],
  opts: PublishOptions = {},
): Promise<PublishResult> {
  const { traceContext } = opts;
  const events: PublishedEvent[] = inputs.map((e) =>
    traceContext === undefined
      ? { ...e, id: e.id ?? newId('msg') }
      : { ...e, id: e.id ?? newId('msg'), traceContext },
  );
  const seen = new Map<string, number>();
  events.forEach((e, i) => {
    const first = seen.get(e.id);
    if (first !== undefined) {
      throw new HeraldError(
        'VALIDATION_FAILED',
        `events.${i}.id: repeats events.${first}.id in the same call`,
        [{ path: `events.${i}.id`, message: `repeats events.${first}.id` }],
      );
    }
    seen.set(e.id, i);
  });

  // Every id generated here, so none can repeat: written with whatever other such calls of the
  // tenant are waiting, in one autocommitted statement (together.ts).
  if (
    opts.idempotencyKey === undefined &&
    opts.endpointId === undefined &&
    inputs.every((e) => e.id === undefined)
  ) {
    return publishTogether(db, tenantId, events, opts.handoff, opts.budget);
  }

  const candidates = await readCandidates(db, tenantId, opts.endpointId ?? null, [
    ...new Set(inputs.map((e) => e.type)),
  ]);
  checkCall(opts.notInCatalog ? { ...candidates, schemas: new Map() } : candidates, inputs);
  const { endpoints } = candidates;
  if (opts.endpointId !== undefined && endpoints.length === 0) throw new HeraldError('ENDPOINT_NOT_FOUND');
  const byId = new Map(endpoints.map((e) => [e.id, e]));
  const batchId = newId('bat');
  const { handoff } = opts;
  const claimAs = handoff ? { workerId: handoff.workerId, now: handoff.queueNow() } : undefined;
  let reserved: HandoffWanted[] = [];
  let handed: ClaimedDelivery[] = [];
  let budgetTaken = 0;
  // Serialised once: the insert's parameter, and the measure of what handing these over holds.
  const eventsJson = JSON.stringify(events.map((e) => eventRow(e, batchId)));

  try {
    return await db.transaction(async (tx) => {
      if (opts.idempotencyKey !== undefined) {
        const first = await claimIdempotencyKey(tx, tenantId, opts.idempotencyKey, events);
        if (first) {
          if (!sameCall(first, inputs)) {
            throw new HeraldError(
              'IDEMPOTENCY_CONFLICT',
              'This Idempotency-Key was already used for a different publish call',
            );
          }
          return { events: first, replayed: true, deliveries: [] };
        }
      }
      const stored = await insertEvents(tx, tenantId, eventsJson);
      const fresh = events.filter((e) => stored.has(e.id));
      const repeats =
        fresh.length < events.length ? await firstEvents(tx, tenantId, events, stored) : new Map();
      const planned = planDeliveries(fresh, endpoints, { targeted: opts.endpointId !== undefined });
      checkDeliveriesPerCall(planned.length);
      opts.budget?.take(tenantId, planned.length);
      budgetTaken = planned.length;
      reserved = reserveHandoff(tenantId, planned, byId, handoff, eventsJson.length);
      const deliveries = await insertDeliveries(tx, tenantId, planned, claimAs);
      if (opts.endpointId !== undefined && deliveries.length === 0 && fresh.length > 0) {
        throw new HeraldError('ENDPOINT_NOT_FOUND'); // deleted meanwhile: roll the event back too
      }
      const out = publishResult(tenantId, batchId, events, stored, repeats, deliveries);
      // Handed over only once committed (below): a rolled-back delivery must never be sent.
      handed = handedOver(tenantId, deliveries, byId, new Map(fresh.map((e) => [e.id, e])), stored);
      return out;
    });
  } catch (err) {
    handed = [];
    // Rolled back: nothing was written, so the budget it took goes back.
    opts.budget?.giveBack(tenantId, budgetTaken);
    // The tenant was deleted between the read and the transaction.
    if ((err as { code?: unknown }).code === '23503') throw new HeraldError('TENANT_NOT_FOUND');
    throw err;
  } finally {
    if (handoff && (reserved.length > 0 || handed.length > 0))
      handoff.accept(handed, reserved, eventsJson.length);
  }
}

/**
 * The emulator: publishes one event of `eventType` (with `data`, or the type's example) to one
 * endpoint only, due now, with origin `herald.test`.
 *
 * @example await publishTestEvent(db, 'acme', 'ep_…', { eventType: 'invoice.paid' })
 */
export async function publishTestEvent(
  db: Db,
  tenantId: string,
  endpointId: string,
  input: { eventType: string; data?: unknown },
  handoff?: DeliveryHandoff,
): Promise<{ event: HeraldEvent; deliveryId: string }> {
  let data = input.data;
  if (data === undefined) {
    const type = await findEventType(db, input.eventType);
    if (type?.example === null || type?.example === undefined) {
      const endpoint = await db.query('SELECT 1 FROM endpoints WHERE tenant_id = $1 AND id = $2', [
        tenantId,
        endpointId,
      ]);
      if (endpoint.length === 0) await notFoundUnder(db, tenantId, 'ENDPOINT_NOT_FOUND');
      const why = type ? 'has no example' : 'is not in the catalog';
      throw new HeraldError(
        'VALIDATION_FAILED',
        `data: required, since event type "${input.eventType}" ${why}`,
        [{ path: 'data', message: `is required: the event type ${why}` }],
      );
    }
    data = type.example;
  }
  const result = await publishEvents(
    db,
    tenantId,
    [{ type: input.eventType, data, origin: TEST_EVENT_ORIGIN }],
    { endpointId, handoff },
  );
  return { event: result.events[0]!, deliveryId: result.deliveries[0]!.id };
}
