/**
 * Claiming: one statement takes up to `limit` due deliveries for one worker and returns everything
 * sending them needs (endpoint configuration, event payloads), so a batch costs one round trip.
 *
 * It claims by endpoint, not by row (docs/isolation.md), so no endpoint and no tenant takes more
 * than its share, and nothing is claimed that cannot be sent now:
 * - Requests in flight are counted cluster-wide from the rows themselves: a delivery under an
 *   unexpired lease is in flight, whichever worker holds it. No counter to drift after a crash.
 * - Candidates are active endpoints with something due (`next_due_at`, migration 008), whose
 *   circuit is closed or has cooled down (then one probe request), with room under their limit
 *   (the adaptive `concurrency_limit`, at most `maxInFlightPerEndpoint`) and under their tenant's
 *   (`maxInFlightPerTenant`); in turns across tenants, each tenant's longest waiting first. Only
 *   those that really have something due take part (`next_due_at` is a lower bound): the others
 *   are passed over and their `next_due_at` raised.
 * - Each gets at most its room, its tenant's room, what it has due and a fair share of the batch
 *   (split between tenants, then between each tenant's endpoints); then its oldest
 *   due deliveries, `FOR UPDATE SKIP LOCKED`, so concurrent workers never wait on each other or take
 *   the same row. Under races between workers a limit can be overshot by one claim's take.
 * - The claim is a lease: `next_attempt_at` moves to now + the attempt's budget + a margin
 *   (src/rules/attempt-budget.ts), so if this worker dies the row simply falls due again.
 * - `attempt_count` is incremented here: the claimed row's count is the number of the attempt about
 *   to be made, and together with `locked_by` it is the claim token later writes must match.
 * - fifo deliveries are claimable only when they are their endpoint's lowest pending sequence, so
 *   such an endpoint has at most one delivery in flight and receives them in order (a fifo
 *   endpoint's room is one).
 * - Deliveries of an inactive endpoint or an open circuit are not claimed: they wait, pending,
 *   spending no attempt.
 */
import { prepared, type Queryable } from '../db/db.ts';
import {
  type ClaimedDelivery,
  type ClaimedEndpoint,
  type ClaimedEvent,
  ENDPOINT_CONFIG_COLUMNS,
  type EndpointConfigRow,
  toClaimedEndpoint,
} from './claimed-delivery.ts';
import { nowParam, nowSql } from './queue-time.ts';

export interface ClaimOptions {
  workerId: string;
  limit: number;
  /** The lease's margin on top of the attempt's budget. */
  leaseMs: number;
  /** An attempt's budget for endpoints whose profile and settings set none. */
  defaultTotalTimeoutMs: number;
  /** The longest budget of any attempt (attempt-budget.ts). Default 60 s. */
  maxAttemptMs?: number;
  /** Profile name → its own total timeout, where it sets one. */
  profileBudgets?: Record<string, number>;
  /** Most requests in flight to one endpoint, cluster-wide. Default 64. */
  maxInFlightPerEndpoint?: number;
  /** Most requests in flight for one tenant, cluster-wide. Default 500. */
  maxInFlightPerTenant?: number;
  /** Most endpoints one claim considers (the longest waiting). Default 1,000. */
  maxEndpoints?: number;
  /**
   * How many limits' worth of an endpoint's deliveries this worker may hold claimed, those in
   * flight included, where it alone holds the endpoint's leases: the rest wait for its requests to
   * finish, without a claim each time a few do. Default 1: only what can start now.
   */
  claimAhead?: number;
  /**
   * Endpoints to hold fewer limits' worth ahead than `claimAhead` (their requests are slow, so
   * deliveries held ahead would wait too long: src/delivery/endpoint-pace.ts) → that number.
   */
  aheadByEndpoint?: Record<string, number>;
  /** Injected time (tests); omitted = the database's now(). */
  now?: Date | null;
}

