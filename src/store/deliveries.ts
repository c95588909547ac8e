/**
 * Deliveries as the API sees them: listing and reading them with their attempts, and putting them
 * back in the queue (retry, recover). Creating them is src/publish/publish-sql.ts; the dispatcher's own
 * queue SQL (claim, record attempt) lives in src/queue/. Reads go through the `all_deliveries` view
 * (migration 023): the rows, and the deliveries handed over whose rows are not written yet.
 */

import { type ErrorCode, HeraldError } from '../core/errors.ts';
import { one, type Queryable } from '../db/db.ts';
import { lowerNextDueNowSql } from '../queue/next-due-repair.ts';
import { wakeDispatchers } from '../queue/notify.ts';
import type { DeliveryStatus } from '../rules/delivery-status.ts';
import { tenantExists } from './tenants.ts';

export type { DeliveryStatus };

export interface Delivery {
  id: string;
  tenantId: string;
  endpointId: string;
  eventId: string;
  eventIds: string[];
  eventType: string;
  sequence: number;
  status: DeliveryStatus;
  attemptCount: number;
  nextAttemptAt: string | null;
  lastStatusCode: number | null;
  lastError: string | null;
  lastAttemptAt: string | null;
  createdAt: string;
  completedAt: string | null;
}

export interface Attempt {
  id: string;
  attemptNumber: number;
  startedAt: string;
  durationMs: number;
  statusCode: number | null;
  errorKind: string | null;
  errorMessage: string | null;
  requestHeaders: Record<string, unknown> | null;
  responseHeaders: Record<string, unknown> | null;
  responseExcerpt: string | null;
}

interface DeliveryRow {
  id: string;
  tenant_id: string;
  endpoint_id: string;
  event_id: string;
  event_ids: string[];
  event_type: string;
  sequence: number;
  status: DeliveryStatus;
  attempt_count: number;
  next_attempt_at: Date | null;
  last_status_code: number | null;
  last_error: string | null;
  last_attempt_at: Date | null;
  created_at: Date;
  completed_at: Date | null;
}

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export const toDelivery = (r: DeliveryRow): Delivery => ({
  id: r.id,
  tenantId: r.tenant_id,
  endpointId: r.endpoint_id,
  eventId: r.event_id,
  eventIds: r.event_ids,
  eventType: r.event_type,
  sequence: r.sequence,
  status: r.status,
  attemptCount: r.attempt_count,
  nextAttemptAt: iso(r.next_attempt_at),
  lastStatusCode: r.last_status_code,
  lastError: r.last_error,
  lastAttemptAt: iso(r.last_attempt_at),
  createdAt: r.created_at.toISOString(),
  completedAt: iso(r.completed_at),
});

const COLUMNS = `d.id, d.tenant_id, d.endpoint_id, d.event_id, d.event_ids, d.event_type, d.sequence, d.status,
  d.attempt_count, d.next_attempt_at, d.last_status_code, d.last_error, d.last_attempt_at, d.created_at,
  d.completed_at`;

/**
 * Throws the right 404 for a miss under a tenant: TENANT_NOT_FOUND when the tenant itself does not
 * exist (only the operator can ask about one), else `code`. Checked only on a miss, so hits cost
 * nothing extra.
 */
export async function notFoundUnder(q: Queryable, tenantId: string, code: ErrorCode): Promise<never> {
  throw new HeraldError((await tenantExists(q, tenantId)) ? code : 'TENANT_NOT_FOUND');
}

// ---------------------------------------------------------------- reading

export interface DeliveryQuery {
  endpointId?: string;
  status?: DeliveryStatus;
  eventId?: string;
  eventType?: string;
  before?: string;
  limit: number;
}

/**
 * SQL for "the delivery holds the event whose id is in parameter `p`". Events published in one call
 * share `created_at` (the transaction's time) and `batch_id`, and a batched delivery's `event_id` is
 * the first of them; so the deliveries holding an event are found by index through its batch mates,
 * without scanning the tenant's deliveries.
 */
const holdsEvent = (p: string): string => `d.event_id IN (
    SELECT b.id FROM events x
    JOIN events b ON b.tenant_id = x.tenant_id AND b.created_at = x.created_at AND b.batch_id = x.batch_id
    WHERE x.tenant_id = d.tenant_id AND x.id = ${p})
  AND ${p} = ANY(d.event_ids)`;

