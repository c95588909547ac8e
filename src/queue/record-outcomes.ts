/**
 * Recording attempts: one statement per batch of finished attempts, whatever their outcomes. It
 * inserts the attempt rows, moves each delivery on (succeeded, failed, or pending with its next
 * attempt time) and keeps the endpoints' failure state (`failing_since`, 410 disabling), so a batch
 * of a few hundred results costs a single round trip. The operational events those changes make (a
 * circuit opened or closed, a delivery exhausted, …: src/queue/operational-outbox.ts) are written
 * by the same statement.
 *
 * A delivery is only moved on if this worker still holds the claim (`locked_by` and the attempt
 * number match): when a lease ran out and another worker re-claimed the row, the late result is kept
 * as an attempt but no longer decides the delivery's state.
 *
 * A batch of successes whose endpoints' rows none of them would change goes through a shorter
 * statement first (record-successes.ts); the one here records everything else.
 */
import { type PreparedSql, prepared, type Queryable } from '../db/db.ts';
import {
  type AttemptRecord,
  attemptCtes,
  attemptRows,
  finishedHandoffsCte,
  INPUT_CTE,
  RECORD_NOW,
  updatedCte,
} from './attempt-rows.ts';
import { insertOutboxSql, notOperational, recordedEventsSql } from './operational-outbox.ts';
import { nowParam } from './queue-time.ts';
import { plainSuccesses, recordSuccesses } from './record-successes.ts';

export type { AttemptRecord };

export interface RecordOptions {
  workerId: string;
  now?: Date | null;
  /** The adaptive limit's ceiling: most requests in flight to one endpoint. Default 64. */
  maxInFlightPerEndpoint?: number;
  /** Consecutive failed attempts that open an endpoint's circuit. Default 20. */
  circuitFailureThreshold?: number;
  /** How long a circuit first stays open; doubled on each failed probe. Default 30 s. */
  circuitCooldownMs?: number;
  /** The longest a circuit stays open before its next probe. Default 10 min. */
  circuitMaxCooldownMs?: number;
  /**
   * False for an endpoint whose row this process knows a success will change (its adaptive limit
   * below the cap here): a batch holding one skips the short statement for successes, which would
   * only find so and write nothing. Default: every endpoint may be steady.
   */
  mayBeSteady?: (endpointId: string) => boolean;
  /** Handoff rows whose last delivery this batch records (src/queue/handoff.ts): deleted with it. */
  finishedHandoffs?: readonly string[];
}

/** An endpoint's scheduling state after a batch changed it. */
export interface EndpointHealth {
  endpointId: string;
  /** Its adaptive limit; null = the configured maximum. */
  concurrencyLimit: number | null;
  circuitState: 'closed' | 'open';
  circuitUntil: Date | null;
}

export interface RecordResult {
  /** The deliveries moved on (the others' claims had been lost). */
  moved: string[];
  /** Endpoints whose limit or circuit the batch changed. */
  endpoints: EndpointHealth[];
}

const NOW = RECORD_NOW;
// The endpoint's consecutive failed attempts after the batch.
const NEW_FAILURES = `CASE WHEN x.successes > 0 THEN x.trailing_failures ELSE e.consecutive_failures + x.failures END`;
// The circuit opens when that reaches the threshold while closed, and again when the probe of a
// cooled-down circuit fails (each time for twice as long, up to the most); a success closes it.
const OPENS = `(x.failures > 0 AND ${NEW_FAILURES} >= $6
  AND (e.circuit_state = 'closed' OR e.circuit_until <= ${NOW}))`;
const CLOSES = `(e.circuit_state = 'open' AND x.successes > 0 AND x.trailing_failures < $6)`;
// A delivery of endpoint e failed for good in this batch.
const EXHAUSTED_HERE = `EXISTS (SELECT 1 FROM updated u WHERE u.endpoint_id = e.id AND u.status = 'failed')`;
// The earliest retry of endpoint e this batch scheduled (NULL: none). Every write that makes a
// delivery due lowers its endpoint's next_due_at to it and moves due_version, so a claim that read
// the endpoint before cannot raise next_due_at past it (claim-deliveries.ts; migration 019).
const RETRY_DUE_HERE = `(SELECT min(u.next_attempt_at) FROM updated u WHERE u.endpoint_id = e.id AND u.status = 'pending')`;

