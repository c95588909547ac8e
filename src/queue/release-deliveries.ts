/**
 * Releasing claims without an attempt: on drain (the request never went out or was abandoned) and
 * when the endpoint's rate limit defers a delivery. The claim is undone — `attempt_count` goes back
 * down, `locked_by` is cleared — and the delivery falls due at the given delay, so the next worker
 * to claim it makes the same attempt number again.
 */
import type { Queryable } from '../db/db.ts';
import { nowParam, nowSql } from './queue-time.ts';

export interface Release {
  tenantId: string;
  deliveryId: string;
  attemptNumber: number;
  /** From now; 0 = due at once. */
  delayMs: number;
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
  FROM unnest($3::text[], $4::int[], $5::float8[], $6::text[]) AS u(id, attempt_number, delay_ms, tenant_id)
),
released AS (
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
-- The released deliveries are due again: their endpoints' next due time comes down to them and
-- due_version moves, so a claim that read an endpoint before cannot raise it past them
-- (claim-deliveries.ts). Endpoint rows are locked in id order, as every writer of them does.
due AS (
  SELECT r.endpoint_id, min(r.next_attempt_at) AS at FROM released r GROUP BY r.endpoint_id
),
locked AS (
  SELECT e.id FROM endpoints e WHERE e.id IN (SELECT endpoint_id FROM due) ORDER BY e.id FOR UPDATE OF e
),
lowered AS (
  UPDATE endpoints e SET next_due_at = least(e.next_due_at, due.at), due_version = e.due_version + 1
  FROM due JOIN locked l ON l.id = due.endpoint_id
  WHERE e.id = due.endpoint_id
)
SELECT id FROM released`;

/**
 * Gives claims back; answers the ids released (a claim already lost to another worker is skipped).
 *
 * @example await releaseDeliveries(db, [{ tenantId, deliveryId, attemptNumber: 1, delayMs: 0 }], { workerId: 'w1' })
 */
export async function releaseDeliveries(
  q: Queryable,
  releases: readonly Release[],
  opts: { workerId: string; now?: Date | null },
): Promise<string[]> {
  if (releases.length === 0) return [];
  const rows = await q.query<{ id: string }>(RELEASE_SQL, [
    nowParam(opts.now),
    opts.workerId,
    releases.map((r) => r.deliveryId),
    releases.map((r) => r.attemptNumber),
    releases.map((r) => r.delayMs),
    releases.map((r) => r.tenantId),
  ]);
  return rows.map((r) => r.id);
}