/**
 * The tenant's deliveries, newest first (by id; one endpoint's by sequence). TENANT_NOT_FOUND when
 * there is no such tenant.
 */
export async function listDeliveries(
  q: Queryable,
  tenantId: string,
  opts: DeliveryQuery,
): Promise<Delivery[]> {
  const params: unknown[] = [tenantId];
  const where = ['d.tenant_id = $1'];
  const param = (v: unknown) => `$${params.push(v)}`;
  const endpoint = opts.endpointId === undefined ? undefined : param(opts.endpointId);
  if (endpoint) where.push(`d.endpoint_id = ${endpoint}`);
  if (opts.status !== undefined) where.push(`d.status = ${param(opts.status)}`);
  if (opts.eventId !== undefined) where.push(holdsEvent(param(opts.eventId)));
  if (opts.eventType !== undefined) where.push(`d.event_type = ${param(opts.eventType)}`);
  // One endpoint's deliveries come newest first by its sequence, through (endpoint_id, sequence):
  // the index by (endpoint_id, id) that listing by id would need cost every delivery's writes
  // (migration 017). The cursor is still a delivery id: its sequence is where the page starts.
  // A cursor that is not one of the endpoint's deliveries starts no page.
  if (opts.before !== undefined)
    where.push(
      endpoint
        ? `d.sequence < (SELECT c.sequence FROM all_deliveries c
            WHERE c.tenant_id = $1 AND c.id = ${param(opts.before)} AND c.endpoint_id = ${endpoint})`
        : `d.id < ${param(opts.before)}`,
    );
  const order = endpoint ? 'd.sequence DESC' : 'd.id DESC';
  const rows = await q.query<DeliveryRow>(
    `SELECT ${COLUMNS} FROM all_deliveries d WHERE ${where.join(' AND ')} ORDER BY ${order} LIMIT ${param(opts.limit)}`,
    params,
  );
  if (rows.length === 0 && !(await tenantExists(q, tenantId))) throw new HeraldError('TENANT_NOT_FOUND');
  return rows.map(toDelivery);
}

/** Every delivery holding the event, by endpoint id (for the event's detail). */
export async function deliveriesOfEvent(
  q: Queryable,
  tenantId: string,
  eventId: string,
): Promise<Delivery[]> {
  const rows = await q.query<DeliveryRow>(
    `SELECT ${COLUMNS} FROM all_deliveries d
     WHERE d.tenant_id = $1 AND ${holdsEvent('$2')}
     ORDER BY d.endpoint_id, d.id`,
    [tenantId, eventId],
  );
  return rows.map(toDelivery);
}

interface AttemptRow {
  id: string;
  attempt_number: number;
  started_at: Date;
  duration_ms: number;
  status_code: number | null;
  error_kind: string | null;
  error_message: string | null;
  request_headers: Record<string, unknown> | null;
  response_headers: Record<string, unknown> | null;
  response_excerpt: string | null;
}

const toAttempt = (r: AttemptRow): Attempt => ({
  id: r.id,
  attemptNumber: r.attempt_number,
  startedAt: r.started_at.toISOString(),
  durationMs: r.duration_ms,
  statusCode: r.status_code,
  errorKind: r.error_kind,
  errorMessage: r.error_message,
  requestHeaders: r.request_headers,
  responseHeaders: r.response_headers,
  responseExcerpt: r.response_excerpt,
});

/** One delivery with its attempts, oldest first. */
export async function getDelivery(
  q: Queryable,
  tenantId: string,
  id: string,
): Promise<Delivery & { attempts: Attempt[] }> {
  const row = await one<DeliveryRow>(
    q,
    `SELECT ${COLUMNS} FROM all_deliveries d WHERE d.tenant_id = $1 AND d.id = $2`,
    [tenantId, id],
  );
  if (!row) return notFoundUnder(q, tenantId, 'DELIVERY_NOT_FOUND');
  const attempts = await q.query<AttemptRow>(
    `SELECT id, attempt_number, started_at, duration_ms, status_code, error_kind, error_message,
       request_headers, response_headers, response_excerpt
     FROM attempts WHERE delivery_id = $1 ORDER BY attempt_number, started_at`,
    [id],
  );
  return { ...toDelivery(row), attempts: attempts.map(toAttempt) };
}