// A prepared statement planned `scan-free` (src/db/db.ts), so its plan cannot go wrong with the
// tables' sizes. Parsing and planning this text on every call cost ~2.6 ms of the database's time
// per batch, more than executing it (~0.5 ms for a batch of one, which follows every single-event
// publish). But PostgreSQL soon settles on one generic plan per prepared statement, made with
// whatever statistics the tables have then — when `deliveries` was small, a sequential scan hashed
// against the batch, kept as the table grew (measured once: 60 rows read per outcome after 40,000
// deliveries). Planned without sequential scans, deliveries are reached by row address (each one's
// `ctid` from a primary-key probe in a scalar subquery, never turned into a join, so O(batch)
// whatever the statistics say; then a TID scan) and endpoints by primary key.
// test/queue/record-outcomes.test.ts checks the generic plan.
const RECORD_SQL = prepared(
  'herald_record_attempts',
  `
WITH ${INPUT_CTE},
${updatedCte()},
${attemptCtes()},
${finishedHandoffsCte('$9')},
-- From JSON, not unnest() of arrays: the planner sizes unnest() by the arrays a custom plan sees, so
-- a generic plan looked dearer and every call was planned afresh (~0.8 ms, more than the rest of
-- the statement); json_to_recordset is sized alike in both, and the prepared plan is reused.
batch AS MATERIALIZED (
  SELECT * FROM json_to_recordset($4::json) AS x(id text, ok bool, gone bool, successes int,
    failures int, congested int, trailing_failures int, last_error text)
),
-- The endpoint rows to write, locked in id order as publishing locks them (src/publish/publish-sql.ts):
-- an UPDATE joined to the batch locks in whatever order its plan reads, and two statements taking
-- the same rows in different orders deadlock. Only rows whose state changes are locked and written:
-- publishing updates the same rows (last_sequence), and a no-op update would still take their
-- locks. A healthy endpoint at its cap is not written.
-- The locked rows' values before the update (the newest version's, as the lock found it) are the
-- \`was_*\` columns the operational events compare with (operational-outbox.ts).
endpoint_locks AS MATERIALIZED (
  SELECT e.id, e.ctid AS row_ctid, e.circuit_state AS was_circuit, e.circuit_opened_at AS was_opened_at,
    e.active AS was_active, e.trouble_reported_at AS was_reported, ${RETRY_DUE_HERE} AS retry_due
  FROM endpoints e JOIN batch x ON x.id = e.id
  WHERE e.ctid = ANY (ARRAY(SELECT (SELECT y.ctid FROM endpoints y WHERE y.id = b.id) FROM batch b))
    AND ((x.ok AND e.failing_since IS NOT NULL) OR (NOT x.ok AND e.failing_since IS NULL) OR (x.gone AND e.active)
    OR x.failures > 0
    OR (x.successes > 0 AND (e.concurrency_limit IS NOT NULL OR e.consecutive_failures > 0
      OR e.circuit_state <> 'closed'))
    OR (x.ok AND e.trouble_reported_at IS NOT NULL)
    OR (e.trouble_reported_at IS NULL AND ${EXHAUSTED_HERE})
    OR ${RETRY_DUE_HERE} IS NOT NULL)
  ORDER BY e.id
  FOR NO KEY UPDATE OF e
),
endpoint_state AS (
  UPDATE endpoints e SET
    next_due_at = least(e.next_due_at, l.retry_due),
    due_version = CASE WHEN l.retry_due IS NULL THEN e.due_version ELSE e.due_version + 1 END,
    failing_since = CASE WHEN x.ok THEN NULL ELSE coalesce(e.failing_since, ${NOW}) END,
    active = CASE WHEN x.gone THEN false ELSE e.active END,
    disabled_reason = CASE WHEN x.gone AND e.active THEN 'gone (HTTP 410)' ELSE e.disabled_reason END,
    disabled_at = CASE WHEN x.gone AND e.active THEN ${NOW} ELSE e.disabled_at END,
    updated_at = CASE WHEN x.gone AND e.active THEN ${NOW} ELSE e.updated_at END,
    -- AIMD: halve on congestion (timeouts, connection errors, 429, 5xx), one more per success up to
    -- the cap (NULL = at the cap).
    concurrency_limit = CASE
      WHEN x.congested > 0 THEN greatest(1, coalesce(e.concurrency_limit, $5) / 2)
      WHEN x.successes > 0 AND e.concurrency_limit IS NOT NULL
        THEN nullif(least($5, e.concurrency_limit + x.successes), $5)
      ELSE e.concurrency_limit END,
    consecutive_failures = ${NEW_FAILURES},
    circuit_state = CASE WHEN ${OPENS} THEN 'open' WHEN ${CLOSES} THEN 'closed' ELSE e.circuit_state END,
    circuit_until = CASE
      WHEN ${OPENS} THEN ${NOW} + least($8, $7 * 2 ^ least(e.circuit_trips, 20)) * interval '1 millisecond'
      WHEN ${CLOSES} THEN NULL ELSE e.circuit_until END,
    circuit_trips = CASE WHEN ${OPENS} THEN e.circuit_trips + 1 WHEN ${CLOSES} THEN 0 ELSE e.circuit_trips END,
    circuit_opened_at = CASE
      WHEN ${OPENS} AND e.circuit_state = 'closed' THEN ${NOW} WHEN ${CLOSES} THEN NULL
      ELSE e.circuit_opened_at END,
    circuit_reason = CASE
      WHEN ${OPENS} THEN (${NEW_FAILURES}) || ' consecutive failed attempts; last: ' || x.last_error
      WHEN ${CLOSES} THEN NULL ELSE e.circuit_reason END,
    -- Trouble the operator is told of (its circuit opening, a delivery exhausted, a 410) starts the
    -- streak an \`endpoint.recovered\` ends: the next success reports it and clears this.
    trouble_reported_at = CASE
      WHEN x.ok THEN NULL
      WHEN ${notOperational('e.tenant_id')} AND ((x.gone AND e.active) OR (${OPENS} AND e.circuit_state = 'closed')
        OR ${EXHAUSTED_HERE}) THEN coalesce(e.trouble_reported_at, ${NOW})
      ELSE e.trouble_reported_at END
  FROM batch x JOIN endpoint_locks l ON l.id = x.id
  -- By address too: the locked version's (the lock follows an update made since the snapshot).
  WHERE e.ctid = ANY (ARRAY(SELECT row_ctid FROM endpoint_locks)) AND e.id = x.id
  RETURNING e.id, e.concurrency_limit, e.circuit_state, e.circuit_until, e.tenant_id, e.url, e.active,
    e.disabled_reason, e.disabled_at, e.failing_since, e.circuit_reason, e.circuit_opened_at,
    e.consecutive_failures, e.trouble_reported_at, l.was_circuit, l.was_opened_at, l.was_active,
    -- Reported before, or now: a delivery exhausted in a batch whose last word is a success.
    coalesce(l.was_reported, CASE WHEN ${EXHAUSTED_HERE} THEN ${NOW} END) AS was_reported
),
-- Operational events (Herald's own, for the operator's webhooks) about what this batch changed, in
-- the same statement: they commit with the change or not at all.
operational AS (${insertOutboxSql(recordedEventsSql(NOW), NOW)}
)
SELECT 'd' AS kind, id, NULL::int AS concurrency_limit, NULL::text AS circuit_state,
  NULL::timestamptz AS circuit_until
FROM updated
UNION ALL SELECT 'e', id, concurrency_limit, circuit_state, circuit_until FROM endpoint_state`,
  { plan: 'scan-free', commit: 'async' },
);

