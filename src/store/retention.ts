/**
 * The retention job: attempts older than `retentionDays` are deleted and event payloads older than
 * that are set to NULL (the event row stays, so ids, types and delivery history remain readable).
 * It works in chunks, each a short statement of its own, so it never holds many locks or a long
 * transaction, and it checks `shouldStop` between chunks so a draining process is not held up.
 *
 * An event with a delivery still pending keeps its payload: that delivery must still be sendable —
 * whichever of a batched delivery's events it is.
 * Idempotency-Keys older than the window are deleted too (a repeat after that is a new call, as with
 * Stripe's keys after 24 h); repeats by event id keep working, since event rows stay.
 */
import type { Queryable } from '../db/db.ts';

export interface RetentionOptions {
  now: Date;
  retentionDays: number;
  chunkSize?: number;
  shouldStop?: () => boolean;
}

export interface RetentionResult {
  attemptsDeleted: number;
  payloadsPurged: number;
  idempotencyKeysDeleted: number;
}

const DELETE_ATTEMPTS = `
WITH doomed AS (SELECT id FROM attempts WHERE created_at < $1 LIMIT $2),
deleted AS (DELETE FROM attempts a USING doomed WHERE a.id = doomed.id RETURNING 1)
SELECT count(*)::int AS n FROM deleted`;

const DELETE_IDEMPOTENCY_KEYS = `
WITH doomed AS (SELECT tenant_id, key FROM idempotency_keys WHERE created_at < $1 LIMIT $2),
deleted AS (
  DELETE FROM idempotency_keys k USING doomed
  WHERE k.tenant_id = doomed.tenant_id AND k.key = doomed.key RETURNING 1
)
SELECT count(*)::int AS n FROM deleted`;

// Shaped so no step scans deliveries or events as a whole (test/store/retention-plan.test.ts): the
// pending check is a scalar subquery — a per-event probe of deliveries_event, never turned into an
// anti-join that reads every delivery — and the events are updated by address (a TID scan), not
// joined back by key (a hash join over the whole table, once per chunk).
export const PURGE_PAYLOADS_SQL = `
WITH held AS MATERIALIZED (
  -- The later events of pending batched deliveries (migration 010's index: pending ⇔ a due time).
  SELECT DISTINCT d.tenant_id, x.id FROM deliveries d CROSS JOIN LATERAL unnest(d.event_ids[2:]) AS x(id)
  WHERE d.next_attempt_at IS NOT NULL AND cardinality(d.event_ids) > 1
),
doomed AS (
  SELECT v.ctid AS row_ctid FROM events v
  WHERE v.created_at < $1 AND v.data IS NOT NULL
    AND NOT (SELECT EXISTS (
      SELECT 1 FROM deliveries d WHERE d.tenant_id = v.tenant_id AND d.event_id = v.id AND d.status = 'pending'))
    AND NOT EXISTS (SELECT 1 FROM held h WHERE h.tenant_id = v.tenant_id AND h.id = v.id)
  LIMIT $2
),
purged AS (
  UPDATE events v SET data = NULL
  WHERE v.ctid = ANY (ARRAY(SELECT row_ctid FROM doomed)) AND v.data IS NOT NULL
  RETURNING 1
)
SELECT count(*)::int AS n FROM purged`;

async function inChunks(q: Queryable, sql: string, cutoff: Date, opts: RetentionOptions): Promise<number> {
  const chunk = opts.chunkSize ?? 1000;
  let total = 0;
  for (;;) {
    if (opts.shouldStop?.()) break;
    const [row] = await q.query<{ n: number }>(sql, [cutoff, chunk]);
    const n = row?.n ?? 0;
    total += n;
    if (n < chunk) break;
  }
  return total;
}

/**
 * @example await purgeExpired(db, { now: new Date(), retentionDays: 30 })
 */
export async function purgeExpired(q: Queryable, opts: RetentionOptions): Promise<RetentionResult> {
  const cutoff = new Date(opts.now.getTime() - opts.retentionDays * 86_400_000);
  const attemptsDeleted = await inChunks(q, DELETE_ATTEMPTS, cutoff, opts);
  const payloadsPurged = await inChunks(q, PURGE_PAYLOADS_SQL, cutoff, opts);
  const idempotencyKeysDeleted = await inChunks(q, DELETE_IDEMPOTENCY_KEYS, cutoff, opts);
  return { attemptsDeleted, payloadsPurged, idempotencyKeysDeleted };
}
