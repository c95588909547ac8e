/**
 * Recording attempts: one statement per batch of finished attempts, whatever their outcomes. It
 * inserts the attempt rows, moves each delivery on (succeeded, failed, or pending with its next
 * attempt time) and keeps the endpoints' failure state (`failing_since`, 410 disabling), so a batch
 * of a few hundred results costs a single round trip.
 *
 * A delivery is only moved on if this worker still holds the claim (`locked_by` and the attempt
 * number match): when a lease ran out and another worker re-claimed the row, the late result is kept
 * as an attempt but no longer decides the delivery's state.
 */
import type { Queryable } from '../db/db.ts';
import { nowParam, nowSql } from './queue-time.ts';

export type AttemptStatus = 'succeeded' | 'pending' | 'failed';

export interface AttemptRecord {
  attemptId: string;
  deliveryId: string;
  tenantId: string;
  endpointId: string;
  attemptNumber: number;
  /** What the delivery becomes: succeeded, failed (for good), or pending for another attempt. */
  status: AttemptStatus;
  /** With status 'pending': the delay from now to the next attempt. */
  retryInMs: number | null;
  startedAt: Date;
  durationMs: number;
  statusCode: number | null;
  errorKind: string | null;
  errorMessage: string | null;
  requestHeaders: Record<string, string> | null;
  responseHeaders: Record<string, string> | null;
  responseExcerpt: string | null;
  /** The endpoint answered 410 Gone: disable it. */
  endpointGone: boolean;
}

export interface RecordOptions {
  workerId: string;
  now?: Date | null;
}

const NOW = nowSql('$1');

// Not a prepared statement, on purpose: PostgreSQL keeps a prepared statement's generic plan, made
// when the table was small, and for a small table that plan is a sequential scan of `deliveries`
// hashed against the batch; kept as the table grows, every batch read the whole table (measured:
// 60 rows read per outcome after 40,000 deliveries, most of the database's time). Planned afresh
// (~0.3 ms per batch of hundreds), with the row addresses below it is a TID scan at any size.
const RECORD_SQL = `
WITH input AS MATERIALIZED (
  -- The claim token (worker, 'pending') rides along as columns so that the UPDATE's conditions on it
  -- are join conditions, not filters the planner estimates on its own.
  -- One json parameter for the whole batch: serialising it is one native JSON.stringify, where
  -- fifteen array parameters cost the driver an escaping pass over every element. Its fields are
  -- what is cheap to read out of json: the start time as epoch milliseconds (parsing an ISO 8601
  -- timestamptz costs ~12 µs a row), the headers as json (into jsonb, ~30 µs a row; migration 007).
  SELECT t.*, to_timestamp(t.started_ms / 1000) AS started_at,
    $2::text AS claimed_by, 'pending'::text AS claimed_status,
    -- Where each delivery's row is, by a primary-key probe: a scalar subquery is never turned into
    -- a join, so this is O(batch) whatever the statistics say. NULL: the delivery is gone (its
    -- endpoint was deleted while the request was out).
    (SELECT x.ctid FROM deliveries x WHERE x.id = t.delivery_id) AS row_ctid
  FROM json_to_recordset($3::json) AS t(attempt_id text, delivery_id text, tenant_id text,
    endpoint_id text, attempt_number int, status text, retry_in_ms float8, started_ms float8,
    duration_ms int, status_code int, error_kind text, error_message text, request_headers json,
    response_headers json, response_excerpt text)
),
updated AS (
  UPDATE deliveries d SET
    status = i.status,
    next_attempt_at = CASE WHEN i.status = 'pending'
      THEN ${NOW} + i.retry_in_ms * interval '1 millisecond' END,
    locked_by = NULL,
    last_status_code = i.status_code,
    last_error = i.error_message,
    last_attempt_at = i.started_at,
    completed_at = CASE WHEN i.status <> 'pending' THEN ${NOW} END
  FROM input i
  -- The rows by address (a TID scan); the claim token decides, rechecked on the newest version
  -- should another transaction have updated a row meanwhile.
  WHERE d.ctid = ANY (ARRAY(SELECT row_ctid FROM input WHERE row_ctid IS NOT NULL))
    AND d.id = i.delivery_id AND d.locked_by = i.claimed_by AND d.attempt_count = i.attempt_number
    AND d.status = i.claimed_status
  RETURNING d.id
),
inserted AS (
  INSERT INTO attempts (id, delivery_id, tenant_id, endpoint_id, attempt_number, started_at, duration_ms,
    status_code, error_kind, error_message, request_headers, response_headers, response_excerpt, created_at)
  SELECT i.attempt_id, i.delivery_id, i.tenant_id, i.endpoint_id, i.attempt_number, i.started_at,
    i.duration_ms, i.status_code, i.error_kind, i.error_message, i.request_headers,
    i.response_headers, i.response_excerpt, ${NOW}
  FROM input i
  WHERE i.row_ctid IS NOT NULL
  -- A batch whose first write failed half-way is written again: the attempt is then already there.
  ON CONFLICT (id) DO NOTHING
),
endpoint_state AS (
  UPDATE endpoints e SET
    failing_since = CASE WHEN x.ok THEN NULL ELSE coalesce(e.failing_since, ${NOW}) END,
    active = CASE WHEN x.gone THEN false ELSE e.active END,
    disabled_reason = CASE WHEN x.gone AND e.active THEN 'gone (HTTP 410)' ELSE e.disabled_reason END,
    disabled_at = CASE WHEN x.gone AND e.active THEN ${NOW} ELSE e.disabled_at END,
    updated_at = CASE WHEN x.gone AND e.active THEN ${NOW} ELSE e.updated_at END
  FROM unnest($4::text[], $5::bool[], $6::bool[]) AS x(id, ok, gone)
  -- Only rows whose state changes are written: publishing updates the same rows (last_sequence),
  -- and a no-op update would still take their locks.
  WHERE e.id = x.id AND (
    (x.ok AND e.failing_since IS NOT NULL) OR (NOT x.ok AND e.failing_since IS NULL) OR (x.gone AND e.active))
)
SELECT id FROM updated`;

