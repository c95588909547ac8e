/**
 * Events as stored and read: one thing that happened, published for a tenant. Immutable, except that
 * the retention job clears `data`. Publishing lives in ./publish-events.ts.
 */

import { HeraldError } from '../core/errors.ts';
import { isoOrNull } from '../core/iso.ts';
import type { Queryable } from '../db/db.ts';
import { type Delivery, deliveriesOfEvent, notFoundUnder } from './deliveries.ts';
import { tenantExists } from './tenants.ts';

export interface HeraldEvent {
  id: string;
  tenantId: string;
  type: string;
  /** null once the retention job has purged the payload. */
  data: unknown;
  origin: string | null;
  occurredAt: string | null;
  createdAt: string;
  batchId: string;
}

export interface EventRow {
  tenant_id: string;
  id: string;
  type: string;
  data: unknown;
  origin: string | null;
  occurred_at: Date | null;
  batch_id: string;
  created_at: Date;
}

export const toEvent = (r: EventRow): HeraldEvent => ({
  id: r.id,
  tenantId: r.tenant_id,
  type: r.type,
  data: r.data,
  origin: r.origin,
  occurredAt: isoOrNull(r.occurred_at),
  createdAt: r.created_at.toISOString(),
  batchId: r.batch_id,
});

export const EVENT_COLUMNS =
  'e.tenant_id, e.id, e.type, e.data, e.origin, e.occurred_at, e.batch_id, e.created_at';

/** An event as listed: `position` is its place in the newest-first order (the list's cursor). */
export type ListedEvent = HeraldEvent & { position: string };

/**
 * The tenant's events, newest first. Caller-chosen ids do not sort by time, so the order (and the
 * cursor) is (created_at, id), in microseconds: events of one call share created_at.
 */
export async function listEvents(
  q: Queryable,
  tenantId: string,
  opts: { type?: string; since?: Date; until?: Date; after?: string; limit: number },
): Promise<ListedEvent[]> {
  const params: unknown[] = [tenantId];
  const where = ['e.tenant_id = $1'];
  const param = (v: unknown) => `$${params.push(v)}`;
  if (opts.type !== undefined) where.push(`e.type = ${param(opts.type)}`);
  // Both bounds inclusive, as recover's window; a range of the events_tenant_created index.
  if (opts.since !== undefined) where.push(`e.created_at >= ${param(opts.since)}`);
  // Times are answered to the millisecond but stored to the microsecond: an event's own createdAt
  // as `until` must include it.
  if (opts.until !== undefined)
    where.push(`e.created_at < ${param(opts.until)}::timestamptz + interval '1 millisecond'`);
  if (opts.after !== undefined) {
    const m = /^(\d{1,17})\.(.+)$/.exec(opts.after);
    if (!m) throw new HeraldError('INVALID_CURSOR');
    where.push(
      `(e.created_at, e.id) < (timestamptz 'epoch' + ${param(m[1])}::int8 * interval '1 microsecond', ${param(m[2])})`,
    );
  }
  const rows = await q.query<EventRow & { us: string }>(
    `SELECT ${EVENT_COLUMNS}, ((extract(epoch FROM e.created_at) * 1000000)::int8)::text AS us
     FROM events e WHERE ${where.join(' AND ')}
     ORDER BY e.created_at DESC, e.id DESC LIMIT ${param(opts.limit)}`,
    params,
  );
  if (rows.length === 0 && !(await tenantExists(q, tenantId))) throw new HeraldError('TENANT_NOT_FOUND');
  return rows.map((r) => ({ ...toEvent(r), position: `${r.us}.${r.id}` }));
}

/** One event with every delivery that holds it. */
export async function getEvent(
  q: Queryable,
  tenantId: string,
  id: string,
): Promise<HeraldEvent & { deliveries: Delivery[] }> {
  const [row] = await q.query<EventRow>(
    `SELECT ${EVENT_COLUMNS} FROM events e WHERE e.tenant_id = $1 AND e.id = $2`,
    [tenantId, id],
  );
  if (!row) return notFoundUnder(q, tenantId, 'EVENT_NOT_FOUND');
  return { ...toEvent(row), deliveries: await deliveriesOfEvent(q, tenantId, id) };
}