// ---------------------------------------------------------------- repairing

/**
 * Sends a delivery again now: a finished one goes back to `pending`, due now, its attempts kept; a
 * waiting one is made due now. One a dispatcher holds (`locked_by` set while pending) is in flight
 * and is left alone — making it due would let a second dispatcher send it at the same time.
 */
export async function retryDelivery(q: Queryable, tenantId: string, id: string): Promise<Delivery> {
  const updated = await one<DeliveryRow>(
    q,
    `WITH d AS (
       UPDATE deliveries d
       SET status = 'pending', next_attempt_at = now(), completed_at = NULL, locked_by = NULL
       WHERE d.tenant_id = $1 AND d.id = $2 AND NOT (d.status = 'pending' AND d.locked_by IS NOT NULL)
       RETURNING ${COLUMNS}),
     lowered AS (${lowerNextDueNowSql('(SELECT endpoint_id FROM d)')})
     SELECT * FROM d`,
    [tenantId, id],
  );
  if (updated) {
    await wakeDispatchers(q);
    return toDelivery(updated);
  }
  const inFlight = await one<DeliveryRow>(
    q,
    `SELECT ${COLUMNS} FROM all_deliveries d WHERE d.tenant_id = $1 AND d.id = $2`,
    [tenantId, id],
  );
  if (!inFlight) return notFoundUnder(q, tenantId, 'DELIVERY_NOT_FOUND');
  return toDelivery(inFlight);
}

/**
 * How many failed deliveries {@link recoverDeliveries} would re-queue now, changing nothing: what a
 * confirmation asks about before anything is sent. ENDPOINT_NOT_FOUND as there.
 */
export async function countRecoverable(
  q: Queryable,
  tenantId: string,
  endpointId: string,
  window: { since: Date; until?: Date },
): Promise<number> {
  const [row] = await q.query<{ endpoint: string | null; failed: number }>(
    `WITH ep AS (SELECT id FROM endpoints WHERE tenant_id = $1 AND id = $2)
     SELECT (SELECT id FROM ep) AS endpoint,
       (SELECT count(*) FROM deliveries d, ep
        WHERE d.endpoint_id = ep.id AND d.tenant_id = $1 AND d.status = 'failed'
          AND d.created_at >= $3 AND ($4::timestamptz IS NULL OR d.created_at <= $4))::int AS failed`,
    [tenantId, endpointId, window.since, window.until ?? null],
  );
  if (!row?.endpoint) return notFoundUnder(q, tenantId, 'ENDPOINT_NOT_FOUND');
  return row.failed;
}

/**
 * Re-queues the endpoint's failed deliveries created in [since, until] (until: no bound), due now,
 * and answers how many. ENDPOINT_NOT_FOUND when the tenant has no such endpoint.
 */
export async function recoverDeliveries(
  q: Queryable,
  tenantId: string,
  endpointId: string,
  window: { since: Date; until?: Date },
): Promise<number> {
  const [row] = await q.query<{ endpoint: string | null; recovered: number }>(
    `WITH ep AS (SELECT id FROM endpoints WHERE tenant_id = $1 AND id = $2),
     upd AS (
       UPDATE deliveries d
       SET status = 'pending', next_attempt_at = now(), completed_at = NULL, locked_by = NULL
       FROM ep
       WHERE d.endpoint_id = ep.id AND d.tenant_id = $1 AND d.status = 'failed'
         AND d.created_at >= $3 AND ($4::timestamptz IS NULL OR d.created_at <= $4)
       RETURNING d.id
     ),
     lowered AS (${lowerNextDueNowSql('(SELECT id FROM ep)', 'EXISTS (SELECT 1 FROM upd)')})
     SELECT (SELECT id FROM ep) AS endpoint, (SELECT count(*) FROM upd)::int AS recovered`,
    [tenantId, endpointId, window.since, window.until ?? null],
  );
  if (!row?.endpoint) return notFoundUnder(q, tenantId, 'ENDPOINT_NOT_FOUND');
  if (row.recovered > 0) await wakeDispatchers(q);
  return row.recovered;
}