/** Error kinds of attempts that reached for the receiver (the others failed before any request). */
const REACHED_KINDS = new Set(['timeout', 'connect_error', 'network_error', 'tls_error', 'http_status']);

/** The attempt says something about the receiver's health: it answered, or failed to. */
function reachedReceiver(r: AttemptRecord): boolean {
  if (r.sentNothing) return false;
  return r.statusCode !== null || (r.errorKind !== null && REACHED_KINDS.has(r.errorKind));
}

/** A sign the receiver is overloaded: a timeout, a connection failure, 429 or 5xx. */
function congested(r: AttemptRecord): boolean {
  if (r.statusCode !== null) return r.statusCode === 429 || r.statusCode >= 500;
  return r.errorKind === 'timeout' || r.errorKind === 'connect_error' || r.errorKind === 'network_error';
}

interface EndpointBatch {
  ok: boolean;
  gone: boolean;
  successes: number;
  failures: number;
  congested: number;
  /** Failures after the batch's last success. */
  trailing: number;
  lastError: string;
}

/**
 * Each endpoint's state after the batch: its last result in the batch decides whether it is failing
 * (one row per endpoint: a statement may not update a row twice), and its counts feed the adaptive
 * limit and the circuit. Sorted by id so concurrent batches lock endpoint rows in the same order.
 */
