/**
 * Claiming: one statement takes up to `limit` due deliveries for one worker and returns everything
 * sending them needs (endpoint configuration, event payloads), so a batch costs one round trip.
 *
 * - Due: `next_attempt_at <= now` (only pending deliveries have one), oldest first,
 *   `FOR UPDATE SKIP LOCKED` so concurrent workers never wait on each other or take the same row.
 * - The claim is a lease: `next_attempt_at` moves to now + lease (plus the endpoint's total timeout),
 *   so if this worker dies the row simply falls due again; no reaper is needed.
 * - `attempt_count` is incremented here: the claimed row's count is the number of the attempt about
 *   to be made, and together with `locked_by` it is the claim token later writes must match.
 * - fifo deliveries are claimable only when they are their endpoint's lowest pending sequence, so
 *   such an endpoint has at most one delivery in flight and receives them in order.
 * - Deliveries of an inactive (disabled) endpoint are not sent. Rather than being re-read by every
 *   claim, the ones met are paused: pushed `pausedForMs` ahead without using an attempt. They stay
 *   pending, so re-enabling the endpoint resumes them (within `pausedForMs`, or at once if the
 *   re-enabling code also makes them due).
 */
import type { Queryable } from '../db/db.ts';
import { nowParam, nowSql } from './queue-time.ts';

export interface ClaimOptions {
  workerId: string;
  limit: number;
  /** Lease on top of the endpoint's total timeout. */
  leaseMs: number;
  /** Total timeout assumed for endpoints without their own, to size the lease. */
  defaultTotalTimeoutMs: number;
  /** How far ahead a delivery of an inactive endpoint is pushed. */
  pausedForMs: number;
  /** Injected time (tests); omitted = the database's now(). */
  now?: Date | null;
}

export interface ClaimedEvent {
  id: string;
  type: string;
  data: unknown;
  /** True when the retention job removed the payload. */
  purged: boolean;
  occurredAt: Date | null;
  createdAt: Date;
}

export type EndpointAuthSealed = string | null;

export interface ClaimedEndpoint {
  id: string;
  url: string;
  secretEnc: string;
  previousSecretEnc: string | null;
  previousSecretUntil: Date | null;
  headers: Record<string, string>;
  profile: string;
  profileOptions: Record<string, unknown>;
  authEnc: EndpointAuthSealed;
  retrySchedule: number[] | null;
  connectTimeoutMs: number | null;
  totalTimeoutMs: number | null;
  rateLimitPerSecond: number | null;
}

export interface ClaimedDelivery {
  id: string;
  tenantId: string;
  endpointId: string;
  eventType: string;
  sequence: number;
  fifo: boolean;
  /** The number of the attempt this claim makes (1 for the first). */
  attemptNumber: number;
  endpoint: ClaimedEndpoint;
  /** In the delivery's order; a missing event shows as purged. */
  events: ClaimedEvent[];
  /** Set by the dispatcher: when it got the claim (performance.now()), to bound how long it holds it. */
  heldSince?: number;
  /** Set by the dispatcher for handed-over deliveries: their share of the publish's event bytes. */
  heldBytes?: number;
}

export interface ClaimResult {
  deliveries: ClaimedDelivery[];
  /** Due rows this claim met: claimed plus paused. `scanned === limit` means more may be due. */
  scanned: number;
}

/** The endpoint columns sending needs, as selected by {@link ENDPOINT_CONFIG_COLUMNS}. */
export interface EndpointConfigRow {
  url: string;
  secret_enc: string;
  previous_secret_enc: string | null;
  previous_secret_until: Date | null;
  headers: Record<string, string>;
  profile: string;
  profile_options: Record<string, unknown>;
  auth_enc: string | null;
  retry_schedule: number[] | null;
  connect_timeout_ms: number | null;
  total_timeout_ms: number | null;
  rate_limit_per_second: number | null;
}

