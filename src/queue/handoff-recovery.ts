/**
 * The handoff rows' end (src/queue/handoff.ts). A worker deletes a handoff with the record of its
 * last delivery (record-outcomes.ts, release-deliveries.ts) or, when that last one was split between
 * a record and a release, with {@link finishHandoffs} once both are written. A handoff whose lease
 * ran out belongs to a worker that stopped without recording all of it (killed, crashed, cut off
 * from the database): {@link recoverHandoffs} writes the rows of its deliveries not recorded yet,
 * pending and due now, each with an `interrupted` attempt as a claim records for an expired lease
 * (claim-deliveries.ts), and deletes it. Any worker may recover any handoff; concurrent ones skip
 * each other's (`SKIP LOCKED`). A record arriving late from the old worker finds the row written and
 * is kept as a late result (attempt-rows.ts).
 */
import { prepared, type Queryable } from '../db/db.ts';
import { INTERRUPTED_MESSAGE } from './claim-deliveries.ts';
import { nowParam, nowSql } from './queue-time.ts';

const NOW = nowSql('$1');

// Run at every poll of every dispatcher, so it is a prepared probe of the lease index; the recovery
// itself (the handoffs by the lease index, endpoints by key) only when it finds one. Both planned
// scan-free (test/queue/handoff-rows.test.ts checks their generic plans), and committed as
// recording is, asynchronously (src/db/db.ts): the probe writes nothing, and a recovery a database
// crash loses is made again — its handoff is back — while the claim that sends what it restored
// commits synchronously, which flushes the recovery first. (So every scan-free statement shares one
// set of connections.)
export const EXPIRED_SQL = prepared(
  'herald_handoffs_expired',
  `SELECT EXISTS (SELECT 1 FROM handoffs h WHERE h.lease_until <= ${NOW}) AS expired`,
  // The table churns (a row per publish statement, deleted soon after): never read whole.
  { plan: 'scan-free', commit: 'async' },
);

export const RECOVER_SQL = prepared(
  'herald_recover_handoffs',
  `
WITH expired AS MATERIALIZED (
  SELECT h.id FROM handoffs h WHERE h.lease_until <= ${NOW}
  ORDER BY h.lease_until LIMIT $2
  FOR UPDATE SKIP LOCKED
),
gone AS (
  DELETE FROM handoffs h USING expired x WHERE h.id = x.id
  RETURNING h.tenant_id, h.bases, h.deliveries, h.created_at
),
x AS MATERIALIZED (
  SELECT g.tenant_id, d.i AS id, d.e AS endpoint_id, d.v AS event_ids, d.t AS event_type,
    (g.bases ->> d.e)::int8 + d.k AS sequence, g.created_at
  FROM gone g
  -- Its deliveries as migration 023 keeps them.
  CROSS JOIN LATERAL jsonb_to_recordset(g.deliveries::jsonb) AS d(i text, e text, v text[], t text, k int8)
  WHERE g.bases ? d.e
),
-- Locked in id order, as every writer of endpoint rows locks them; a row deleted meanwhile drops
-- out, and its deliveries with it.
locked AS (
  SELECT e.id FROM endpoints e WHERE e.id IN (SELECT endpoint_id FROM x) ORDER BY e.id FOR NO KEY UPDATE OF e
),
restored AS (
  INSERT INTO deliveries (id, tenant_id, endpoint_id, event_id, event_ids, event_type, sequence, status,
    attempt_count, next_attempt_at, created_at)
  SELECT x.id, x.tenant_id, x.endpoint_id, x.event_ids[1], x.event_ids, x.event_type, x.sequence, 'pending',
    1, ${NOW}, x.created_at
  FROM x JOIN locked l ON l.id = x.endpoint_id
  -- Recorded (or released) before the worker stopped.
  ON CONFLICT DO NOTHING
  RETURNING id, tenant_id, endpoint_id, created_at
),
interrupted AS (
  INSERT INTO attempts (id, delivery_id, tenant_id, endpoint_id, attempt_number, started_at, duration_ms,
    error_kind, error_message, created_at)
  SELECT 'atm_int_' || r.id || '_1', r.id, r.tenant_id, r.endpoint_id, 1, r.created_at, 0, 'interrupted',
    '${INTERRUPTED_MESSAGE}', ${NOW}
  FROM restored r
  ON CONFLICT (delivery_id, attempt_number, id) DO NOTHING
),
-- Due now: their endpoints' next due time comes down and due_version moves (claim-deliveries.ts).
lowered AS (
  UPDATE endpoints e SET next_due_at = least(e.next_due_at, ${NOW}), due_version = e.due_version + 1
  FROM locked l
  WHERE e.id = l.id AND EXISTS (SELECT 1 FROM restored r WHERE r.endpoint_id = l.id)
)
SELECT (SELECT count(*) FROM expired)::int AS handoffs, (SELECT count(*) FROM restored)::int AS deliveries`,
  { plan: 'scan-free', commit: 'async' },
);

/**
 * Recovers up to `limit` handoffs whose lease ran out; answers how many, and how many deliveries it
 * wrote due (the others had been recorded).
 *
 * @example const { deliveries } = await recoverHandoffs(db, { now: null })
 */
export async function recoverHandoffs(
  q: Queryable,
  opts: { now?: Date | null; limit?: number } = {},
): Promise<{ handoffs: number; deliveries: number }> {
  const [probe] = await q.query<{ expired: boolean }>(EXPIRED_SQL, [nowParam(opts.now)]);
  if (!probe?.expired) return { handoffs: 0, deliveries: 0 };
  const [row] = await q.query<{ handoffs: number; deliveries: number }>(RECOVER_SQL, [
    nowParam(opts.now),
    opts.limit ?? 100,
  ]);
  return { handoffs: row?.handoffs ?? 0, deliveries: row?.deliveries ?? 0 };
}

/** Deletes handoff rows all of whose deliveries are written. */
export async function finishHandoffs(q: Queryable, ids: readonly string[]): Promise<void> {
  if (ids.length > 0) await q.query('DELETE FROM handoffs WHERE id = ANY ($1::text[])', [ids]);
}