function endpointStates(records: readonly AttemptRecord[]) {
  const state = new Map<string, EndpointBatch>();
  for (const r of records) {
    let b = state.get(r.endpointId);
    if (!b) {
      b = { ok: false, gone: false, successes: 0, failures: 0, congested: 0, trailing: 0, lastError: '' };
      state.set(r.endpointId, b);
    }
    b.ok = r.status === 'succeeded';
    b.gone ||= r.endpointGone;
    if (b.ok) {
      b.successes++;
      b.trailing = 0;
    } else if (reachedReceiver(r)) {
      b.failures++;
      b.trailing++;
      if (congested(r)) b.congested++;
      b.lastError =
        r.statusCode !== null
          ? `HTTP ${r.statusCode}`
          : `${r.errorKind}: ${(r.errorMessage ?? '').slice(0, 200)}`;
    }
  }
  return [...state.keys()].sort().map((id) => {
    const b = state.get(id)!;
    return {
      id,
      ok: b.ok,
      gone: b.gone,
      successes: b.successes,
      failures: b.failures,
      congested: b.congested,
      trailing_failures: b.trailing,
      last_error: b.lastError,
    };
  });
}

/** The statement that records `records` and its parameters (exported for plan tests). */
export function recordStatement(
  records: readonly AttemptRecord[],
  opts: RecordOptions,
): { sql: PreparedSql; params: unknown[] } {
  const endpoints = endpointStates(records);
  return {
    sql: RECORD_SQL,
    params: [
      nowParam(opts.now),
      opts.workerId,
      attemptRows(records),
      JSON.stringify(endpoints),
      opts.maxInFlightPerEndpoint ?? 64,
      opts.circuitFailureThreshold ?? 20,
      opts.circuitCooldownMs ?? 30_000,
      opts.circuitMaxCooldownMs ?? 600_000,
      opts.finishedHandoffs ?? [],
    ],
  };
}

interface ResultRow {
  kind: 'd' | 'e';
  id: string;
  concurrency_limit: number | null;
  circuit_state: 'closed' | 'open' | null;
  circuit_until: Date | null;
}

/**
 * Writes a batch of finished attempts; answers the deliveries it moved on and the endpoints whose
 * scheduling state changed.
 *
 * @example const { moved, endpoints } = await recordAttempts(db, records, { workerId: 'w1' })
 */
export async function recordAttempts(
  q: Queryable,
  records: readonly AttemptRecord[],
  opts: RecordOptions,
): Promise<RecordResult> {
  if (records.length === 0) return { moved: [], endpoints: [] };
  const steady = opts.mayBeSteady;
  if (plainSuccesses(records) && (!steady || records.every((r) => steady(r.endpointId)))) {
    const moved = await recordSuccesses(q, records, opts);
    // Some endpoint's state has to change (a limit still rising, failures to forget, trouble to
    // report over): the whole statement below writes it.
    if (moved) return { moved, endpoints: [] };
  }
  const { sql, params } = recordStatement(records, opts);
  const rows = await q.query<ResultRow>(sql, params);
  const result: RecordResult = { moved: [], endpoints: [] };
  for (const r of rows) {
    if (r.kind === 'd') result.moved.push(r.id);
    else
      result.endpoints.push({
        endpointId: r.id,
        concurrencyLimit: r.concurrency_limit,
        circuitState: r.circuit_state ?? 'closed',
        circuitUntil: r.circuit_until,
      });
  }
  return result;
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
  return (await recordAttempts(q, records, opts)).moved;
}
