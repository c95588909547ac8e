/**
 * Releasing claims without an attempt: on drain (the request never went out or was abandoned) and
 * when the endpoint's rate limit defers a delivery. The claim is undone — `attempt_count` goes back
 * down, `locked_by` is cleared — and the delivery falls due at the given delay, so the next worker
 * to claim it makes the same attempt number again. A handed-over delivery (publish-sql.ts), which
 * has no row yet, gets its row now, pending, as it would have been had it not been handed over.
 */
import type { Queryable } from '../db/db.ts';
import { finishedHandoffsCte } from './attempt-rows.ts';
import { type HandedOverRow, handedOverFields, liveEndpointsCte } from './handed-over-row.ts';
import { nowParam, nowSql } from './queue-time.ts';

export interface Release {
  tenantId: string;
  deliveryId: string;
  attemptNumber: number;
  /** From now; 0 = due at once. */
  delayMs: number;
  /** Handed over by publishing: its row is written now. */
  handoff?: HandedOverRow;
}

const NOW = nowSql('$1');

// Planned on every call, and reading the rows by address, for the reasons given in
// record-outcomes.ts: a rate-limited endpoint releases deliveries all the time, and a plan kept from
// when the table was small would scan all of it for each batch.
const RELEASE_SQL = `
WITH x AS MATERIALIZED (
  -- The claim token rides along as columns, so the conditions on it are join conditions.
  SELECT u.*, $2::text AS claimed_by, 'pending'::text AS claimed_status,
    (SELECT r.ctid FROM deliveries r WHERE r.tenant_id = u.tenant_id AND r.id = u.id) AS row_ctid
  FROM json_to_recordset($3::json) AS u(id text, attempt_number int, delay_ms float8, tenant_id text,
    endpoint_id text, handoff_id text, event_ids text[], event_type text, sequence int8, created_ms float8)
),
claimed_rows AS (
  UPDATE deliveries d
  SET next_attempt_at = ${NOW} + x.delay_ms * interval '1 millisecond',
      locked_by = NULL,
      attempt_count = d.attempt_count - 1
  FROM x
  WHERE d.ctid = ANY (ARRAY(SELECT row_ctid FROM x WHERE row_ctid IS NOT NULL))
    AND d.id = x.id AND d.locked_by IS NOT DISTINCT FROM x.claimed_by AND d.attempt_count = x.attempt_number
    AND d.status = x.claimed_status
  RETURNING d.id, d.endpoint_id, d.next_attempt_at
),
-- Handed over: no row yet unless recovery wrote one (the handoff's lease ran out), and none for an
-- endpoint deleted meanwhile (handed-over-row.ts).
${liveEndpointsCte('SELECT DISTINCT x.endpoint_id FROM x WHERE x.handoff_id IS NOT NULL AND x.row_ctid IS NULL')},
created AS (
  INSERT INTO deliveries (id, tenant_id, endpoint_id, event_id, event_ids, event_type, sequence, status,
    attempt_count, next_attempt_at, created_at)
  SELECT x.id, x.tenant_id, x.endpoint_id, x.event_ids[1], x.event_ids, x.event_type, x.sequence, 'pending',
    x.attempt_number - 1, ${NOW} + x.delay_ms * interval '1 millisecond', to_timestamp(x.created_ms / 1000)
  FROM x
  WHERE x.handoff_id IS NOT NULL AND x.row_ctid IS NULL AND x.endpoint_id IN (SELECT id FROM live)
  ON CONFLICT DO NOTHING
  RETURNING id, endpoint_id, next_attempt_at
),
released AS (SELECT * FROM claimed_rows UNION ALL SELECT * FROM created),
${finishedHandoffsCte('$4')},
-- The released deliveries are due again: their endpoints' next due time comes down to them and
-- due_version moves, so a claim that read an endpoint before cannot raise it past them
-- (claim-deliveries.ts). Endpoint rows are locked in id order, as every writer of them does.
due AS (
  SELECT r.endpoint_id, min(r.next_attempt_at) AS at FROM released r GROUP BY r.endpoint_id
),
locked AS (
  SELECT e.id FROM endpoints e WHERE e.id IN (SELECT endpoint_id FROM due) ORDER BY e.id FOR NO KEY UPDATE OF e
),
lowered AS (
  UPDATE endpoints e SET next_due_at = least(e.next_due_at, due.at), due_version = e.due_version + 1
  FROM due JOIN locked l ON l.id = due.endpoint_id
  WHERE e.id = due.endpoint_id
)
SELECT id FROM released`;

/**
 * Gives claims back; answers the ids released (a claim already lost to another worker is skipped).
 * `finishedHandoffs`: handoff rows whose last delivery this releases, deleted with it.
 *
 * @example await releaseDeliveries(db, [{ tenantId, deliveryId, attemptNumber: 1, delayMs: 0 }], { workerId: 'w1' })
 */
export async function releaseDeliveries(
  q: Queryable,
  releases: readonly Release[],
  opts: { workerId: string; now?: Date | null; finishedHandoffs?: readonly string[] },
): Promise<string[]> {
  if (releases.length === 0) return [];
  const rows = await q.query<{ id: string }>(RELEASE_SQL, [
    nowParam(opts.now),
    opts.workerId,
    JSON.stringify(
      releases.map((r) => ({
        id: r.deliveryId,
        attempt_number: r.attemptNumber,
        delay_ms: r.delayMs,
        tenant_id: r.tenantId,
        endpoint_id: r.handoff?.endpointId,
        ...handedOverFields(r.handoff),
      })),
    ),
    opts.finishedHandoffs ?? [],
  ]);
  return rows.map((r) => r.id);
}
