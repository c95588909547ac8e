/**
 * The net under `endpoints.next_due_at`: every writer that makes a delivery due lowers its
 * endpoint's `next_due_at` in the same statement (docs/isolation.md), and the claim only looks at
 * endpoints whose `next_due_at` has come. A writer that did not — a process of a version from before
 * migration 019 during a rolling restart, or a bug — would leave its delivery waiting until something
 * else touched the endpoint. This pass finds active endpoints whose `next_due_at` is above one of
 * their deliveries' `next_attempt_at` and lowers it: one index probe per endpoint
 * (`deliveries_endpoint_due`), run once a minute by one process.
 *
 * Lowering is always safe (the claim raises a bound that is too low); `due_version` moves so that a
 * claim in flight does not raise it back.
 */
import type { Queryable } from '../db/db.ts';

/**
 * The UPDATE a writer that makes its endpoint's deliveries due now runs beside its own: `next_due_at`
 * down to now and `due_version` moved together, so a claim that read the endpoint before cannot
 * raise it past them (claim-deliveries.ts). `endpointId`: an SQL expression, `where` more conditions.
 *
 * @example `WITH d AS (UPDATE deliveries … RETURNING endpoint_id), lowered AS (${lowerNextDueNowSql('(SELECT endpoint_id FROM d)')}) …`
 */
export function lowerNextDueNowSql(endpointId: string, where = 'true'): string {
  return `UPDATE endpoints SET next_due_at = least(next_due_at, now()), due_version = due_version + 1
  WHERE id = ${endpointId} AND ${where}`;
}

const REPAIR_SQL = `
WITH wrong AS (
  SELECT e.id, x.at FROM endpoints e,
    LATERAL (SELECT min(d.next_attempt_at) AS at FROM deliveries d
      WHERE d.endpoint_id = e.id AND d.next_attempt_at IS NOT NULL) x
  WHERE e.active AND x.at IS NOT NULL AND (e.next_due_at IS NULL OR e.next_due_at > x.at)
  -- Locked in id order, as every writer of endpoint rows locks them.
  ORDER BY e.id
  FOR NO KEY UPDATE OF e
)
UPDATE endpoints e SET next_due_at = least(e.next_due_at, w.at), due_version = e.due_version + 1
FROM wrong w WHERE e.id = w.id
RETURNING e.id`;

/**
 * Lowers every active endpoint's `next_due_at` that is above a delivery's `next_attempt_at`;
 * answers the endpoints it lowered (none, when every writer did its part).
 *
 * @example const repaired = await repairNextDue(db)
 */
export async function repairNextDue(q: Queryable): Promise<string[]> {
  const rows = await q.query<{ id: string }>(REPAIR_SQL);
  return rows.map((r) => r.id);
}
