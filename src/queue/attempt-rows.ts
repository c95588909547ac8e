/**
 * The parts both recording statements share (record-outcomes.ts for any batch, record-successes.ts
 * for successes on healthy endpoints): the batch read from its JSON parameter, each delivery moved
 * on if this worker still holds its claim, the attempt rows inserted, and an `interrupted` attempt a
 * late result replaces. Parameters: $1 the queue's injected now (or null), $2 the worker id, $3 the
 * batch ({@link attemptRows}).
 */
import type { DeliveryStatus } from '../rules/delivery-status.ts';
import { type HandedOverRow, handedOverFields, liveEndpointsCte } from './handed-over-row.ts';
import { nowSql } from './queue-time.ts';

export interface AttemptRecord {
  attemptId: string;
  deliveryId: string;
  tenantId: string;
  endpointId: string;
  attemptNumber: number;
  /** The attempt's next step: succeeded, failed (for good), or pending for another attempt. */
  status: DeliveryStatus;
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
  /**
   * No request went out (a failure found before sending, such as a budget the OAuth 2 token fetch
   * used up): whatever its kind, it says nothing of the receiver's health.
   */
  sentNothing?: boolean;
  /** Handed over by publishing: its row is written now, once, in the state this attempt leaves it. */
  handoff?: HandedOverRow;
}

export const RECORD_NOW = nowSql('$1');

/**
 * CTE `input`: one row per attempt, with where its delivery's row is.
 *
 * The claim token (worker, 'pending') rides along as columns so that the UPDATE's conditions on it
 * are join conditions, not filters the planner estimates on its own. One json parameter for the
 * whole batch: serialising it is one native JSON.stringify, where fifteen array parameters cost the
 * driver an escaping pass over every element. Its fields are what is cheap to read out of json: the
 * start time as epoch milliseconds (parsing an ISO 8601 timestamptz costs ~12 µs a row), the headers
 * as json (into jsonb, ~30 µs a row; migration 007).
 */
export const INPUT_CTE = `input AS MATERIALIZED (
  SELECT t.*, to_timestamp(t.started_ms / 1000) AS started_at,
    $2::text AS claimed_by, 'pending'::text AS claimed_status,
    -- Where each delivery's row is, by a primary-key probe: a scalar subquery is never turned into
    -- a join, so this is O(batch) whatever the statistics say. NULL: the delivery is gone (its
    -- endpoint was deleted while the request was out).
    (SELECT x.ctid FROM deliveries x WHERE x.tenant_id = t.tenant_id AND x.id = t.delivery_id) AS row_ctid
  FROM json_to_recordset($3::json) AS t(attempt_id text, delivery_id text, tenant_id text,
    endpoint_id text, attempt_number int, status text, retry_in_ms float8, started_ms float8,
    duration_ms int, status_code int, error_kind text, error_message text, request_headers json,
    response_headers json, response_excerpt text,
    handoff_id text, event_ids text[], event_type text, sequence int8, created_ms float8)
)`;

// What an operational event about a delivery exhausted says (operational-outbox.ts).
const returned = (d: string) => `${d}id, ${d}tenant_id, ${d}endpoint_id, ${d}status, ${d}event_id,
    ${d}event_type, ${d}attempt_count, ${d}last_status_code, ${d}last_error, ${d}next_attempt_at`;

/**
 * CTE `updated`: the deliveries this worker still held, moved on — the rows it had claimed
 * (`claimed_rows`), and the handed-over ones whose rows are written now (`created`, {@link createdCtes});
 * `only` a condition on the whole write.
 */
export const updatedCte = (only = 'true') => `claimed_rows AS (
  UPDATE deliveries d SET
    status = i.status,
    next_attempt_at = CASE WHEN i.status = 'pending'
      THEN ${RECORD_NOW} + i.retry_in_ms * interval '1 millisecond' END,
    locked_by = NULL,
    last_status_code = i.status_code,
    last_error = i.error_message,
    last_attempt_at = i.started_at,
    completed_at = CASE WHEN i.status <> 'pending' THEN ${RECORD_NOW} END
  FROM input i
  -- The rows by address (a TID scan); the claim token decides, rechecked on the newest version
  -- should another transaction have updated a row meanwhile. (IS NOT DISTINCT FROM, not =: an
  -- equality on locked_by would let the planner read every leased row through the leased index.)
  WHERE d.ctid = ANY (ARRAY(SELECT row_ctid FROM input WHERE row_ctid IS NOT NULL))
    AND d.id = i.delivery_id AND d.locked_by IS NOT DISTINCT FROM i.claimed_by AND d.attempt_count = i.attempt_number
    AND d.status = i.claimed_status AND ${only}
  RETURNING ${returned('d.')}
),
${createdCtes(only)},
updated AS (SELECT * FROM claimed_rows UNION ALL SELECT * FROM created)`;