/** The columns of `endpoints e` that {@link toClaimedEndpoint} reads. */
export const ENDPOINT_CONFIG_COLUMNS = `e.url, e.secret_enc, e.previous_secret_enc, e.previous_secret_until,
  e.headers, e.profile, e.profile_options, e.auth_enc, e.retry_schedule, e.connect_timeout_ms,
  e.total_timeout_ms, e.rate_limit_per_second`;

export function toClaimedEndpoint(id: string, row: EndpointConfigRow): ClaimedEndpoint {
  return {
    id,
    url: row.url,
    secretEnc: row.secret_enc,
    previousSecretEnc: row.previous_secret_enc,
    previousSecretUntil: row.previous_secret_until,
    headers: row.headers ?? {},
    profile: row.profile,
    profileOptions: row.profile_options ?? {},
    authEnc: row.auth_enc,
    retrySchedule: row.retry_schedule,
    connectTimeoutMs: row.connect_timeout_ms,
    totalTimeoutMs: row.total_timeout_ms,
    rateLimitPerSecond: row.rate_limit_per_second,
  };
}

/** An endpoint's configuration as the claim sends it: once per endpoint per batch, as JSON. */
type EndpointConfigJson = Omit<EndpointConfigRow, 'previous_secret_until'> & {
  previous_secret_until: string | null;
};

interface Row {
  id: string | null;
  /** On the first row of each endpoint only; the others share it. */
  endpoint: EndpointConfigJson | null;
  tenant_id: string;
  endpoint_id: string;
  event_ids: string[];
  event_type: string;
  sequence: number;
  fifo: boolean;
  attempt_count: number;
  events: Array<null | {
    id: string;
    type: string;
    data: unknown;
    purged: boolean;
    occurredAt: number | null;
    createdAt: number;
  }>;
  paused: number;
}

const NOW = nowSql('$1');

// Not a prepared statement: PostgreSQL would keep the generic plan it made for the first claims —
// an idle dispatcher's polls of an empty due set, where a sequential scan and sort is cheapest —
// and use it once the table has grown, reading every due row for each batch until autovacuum next
// analyses the table (test/queue/claim-deliveries.test.ts reproduces it: 20,000 rows read for a
// batch of 100). Planned on every call it is an ordered index scan at any size; planning costs
// about as much as the parse it saves.
const CLAIM_SQL = `
-- The due rows alone, from the due index in its order, stopping after $2. Pending is implied by a
-- due time (migration 005), and asking for the time alone keeps the planner's estimate of the due
-- rows generous; with one table and that estimate the plan is an ordered index scan under the
-- LIMIT. (With \`status = 'pending'\` or a join here, a planner without fresh statistics fetches and
-- sorts every due row on each claim: O(backlog) per batch instead of O(batch).)
WITH picked AS MATERIALIZED (
  SELECT d.id, d.endpoint_id
  FROM deliveries d
  WHERE d.next_attempt_at <= ${NOW}
    -- fifo: only the endpoint's head, i.e. no pending fifo delivery with a lower sequence.
    AND (NOT d.fifo OR NOT EXISTS (
      SELECT 1 FROM deliveries f
      WHERE f.endpoint_id = d.endpoint_id AND f.status = 'pending' AND f.fifo AND f.sequence < d.sequence))
  ORDER BY d.next_attempt_at
  LIMIT $2
  FOR UPDATE SKIP LOCKED
),
due AS MATERIALIZED (
  SELECT p.id, e.active, coalesce(e.total_timeout_ms, $5) AS total_ms
  FROM picked p JOIN endpoints e ON e.id = p.endpoint_id
),
paused AS (
  UPDATE deliveries d SET next_attempt_at = ${NOW} + $6 * interval '1 millisecond'
  FROM due WHERE d.id = due.id AND NOT due.active
  RETURNING d.id
),
claimed AS (
  UPDATE deliveries d
  SET next_attempt_at = ${NOW} + ($4 + due.total_ms) * interval '1 millisecond',
      locked_by = $3,
      attempt_count = d.attempt_count + 1
  FROM due WHERE d.id = due.id AND due.active
  RETURNING d.id, d.tenant_id, d.endpoint_id, d.event_ids, d.event_type, d.sequence, d.fifo, d.attempt_count
)
-- The one-row count of paused rows, left-joined, so the answer has a row even when nothing was claimed.
-- The endpoint's configuration once per endpoint in the batch, not once per delivery: a batch is
-- often one endpoint's, and parsing the same columns a hundred times was a tenth of a claim's cost.
SELECT s.paused, c.*,
  CASE WHEN c.first_of_endpoint
    THEN (SELECT row_to_json(cfg) FROM (SELECT ${ENDPOINT_CONFIG_COLUMNS}) AS cfg) END AS endpoint,
  -- Each event by its full primary key, in a scalar subquery the planner cannot flatten: as a join
  -- (or with \`id = ANY(...)\`) and without statistics (PGlite never auto-analyzes; a fresh
  -- PostgreSQL table until autovacuum gets to it) it may scan all the tenant's events per delivery.
  (SELECT coalesce(json_agg((
       SELECT json_build_object(
         'id', v.id, 'type', v.type, 'data', v.data, 'purged', v.data IS NULL,
         'occurredAt', floor(extract(epoch FROM v.occurred_at) * 1000),
         'createdAt', floor(extract(epoch FROM v.created_at) * 1000))
       FROM events v WHERE v.tenant_id = c.tenant_id AND v.id = x.id) ORDER BY x.n), '[]')
   FROM unnest(c.event_ids) WITH ORDINALITY AS x(id, n)) AS events
FROM (SELECT count(*)::int AS paused FROM paused) s
LEFT JOIN (
  (SELECT claimed.*, row_number() OVER (PARTITION BY claimed.endpoint_id) = 1 AS first_of_endpoint
   FROM claimed) c
  JOIN endpoints e ON e.id = c.endpoint_id) ON true`;