/**
 * Each endpoint's state after the batch: its last result in the batch decides whether it is failing
 * (one row per endpoint: a statement may not update a row twice). Sorted by id so concurrent batches
 * lock endpoint rows in the same order.
 */
function endpointStates(records: readonly AttemptRecord[]): {
  ids: string[];
  ok: boolean[];
  gone: boolean[];
} {
  const state = new Map<string, { ok: boolean; gone: boolean }>();
  for (const r of records) {
    const prev = state.get(r.endpointId);
    state.set(r.endpointId, { ok: r.status === 'succeeded', gone: (prev?.gone ?? false) || r.endpointGone });
  }
  const ids = [...state.keys()].sort();
  return { ids, ok: ids.map((id) => state.get(id)!.ok), gone: ids.map((id) => state.get(id)!.gone) };
}

/** The statement that records `records` and its parameters (exported for plan tests). */
export function recordStatement(
  records: readonly AttemptRecord[],
  opts: RecordOptions,
): { sql: string; params: unknown[] } {
  const endpoints = endpointStates(records);
  const batch = records.map((r) => ({
    attempt_id: r.attemptId,
    delivery_id: r.deliveryId,
    tenant_id: r.tenantId,
    endpoint_id: r.endpointId,
    attempt_number: r.attemptNumber,
    status: r.status,
    retry_in_ms: r.retryInMs,
    started_ms: r.startedAt.getTime(),
    duration_ms: r.durationMs,
    status_code: r.statusCode,
    error_kind: r.errorKind,
    error_message: r.errorMessage,
    request_headers: r.requestHeaders,
    response_headers: r.responseHeaders,
    response_excerpt: r.responseExcerpt,
  }));
  return {
    sql: RECORD_SQL,
    params: [
      nowParam(opts.now),
      opts.workerId,
      JSON.stringify(batch),
      endpoints.ids,
      endpoints.ok,
      endpoints.gone,
    ],
  };
}

/**
 * Writes a batch of finished attempts; answers the ids of the deliveries it moved on (the others'
 * claims had been lost).
 *
 * @example await recordOutcomes(db, records, { workerId: 'w1' })
 */
export async function recordOutcomes(
  q: Queryable,
  records: readonly AttemptRecord[],
  opts: RecordOptions,
): Promise<string[]> {
  if (records.length === 0) return [];
  const { sql, params } = recordStatement(records, opts);
  const rows = await q.query<{ id: string }>(sql, params);
  return rows.map((r) => r.id);
}
