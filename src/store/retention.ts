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
import type { Db, Queryable } from '../db/db.ts';

export interface RetentionOptions {
  now: Date;
  retentionDays: number;
  chunkSize?: number;
  shouldStop?: () => boolean;
}

/** What the job needs of the database: statements, and a transaction around each payload chunk. */
export type RetentionDb = Pick<Db, 'query' | 'exec' | 'transaction'>;

export interface RetentionResult {
  attemptsDeleted: number;
  payloadsPurged: number;
  idempotencyKeysDeleted: number;
}

const DELETE_ATTEMPTS = `
WITH doomed AS (SELECT ctid FROM attempts WHERE created_at < $1 LIMIT $2),
deleted AS (DELETE FROM attempts a WHERE a.ctid = ANY (ARRAY(SELECT ctid FROM doomed)) RETURNING 1)
SELECT count(*)::int AS n FROM deleted`;

const DELETE_IDEMPOTENCY_KEYS = `
WITH doomed AS (SELECT tenant_id, key FROM idempotency_keys WHERE created_at < $1 LIMIT $2),
deleted AS (
  DELETE FROM idempotency_keys k USING doomed
  WHERE k.tenant_id = doomed.tenant_id AND k.key = doomed.key RETURNING 1
)
SELECT count(*)::int AS n FROM deleted`;

// The events of deliveries handed over and not recorded yet (their rows are not written: migration
// 023). A handoff lives for a request's lease, so there are few; each is read whole.
const HANDED_OVER_EVENTS = `SELECT h.tenant_id, x.id FROM handoffs h
    CROSS JOIN LATERAL jsonb_to_recordset(h.deliveries::jsonb) AS d(v text[])
    CROSS JOIN LATERAL unnest(d.v) AS x(id)`;

// Where a pass starts: the oldest event before the cutoff with a payload to purge — one that no
// pending delivery holds, so that an event held for weeks (an endpoint disabled past the window) does
// not send every pass through the weeks of purged events after it. Read once per pass, and it reads
// the purged part of `events` (no index says which payloads are gone, and one would cost every
// publish); the chunks do not. The pending deliveries are read whole, through an index that holds
// only them (pending ⇔ a due time: migration 005's CHECK). As microseconds since the epoch (exact in
// a double until 2255): a Date would drop the microseconds, and the cursor must not step past a row
// it has not read.
export const PURGE_START_SQL = `
WITH held AS MATERIALIZED (
  SELECT d.tenant_id, x.id FROM deliveries d CROSS JOIN LATERAL unnest(d.event_ids) AS x(id)
  WHERE d.next_attempt_at IS NOT NULL
  UNION ${HANDED_OVER_EVENTS}
)
SELECT (extract(epoch FROM min(v.created_at)) * 1000000)::int8 AS lo FROM events v
WHERE v.created_at < $1 AND v.data IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM held h WHERE h.tenant_id = v.tenant_id AND h.id = v.id)`;

// One chunk: the oldest `$3` payloads created in [$1, $2). Each tenant's are read by a range scan of
// events_tenant_created, so a chunk reads the index entries and rows of its window only, never the
// purged ones before it (test/store/retention-plan.test.ts), whatever the table's physical order.
// Not the BRIN on created_at: the purge itself breaks that order — a purged row's new version rarely
// fits in its full page and goes where new events go — so after weeks of retention most block ranges
// span old and new times (docs/decisions.md). It answers the newest created_at it took: the cursor.
// No step scans deliveries or events as a whole: the pending check is a scalar subquery — a
// per-event probe of deliveries_event, never turned into an anti-join that reads every delivery —
// and the events are updated by address (a TID scan), not joined back by key (a hash join over the
// whole table, once per chunk).
export const PURGE_PAYLOADS_SQL = `
WITH held AS MATERIALIZED (
  -- The later events of pending batched deliveries (migration 010's index: pending ⇔ a due time).
  SELECT d.tenant_id, x.id FROM deliveries d CROSS JOIN LATERAL unnest(d.event_ids[2:]) AS x(id)
  WHERE d.next_attempt_at IS NOT NULL AND cardinality(d.event_ids) > 1
  UNION ${HANDED_OVER_EVENTS}
),
doomed AS MATERIALIZED (
  SELECT c.row_ctid, c.created_at FROM tenants t CROSS JOIN LATERAL (
    SELECT v.ctid AS row_ctid, v.created_at FROM events v
    WHERE v.tenant_id = t.id AND v.created_at >= $1 AND v.created_at < $2 AND v.data IS NOT NULL
      AND NOT (SELECT EXISTS (
        SELECT 1 FROM deliveries d WHERE d.tenant_id = v.tenant_id AND d.event_id = v.id AND d.status = 'pending'))
      AND NOT EXISTS (SELECT 1 FROM held h WHERE h.tenant_id = v.tenant_id AND h.id = v.id)
    ORDER BY v.created_at
    LIMIT $3
  ) c
  ORDER BY c.created_at
  LIMIT $3
),
purged AS (
  UPDATE events v SET data = NULL
  WHERE v.ctid = ANY (ARRAY(SELECT row_ctid FROM doomed)) AND v.data IS NOT NULL
  RETURNING 1
)
SELECT (SELECT count(*)::int FROM purged) AS n, count(*)::int AS taken,
  (extract(epoch FROM max(created_at)) * 1000000)::int8 AS last
FROM doomed`;