function toEvents(row: Row): ClaimedEvent[] {
  const byId = new Map(row.events.flatMap((e) => (e ? [[e.id, e] as const] : [])));
  // A missing event (which nothing in Herald deletes today) is treated like a purged payload.
  return row.event_ids.map((id) => {
    const e = byId.get(id);
    if (!e)
      return { id, type: row.event_type, data: null, purged: true, occurredAt: null, createdAt: new Date(0) };
    return {
      id: e.id,
      type: e.type,
      data: e.data,
      purged: e.purged,
      occurredAt: e.occurredAt === null ? null : new Date(e.occurredAt),
      createdAt: new Date(e.createdAt),
    };
  });
}

/**
 * Claims up to `limit` due deliveries for `workerId`.
 *
 * @example const { deliveries } = await claimDeliveries(db, { workerId: 'w1', limit: 100, leaseMs: 30_000, defaultTotalTimeoutMs: 15_000, pausedForMs: 60_000 })
 */
export async function claimDeliveries(q: Queryable, opts: ClaimOptions): Promise<ClaimResult> {
  const rows = await q.query<Row>(CLAIM_SQL, [
    nowParam(opts.now),
    opts.limit,
    opts.workerId,
    opts.leaseMs,
    opts.defaultTotalTimeoutMs,
    opts.pausedForMs,
  ]);
  const endpoints = new Map<string, ClaimedEndpoint>();
  for (const row of rows) {
    const e = row.endpoint;
    if (e) {
      const until = e.previous_secret_until;
      endpoints.set(
        row.endpoint_id,
        toClaimedEndpoint(row.endpoint_id, {
          ...e,
          previous_secret_until: until === null ? null : new Date(until),
        }),
      );
    }
  }
  const deliveries: ClaimedDelivery[] = [];
  let paused = 0;
  for (const row of rows) {
    paused = row.paused;
    if (row.id === null) continue;
    deliveries.push({
      id: row.id,
      tenantId: row.tenant_id,
      endpointId: row.endpoint_id,
      eventType: row.event_type,
      sequence: row.sequence,
      fifo: row.fifo,
      attemptNumber: row.attempt_count,
      endpoint: endpoints.get(row.endpoint_id)!,
      events: toEvents(row),
    });
  }
  return { deliveries, scanned: deliveries.length + paused };
}