export interface ClaimResult {
  deliveries: ClaimedDelivery[];
  /** The batch came back full: more may be due at once. */
  moreDue: boolean;
  /**
   * Due endpoints got less than they could take for want of room (theirs or their tenant's) or a
   * share of the batch: claim again when requests finish.
   */
  limited: boolean;
  /** The endpoints that did (their ids). */
  limitedEndpoints: string[];
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
  cap: number;
  events: Array<null | {
    id: string;
    type: string;
    data: unknown;
    purged: boolean;
    occurredAt: number | null;
    createdAt: number;
    traceContext: string | null;
  }>;
  limited: string[];
}

const NOW = nowSql('$1');

/** What an `interrupted` attempt says (no quotes: it is spliced into SQL). */
export const INTERRUPTED_MESSAGE =
  'the worker that claimed this attempt stopped before recording its outcome (its lease ran out); the request may or may not have reached the receiver';

// Prepared, planned `custom` (src/db/db.ts): parsed once per connection (it is the longest statement
// Herald has; parsing was ~25 % of a claim), planned on every call so its plans follow the tables'
// sizes and what is due. A generic plan made while the tables were small scans them whole once they
// have grown (test/queue/claim-deliveries.test.ts); even planned without sequential scans, the
// generic plan cost the database ~4 × a fresh one per claim on a 20,000-delivery backlog.
//
// $1 now, $2 limit, $3 worker, $4 lease margin, $5 default budget, $6 max budget,
// $7 profile budgets (jsonb), $8 endpoint cap, $9 tenant cap, $10 most endpoints considered,
// $11 claim ahead (limits' worth), $12 fewer limits ahead for some endpoints (jsonb: id → limits).
const CLAIM_SQL = prepared(
  'herald_claim',
  `
-- Requests in flight, cluster-wide: rows under an unexpired lease (held by any worker), from the
-- partial leased index, and deliveries handed over in memory, from their handoffs' counts (each
-- counted until its handoff's last delivery is recorded: src/queue/handoff.ts). O(in flight).
WITH leased AS MATERIALIZED (
  SELECT u.tenant_id, u.endpoint_id, sum(u.n)::int AS n, sum(u.others)::int AS others FROM (
    SELECT l.tenant_id, l.endpoint_id, count(*) AS n, count(*) FILTER (WHERE l.locked_by <> $3) AS others
    FROM deliveries l
    WHERE l.locked_by IS NOT NULL AND l.next_attempt_at > ${NOW}
    GROUP BY l.tenant_id, l.endpoint_id
    UNION ALL
    SELECT h.tenant_id, c.key, c.value::int8, CASE WHEN h.worker_id <> $3 THEN c.value::int8 ELSE 0 END
    FROM handoffs h CROSS JOIN LATERAL jsonb_each_text(h.counts) AS c
    WHERE h.lease_until > ${NOW}
  ) u
  GROUP BY u.tenant_id, u.endpoint_id
),
-- A tenant's load is what its endpoints can have in flight: an endpoint sends at most its limit at
-- once, whatever its worker holds claimed ahead (below), so each counts at most that.
tenant_load AS MATERIALIZED (
  SELECT l.tenant_id, sum(least(l.n, CASE WHEN e.ordering = 'fifo' OR e.circuit_state = 'open' THEN 1
      ELSE least(coalesce(e.concurrency_limit, $8), $8) END))::int AS n
  FROM leased l JOIN endpoints e ON e.id = l.endpoint_id
  GROUP BY l.tenant_id
),
-- Endpoints with something due, active, circuit closed or cooled down (half-open: one probe).
due AS MATERIALIZED (
  SELECT e.id, e.tenant_id, e.next_due_at, e.due_version, e.last_sequence,
    CASE WHEN e.circuit_state = 'open' THEN 1 ELSE least(coalesce(e.concurrency_limit, $8), $8) END AS cap,
    -- What the claim may put in flight: a fifo endpoint sends one delivery at a time anyway (its
    -- head), so with the head out it is no candidate. Counted at its cap, fifo endpoints whose head
    -- was out took the shares of a batch and sent nothing (claim-fairness.test.ts).
    CASE WHEN e.ordering = 'fifo' OR e.circuit_state = 'open' THEN 1
      ELSE least(coalesce(e.concurrency_limit, $8), $8) END AS slots,
    -- Claimed ahead: up to $11 × its slots leased in all, so the claiming worker has the next
    -- requests at hand as its earlier ones finish, instead of a claim per few finished. Only where
    -- this worker alone holds the endpoint's leases (another worker sends at most its own share,
    -- so the limit still holds cluster-wide) and never for fifo or a probing circuit; fewer for
    -- the endpoints $12 names, whose requests are too slow for that many to be sent in time.
    CASE WHEN e.ordering = 'fifo' OR e.circuit_state = 'open' OR coalesce(b.others, 0) > 0 THEN 1
      ELSE greatest(1, least($11, coalesce(($12::jsonb ->> e.id)::int, $11))) END AS ahead,
    coalesce(b.n, 0) AS busy,
    $9 - coalesce(t.n, 0) AS tenant_room,
    least($6, greatest(1, coalesce(e.total_timeout_ms, ($7::jsonb ->> e.profile)::int, $5))) + $4 AS lease_ms
  FROM endpoints e
  LEFT JOIN leased b ON b.endpoint_id = e.id
  LEFT JOIN tenant_load t ON t.tenant_id = e.tenant_id
  WHERE e.active AND e.next_due_at <= ${NOW}
    AND (e.circuit_until IS NULL OR e.circuit_until <= ${NOW})
),
-- Those with room, their own and their tenant's, in turns: each tenant's longest waiting endpoint,
-- then each one's second, and so on; at most $10 of them. (Issue 14: in plain due order, a tenant
-- with more endpoints waiting longer than the batch, or than $10, filled all of it and another
-- tenant's endpoint got nothing; test/queue/claim-fairness.test.ts.)
ranked AS MATERIALIZED (
  SELECT d.*, row_number() OVER (PARTITION BY d.tenant_id ORDER BY d.next_due_at, d.id) AS tenant_turn
  FROM due d WHERE d.slots * d.ahead > d.busy AND d.tenant_room > 0
),
considered AS MATERIALIZED (
  SELECT * FROM ranked ORDER BY tenant_turn, next_due_at, id LIMIT $10
),
-- next_due_at is only a lower bound, left in the past by leases since finished: those that really
-- have something due, probed in that order until there are as many as the batch (each can take
-- one). Endpoints with nothing due took shares of the batch before: 40 of them took a batch of 20
-- and left a due delivery unclaimed (claim-fairness.test.ts). The filter runs as the sorted rows
-- stream by, so a claim probes about a batch's worth of endpoints, not all $10. Each probe (and the
-- count below) is ordered by the due index, so it reads index entries from the oldest due on: when
-- the statistics said most rows were due, the planner read the table from its start instead,
-- through every finished row before the due ones (20,000 rows for a batch of 100,
-- claim-deliveries.test.ts).
served AS MATERIALIZED (
  SELECT o.* FROM (SELECT * FROM ranked ORDER BY tenant_turn, next_due_at, id LIMIT $10) o
  WHERE EXISTS (SELECT 1 FROM deliveries x WHERE x.endpoint_id = o.id AND x.next_attempt_at <= ${NOW}
    ORDER BY x.next_attempt_at LIMIT 1)
  ORDER BY o.tenant_turn, o.next_due_at, o.id
  LIMIT $2
),
-- The ones probed and found with nothing due: every considered one before the last served (all of
-- them if fewer were served than the batch). Their next_due_at is raised below.
idle AS MATERIALIZED (
  SELECT c.id, c.due_version, c.last_sequence, c.lease_ms FROM considered c
  WHERE NOT EXISTS (SELECT 1 FROM served s WHERE s.id = c.id)
    AND ((SELECT count(*) FROM served) < $2
      OR ROW(c.tenant_turn, c.next_due_at, c.id) < (
        SELECT s.tenant_turn, s.next_due_at, s.id FROM served s
        ORDER BY s.tenant_turn DESC, s.next_due_at DESC, s.id DESC LIMIT 1))
),
cand AS MATERIALIZED (
  -- Its due deliveries, counted up to one more than its room and share allow (a share's worth of
  -- index entries each): it takes at most that many, and the claim knows whether it took all.
  -- Planned by share alone, an endpoint with fewer due kept the rest of its share from the batch:
  -- 40 endpoints with one due each took 34 of a batch of 100 (claim-fairness.test.ts).
  SELECT c.*, (SELECT count(*) FROM (
      SELECT 1 FROM deliveries x WHERE x.endpoint_id = c.id AND x.next_attempt_at <= ${NOW}
      ORDER BY x.next_attempt_at LIMIT least(c.room, c.share_ahead) + 1) n)::int AS seen
  FROM (
    -- room: all it may take, ahead included; room_now: what can start now.
    SELECT k.*, k.slots * k.ahead - k.busy AS room, greatest(0, k.slots - k.busy) AS room_now,
      -- A fair share of the batch each, so one backlog cannot fill it: the batch shared by the
      -- tenants, each tenant's part (at most its room) by its endpoints.
      ceil(least(ceil($2::float8 / count(*) FILTER (WHERE k.turn = 1) OVER ()), k.tenant_room)
        / count(*) OVER (PARTITION BY k.tenant_id))::int AS share,
      -- Claimed ahead, the same share but of the batch alone: ahead leases are not the tenant's load.
      ceil(ceil($2::float8 / count(*) FILTER (WHERE k.turn = 1) OVER ())
        / count(*) OVER (PARTITION BY k.tenant_id))::int AS share_ahead
    FROM (
      SELECT h.*, row_number() OVER (PARTITION BY h.tenant_id ORDER BY h.next_due_at, h.id) AS turn
      FROM served h
    ) k
  ) c
),
-- First what can start now, within the tenant's room and the batch; then, from what the batch has
-- left, the claim ahead of endpoints that filled what can start (it does not count against their
-- tenant: see tenant_load).
per_tenant AS MATERIALIZED (
  SELECT c.*, least(c.seen, c.room_now, c.share) AS want,
    sum(least(c.seen, c.room_now, c.share)) OVER (PARTITION BY c.tenant_id ORDER BY c.next_due_at, c.id) AS tenant_upto
  FROM cand c
),
alloc AS MATERIALIZED (
  SELECT p.*, greatest(0, least(p.want, p.tenant_room - (p.tenant_upto - p.want)))::int AS tenant_take
  FROM per_tenant p
),
plan_now AS MATERIALIZED (
  SELECT a.*, greatest(0, least(a.tenant_take,
      $2 - (sum(a.tenant_take) OVER (ORDER BY a.turn, a.next_due_at, a.id) - a.tenant_take)))::int AS take_now
  FROM alloc a
),
plan AS MATERIALIZED (
  SELECT p.id, p.tenant_id, p.due_version, p.last_sequence, p.lease_ms, p.cap, p.seen,
    (p.take_now + greatest(0, least(p.ahead_want, $2 - sum(p.take_now) OVER ()
      - (sum(p.ahead_want) OVER (ORDER BY p.turn, p.next_due_at, p.id) - p.ahead_want))))::int AS take
  FROM (
    SELECT n.*, CASE WHEN n.take_now = n.room_now
      THEN greatest(0, least(n.seen, n.room, n.share_ahead) - n.take_now) ELSE 0 END AS ahead_want
    FROM plan_now n
  ) p
),
-- Each planned endpoint's oldest due deliveries, at most its take.
picked AS MATERIALIZED (
  SELECT x.id, x.row_ctid, p.id AS endpoint_id, p.lease_ms, x.tenant_id, x.expired, x.prev_attempt, x.lease_end
  FROM plan p CROSS JOIN LATERAL (
    SELECT d.id, d.ctid AS row_ctid, d.tenant_id, d.locked_by IS NOT NULL AS expired,
      d.attempt_count AS prev_attempt, d.next_attempt_at AS lease_end
    FROM deliveries d
    WHERE d.endpoint_id = p.id AND d.next_attempt_at <= ${NOW}
      -- fifo: only the endpoint's head, i.e. no pending fifo delivery with a lower sequence.
      AND (NOT d.fifo OR NOT EXISTS (
        SELECT 1 FROM deliveries f
        WHERE f.endpoint_id = d.endpoint_id AND f.status = 'pending' AND f.fifo AND f.sequence < d.sequence))
    ORDER BY d.next_attempt_at
    LIMIT p.take
    FOR UPDATE OF d SKIP LOCKED
  ) x
  WHERE p.take > 0
),
-- A row still under a worker's name is due only because that worker's lease ran out: it stopped
-- (crashed, killed) before recording the attempt it had claimed. That attempt is recorded as
-- \`interrupted\`, so a delivery's attempts and its attempt count agree (issue 16). Its id is fixed by
-- delivery and attempt number: recording a late result of the same attempt replaces it
-- (record-outcomes.ts), and it is never written twice. Its start is estimated as the lease's end
-- less a lease (the claim's own formula).
interrupted AS (
  INSERT INTO attempts (id, delivery_id, tenant_id, endpoint_id, attempt_number, started_at, duration_ms,
    error_kind, error_message, created_at)
  SELECT 'atm_int_' || k.id || '_' || k.prev_attempt, k.id, k.tenant_id, k.endpoint_id, k.prev_attempt,
    k.lease_end - k.lease_ms * interval '1 millisecond', 0, 'interrupted', '${INTERRUPTED_MESSAGE}',
    ${NOW}
  FROM picked k WHERE k.expired AND k.prev_attempt > 0
  ON CONFLICT (delivery_id, attempt_number, id) DO NOTHING
),
claimed AS (
  UPDATE deliveries d
  SET next_attempt_at = ${NOW} + k.lease_ms * interval '1 millisecond',
      locked_by = $3,
      attempt_count = d.attempt_count + 1
  -- The rows by address (a TID scan; locked above, so the address is the current version's). Joined
  -- by id alone, the planner took the batch for thousands of rows (its LIMIT is a column) and hashed
  -- a sequential scan of the whole table against it once many rows were due: 7 of a claim's 12 ms
  -- with 20,000 due (test/queue/claim-deliveries.test.ts).
  FROM picked k WHERE d.ctid = ANY (ARRAY(SELECT row_ctid FROM picked)) AND d.id = k.id
  RETURNING d.id, d.tenant_id, d.endpoint_id, d.event_ids, d.event_type, d.sequence, d.fifo, d.attempt_count
),
-- Endpoints that gave fewer than their take, or all they had due, have nothing more due now (and
-- those considered with nothing due at all never had): their next due time goes up
-- to their next pending delivery (or the lease just taken), unless a write made something due
-- since this statement's snapshot (due_version, last_sequence) or holds the row (skip it: that
-- writer lowers next_due_at itself).
drained AS MATERIALIZED (
  SELECT p.id, p.due_version, p.last_sequence, p.lease_ms,
    coalesce(array_agg(k.id) FILTER (WHERE k.id IS NOT NULL), '{}') AS taken
  FROM plan p LEFT JOIN picked k ON k.endpoint_id = p.id
  WHERE p.take > 0
  GROUP BY p.id, p.due_version, p.last_sequence, p.lease_ms, p.take, p.seen
  -- Fewer taken than planned, or all it had due (counted in full: fewer than the count's bound).
  HAVING count(k.id) < p.take OR p.take = p.seen
  UNION ALL
  -- Considered with nothing due: raised too, to their next pending time (NULL: none).
  SELECT i.id, i.due_version, i.last_sequence, i.lease_ms, '{}'::text[] FROM idle i
),
raisable AS (
  SELECT e.id FROM endpoints e JOIN drained r ON r.id = e.id
  WHERE e.due_version = r.due_version AND e.last_sequence = r.last_sequence
  FOR UPDATE OF e SKIP LOCKED
),
raised AS (
  UPDATE endpoints e SET next_due_at = (
    SELECT min(t) FROM (
      SELECT min(x.next_attempt_at) AS t FROM deliveries x
      WHERE x.endpoint_id = e.id AND x.next_attempt_at IS NOT NULL AND x.id <> ALL (r.taken)
      UNION ALL
      SELECT ${NOW} + r.lease_ms * interval '1 millisecond' WHERE cardinality(r.taken) > 0) m)
  FROM raisable z JOIN drained r ON r.id = z.id
  WHERE e.id = z.id
  RETURNING e.id
),
summary AS (
  -- Due endpoints that got less than they could take: left waiting for room (their own or their
  -- tenant's) or cut to a share of the batch. A finished request may make them claimable.
  -- Planned ones: those that had more due than they took. Not \`take < room\`: that missed an
  -- endpoint that filled its room with more waiting (the dispatcher then slept a poll interval
  -- before claiming again: a backlog went at its limit per poll), and counted drained ones.
  SELECT ARRAY(SELECT id FROM due WHERE slots * ahead <= busy OR tenant_room <= 0
    UNION SELECT id FROM plan WHERE take < seen) AS limited
)
-- The one-row summary, left-joined, so the answer has a row even when nothing was claimed.
-- The endpoint's configuration once per endpoint in the batch, not once per delivery: a batch is
-- often one endpoint's, and parsing the same columns a hundred times was a tenth of a claim's cost.
-- Read from endpoints only there, by primary key: joined to every claimed row, the endpoint row was
-- read once per delivery (221 row reads for a claim of 200 of one endpoint; now 22).
SELECT s.limited, c.*,
  CASE WHEN c.first_of_endpoint
    THEN (SELECT row_to_json(cfg) FROM (SELECT ${ENDPOINT_CONFIG_COLUMNS} FROM endpoints e
      WHERE e.id = c.endpoint_id) AS cfg) END AS endpoint,
  -- Each event by its full primary key, in a scalar subquery the planner cannot flatten: as a join
  -- (or with \`id = ANY(...)\`) and without statistics (PGlite never auto-analyzes; a fresh
  -- PostgreSQL table until autovacuum gets to it) it may scan all the tenant's events per delivery.
  (SELECT coalesce(json_agg((
       SELECT json_build_object(
         'id', v.id, 'type', v.type, 'data', v.data, 'purged', v.data IS NULL,
         'occurredAt', floor(extract(epoch FROM v.occurred_at) * 1000),
         'createdAt', floor(extract(epoch FROM v.created_at) * 1000),
         'traceContext', v.trace_context)
       FROM events v WHERE v.tenant_id = c.tenant_id AND v.id = x.id) ORDER BY x.n), '[]')
   FROM unnest(c.event_ids) WITH ORDINALITY AS x(id, n)) AS events
FROM summary s
LEFT JOIN (SELECT claimed.*, p.cap, row_number() OVER (PARTITION BY claimed.endpoint_id) = 1 AS first_of_endpoint
   FROM claimed JOIN plan p ON p.id = claimed.endpoint_id) c ON true`,
  { plan: 'custom' },
);

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
 * @example const { deliveries } = await claimDeliveries(db, { workerId: 'w1', limit: 100, leaseMs: 30_000, defaultTotalTimeoutMs: 15_000 })
 */