/**
 * CTEs `live` and `created`: the rows of the handed-over deliveries of the batch that have none yet,
 * written once in the state their attempt leaves them, for the endpoints still there. `only` as for
 * {@link updatedCte}.
 */
export const createdCtes = (only = 'true') => `${liveEndpointsCte(
  `SELECT DISTINCT i.endpoint_id FROM input i WHERE i.handoff_id IS NOT NULL AND i.row_ctid IS NULL AND ${only}`,
)},
created AS (
  INSERT INTO deliveries (id, tenant_id, endpoint_id, event_id, event_ids, event_type, sequence, status,
    attempt_count, next_attempt_at, last_status_code, last_error, last_attempt_at, created_at, completed_at)
  SELECT i.delivery_id, i.tenant_id, i.endpoint_id, i.event_ids[1], i.event_ids, i.event_type, i.sequence,
    i.status, i.attempt_number,
    CASE WHEN i.status = 'pending' THEN ${RECORD_NOW} + i.retry_in_ms * interval '1 millisecond' END,
    i.status_code, i.error_message, i.started_at, to_timestamp(i.created_ms / 1000),
    CASE WHEN i.status <> 'pending' THEN ${RECORD_NOW} END
  FROM input i
  WHERE i.handoff_id IS NOT NULL AND i.row_ctid IS NULL AND ${only}
    AND i.endpoint_id IN (SELECT id FROM live)
  -- No ON CONFLICT: its speculative insertion cost the database ~6 µs more per row than a plain
  -- insert. A row recovery wrote before this statement began is \`row_ctid\` above (a late result);
  -- one it commits while this statement runs fails the batch on the key, and the recorder's retry
  -- finds the row.
  RETURNING ${returned('')}
)`;

/** CTE `finished`: deletes the handoff rows ($n, text[]) whose last delivery this write records or releases. */
export const finishedHandoffsCte = (param: string, only = 'true') => `finished AS (
  DELETE FROM handoffs h WHERE h.id = ANY (${param}::text[]) AND ${only}
)`;

const INSERT_ATTEMPTS = `INSERT INTO attempts (id, delivery_id, tenant_id, endpoint_id, attempt_number, started_at,
    duration_ms, status_code, error_kind, error_message, request_headers, response_headers, response_excerpt,
    created_at)
  SELECT i.attempt_id, i.delivery_id, i.tenant_id, i.endpoint_id, i.attempt_number, i.started_at,
    i.duration_ms, i.status_code, i.error_kind, i.error_message, i.request_headers,
    i.response_headers, i.response_excerpt, ${RECORD_NOW}
  FROM input i`;

/** CTE `inserted_fresh`: the first attempts of the rows `created` wrote (see {@link attemptCtes}). */
export const freshAttemptsCte = (only = 'true') => `inserted_fresh AS (
  ${INSERT_ATTEMPTS}
  WHERE i.delivery_id IN (SELECT id FROM created) AND ${only}
)`;

/**
 * CTEs `inserted_fresh` and `inserted` (the attempt rows) and `superseded`: a late result — this
 * worker's lease ran out and a claim took the delivery over — replaces the `interrupted` attempt that
 * claim recorded in its place (claim-deliveries.ts), by primary key. `only` as for {@link updatedCte}.
 *
 * The attempts of the rows this statement creates (handed-over deliveries) cannot be there yet — a
 * delivery's row and its first attempt are written by one statement — so they go in plainly; only
 * those of rows that existed before may repeat an earlier write. `ON CONFLICT`'s speculative
 * insertion cost the database ~3 µs more an attempt in batches of 100 (~10 % of recording a success;
 * a scratch loop of the success statement, six rounds in turns).
 */
export const attemptCtes = (only = 'true') => `${freshAttemptsCte(only)},
inserted AS (
  ${INSERT_ATTEMPTS}
  WHERE i.row_ctid IS NOT NULL AND ${only}
  -- A batch is written again when the answer to its first write was lost (it may have committed):
  -- the attempts of rows that existed before are then already there.
  ON CONFLICT (delivery_id, attempt_number, id) DO NOTHING
),
superseded AS (
  DELETE FROM attempts a
  WHERE a.ctid = ANY (ARRAY(
    SELECT (SELECT x.ctid FROM attempts x WHERE x.delivery_id = i.delivery_id
      AND x.attempt_number = i.attempt_number AND x.id = 'atm_int_' || i.delivery_id || '_' || i.attempt_number)
    FROM input i
    WHERE i.row_ctid IS NOT NULL AND ${only} AND NOT EXISTS (SELECT 1 FROM updated u WHERE u.id = i.delivery_id)))
    AND a.error_kind = 'interrupted'
)`;

/** The batch parameter ($3) of either recording statement. */
export function attemptRows(records: readonly AttemptRecord[]): string {
  return JSON.stringify(
    records.map((r) => ({
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
      ...handedOverFields(r.handoff),
    })),
  );
}