/**
 * The first window's length. A window that held less than a chunk grows the next in proportion (at
 * most double); one that held more sizes the next to the span of the chunk it gave.
 */
const FIRST_WINDOW_US = 1_000_000;

/** A time in microseconds since the epoch, as a timestamptz parameter. */
function timestampParam(us: number): string {
  const ms = Math.floor(us / 1000);
  return `${new Date(ms).toISOString().slice(0, -1)}${String(us - ms * 1000).padStart(3, '0')}Z`;
}

/**
 * One pass of the payload purge: a cursor over created_at from the pass's start to the cutoff, each
 * chunk the oldest payloads of a window after it. An event a pending delivery holds is passed over,
 * not purged, and found again by a later pass, which starts at the oldest payload left.
 */
async function purgePayloads(db: RetentionDb, cutoff: Date, opts: RetentionOptions): Promise<number> {
  const chunk = opts.chunkSize ?? 1000;
  if (opts.shouldStop?.()) return 0;
  const [start] = await db.query<{ lo: number | null }>(PURGE_START_SQL, [cutoff]);
  const end = cutoff.getTime() * 1000;
  let lo = start?.lo ?? end;
  let windowUs = FIRST_WINDOW_US;
  let total = 0;
  while (lo < end && !opts.shouldStop?.()) {
    const hi = Math.min(end, lo + windowUs);
    const [row] = await db.transaction(async (tx) => {
      // The planner prices a chunk per tenant, times the tenants: past jit_above_cost PostgreSQL would
      // compile it, ~300 ms per chunk, for a statement that runs in milliseconds.
      await tx.query('SET LOCAL jit = off');
      return tx.query<{ n: number; taken: number; last: number | null }>(PURGE_PAYLOADS_SQL, [
        timestampParam(lo),
        timestampParam(hi),
        chunk,
      ]);
    });
    total += row?.n ?? 0;
    if (row && row.taken === chunk && row.last !== null && (row.n > 0 || row.last > lo)) {
      // The window held more than a chunk: go on from the last one taken (>=: its equals may be
      // left), in a window as long as the one that held this chunk. (Neither purged nor past `lo`:
      // only another pass purging the same rows; go on past the window rather than wait.)
      windowUs = Math.max(1000, row.last - lo);
      lo = row.last;
    } else {
      lo = hi;
      windowUs = Math.round(windowUs * Math.min(2, chunk / Math.max(1, row?.taken ?? 0)));
    }
  }
  return total;
}

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
export async function purgeExpired(db: RetentionDb, opts: RetentionOptions): Promise<RetentionResult> {
  const cutoff = new Date(opts.now.getTime() - opts.retentionDays * 86_400_000);
  const attemptsDeleted = await inChunks(db, DELETE_ATTEMPTS, cutoff, opts);
  const payloadsPurged = await purgePayloads(db, cutoff, opts);
  const idempotencyKeysDeleted = await inChunks(db, DELETE_IDEMPOTENCY_KEYS, cutoff, opts);
  return { attemptsDeleted, payloadsPurged, idempotencyKeysDeleted };
}