export async function claimDeliveries(q: Queryable, opts: ClaimOptions): Promise<ClaimResult> {
  const rows = await q.query<Row>(CLAIM_SQL, [
    nowParam(opts.now),
    opts.limit,
    opts.workerId,
    opts.leaseMs,
    opts.defaultTotalTimeoutMs,
    opts.maxAttemptMs ?? 60_000,
    JSON.stringify(opts.profileBudgets ?? {}),
    opts.maxInFlightPerEndpoint ?? 64,
    opts.maxInFlightPerTenant ?? 500,
    opts.maxEndpoints ?? 1_000,
    opts.claimAhead ?? 1,
    JSON.stringify(opts.aheadByEndpoint ?? {}),
  ]);
  const endpoints = new Map<string, ClaimedEndpoint>();
  for (const row of rows) {
    const e = row.endpoint;
    if (e) {
      const until = e.previous_secret_until;
      const endpoint = toClaimedEndpoint(row.endpoint_id, {
        ...e,
        previous_secret_until: until === null ? null : new Date(until),
      });
      endpoint.maxInFlight = row.cap;
      endpoints.set(row.endpoint_id, endpoint);
    }
  }
  const deliveries: ClaimedDelivery[] = [];
  let limited: string[] = [];
  for (const row of rows) {
    limited = row.limited;
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
      // The events of a delivery come from one publish call: the first one's context is theirs.
      traceContext: row.events[0]?.traceContext ?? null,
    });
  }
  return {
    deliveries,
    moreDue: deliveries.length >= opts.limit,
    limited: limited.length > 0,
    limitedEndpoints: limited,
  };
}
