/**
 * Creating deliveries: each takes its endpoint's next sequence number, and all of a publish call's
 * deliveries go in with one statement that also takes the sequence numbers and queues the NOTIFY.
 *
 * Endpoint rows are locked in id order, so two publishes sharing endpoints cannot deadlock; the lock
 * lasts until commit, which is what makes sequences gapless and increasing in commit order. Keeping
 * it to one statement (or, with no caller-chosen ids, one statement for the whole publish, events
 * included, in autocommit) keeps that lock for one round trip instead of several.
 *
 * Deliveries with `leaseMs` are handed over to `workerId` (see src/queue/handoff.ts): no row is
 * written for them now, but one `handoffs` row for all of them, under the lease; their rows are
 * written once, with their outcomes.
 */
import { HeraldError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import { prepared, type Queryable } from '../db/db.ts';
import { DELIVERY_CHANNEL_SQL, NOTIFY_PAYLOAD_MAX } from '../queue/notify.ts';
import { nowParam, nowSql } from '../queue/queue-time.ts';
import type { NewDelivery } from '../rules/fan-out.ts';
import type { CandidateVersions } from './types.ts';

export type { NewDelivery };

/** A delivery to create; its sequence is taken from the endpoint when it is inserted. */
export interface InsertedDelivery extends NewDelivery {
  sequence: number;
  /** Handed over to this process's dispatcher: the handoff row standing in for its row; else null. */
  handoffId: string | null;
}

export interface ClaimAs {
  workerId: string;
  /** The queue's injected time, or null for the database's now(). */
  now: Date | null;
}

/** An event row of the one-statement publish. */
export interface NewEventRow {
  id: string;
  type: string;
  data: unknown;
  origin: string | null;
  occurred_at: string | null;
  /** The call it was published in (coalesced calls share a statement, not a batch id). */
  batch_id: string;
  /** The call's W3C trace context (src/tracing/trace-context.ts); absent: none. */
  trace_context?: string;
}

// $1 tenant, $2 per-endpoint counts (all, and handed over), $3 the deliveries not handed over,
// $4 worker id, $5 injected now, $6 the handoff's id (null: none handed over), $7 its lease (ms), $8
// the deliveries handed over (never parsed here: kept as text in the handoff row); `only` a condition every
// delivery waits on (the publish statement's freshness check).
const deliveryCtes = (only = 'true') => `
c AS (SELECT * FROM jsonb_to_recordset($2::jsonb) AS c(id text, n int8, leased int8) WHERE ${only}),
-- NO KEY UPDATE, the lock the UPDATE below takes anyway: every writer of endpoint rows takes it in
-- id order, and it leaves alone the key-share lock recording takes on the endpoints of the
-- handed-over rows it writes (src/queue/attempt-rows.ts) while publishes to them hold this one.
locked AS (
  SELECT e.id FROM endpoints e JOIN c ON c.id = e.id WHERE e.tenant_id = $1 ORDER BY e.id FOR NO KEY UPDATE OF e
),
seq AS (
  -- The endpoint's next due time comes down to now when it gets due rows (claim-deliveries.ts);
  -- handed-over deliveries have no row to claim. last_sequence changing is what tells a concurrent
  -- claim not to raise next_due_at past new rows.
  UPDATE endpoints e SET last_sequence = e.last_sequence + c.n,
    next_due_at = CASE WHEN c.n > c.leased THEN least(e.next_due_at, now()) ELSE e.next_due_at END
  FROM c JOIN locked l ON l.id = c.id
  WHERE e.id = c.id
  RETURNING e.id, e.last_sequence - c.n AS base
),
-- Rows only for the deliveries not handed over: a handed-over one's row is written once, with its
-- outcome (src/queue/attempt-rows.ts), and the handoff row stands in for it until then.
ins AS (
  INSERT INTO deliveries (id, tenant_id, endpoint_id, event_id, event_ids, event_type, sequence, status,
    fifo, next_attempt_at)
  SELECT d.id, $1, d.endpoint_id, d.event_ids[1], d.event_ids, d.event_type, seq.base + d.k, 'pending',
    d.fifo, now()
  FROM jsonb_to_recordset($3::jsonb)
    AS d(id text, endpoint_id text, event_ids text[], event_type text, k int8, fifo boolean)
  JOIN seq ON seq.id = d.endpoint_id
),
handed AS (
  INSERT INTO handoffs (id, tenant_id, worker_id, lease_until, bases, counts, deliveries)
  SELECT $6::text, $1, $4::text, ${nowSql('$5')} + $7::float8 * interval '1 millisecond',
    (SELECT jsonb_object_agg(seq.id, seq.base) FROM seq),
    (SELECT jsonb_object_agg(c.id, c.leased) FROM c WHERE c.leased > 0),
    $8::text
  WHERE $6::text IS NOT NULL AND EXISTS (SELECT 1 FROM seq JOIN c ON c.id = seq.id WHERE c.leased > 0)
)`;
const DELIVERY_CTES = deliveryCtes();

// Dispatchers only need waking for rows they can claim: handed-over deliveries have none. The
// payload names the endpoints given rows — those whose count in \`c\` is above the handed-over one
// (comma-separated; '' when too many for a NOTIFY's 8,000 bytes: any
// endpoint), so a dispatcher that already holds a limit's worth of each one's deliveries need not
// claim (`needsClaim`, src/queue/notify.ts).
const NOTIFY_ROW = `SELECT 'n', NULL, NULL, NULL::timestamptz, NULL::timestamptz
  FROM (SELECT pg_notify(${DELIVERY_CHANNEL_SQL}, CASE WHEN length(u.ids) <= ${NOTIFY_PAYLOAD_MAX} THEN u.ids ELSE '' END)
    FROM (SELECT string_agg(DISTINCT seq.id, ',') AS ids FROM seq JOIN c ON c.id = seq.id WHERE c.n > c.leased) u
    WHERE u.ids IS NOT NULL) AS notified`;

// What the deliveries' statements answer: not a row per delivery but one per endpoint given some,
// with the endpoint's last sequence before them ('q': id, base). The rest follows from what was
// sent — a delivery's sequence is that base plus its \`k\` (1, 2, … per endpoint), and it went in
// was handed over exactly when it had a lease — and an endpoint deleted since it was read has no row, and
// got nothing.
const BASE_ROWS = `SELECT 'q', id, base, NULL::timestamptz, NULL::timestamptz FROM seq`;

const INSERT_DELIVERIES_SQL = prepared(
  'herald_insert_deliveries',
  `WITH ${DELIVERY_CTES}
SELECT 'q' AS kind, id, base AS sequence, NULL::timestamptz AS created_at, NULL::timestamptz AS occurred_at
FROM seq
UNION ALL ${NOTIFY_ROW}`,
);

/** Each stored event's times, as the database wrote them (it normalises what it was given). */
export type StoredTimes = Map<string, { created_at: Date; occurred_at: Date | null }>;

/** A call's events, from parameter `param` (a JSON array of {@link NewEventRow}); $1 the tenant. */
const insertEventsFrom = (
  param: string,
) => `INSERT INTO events (tenant_id, id, type, data, origin, occurred_at, batch_id, trace_context)
  SELECT $1, e.id, e.type, e.data, e.origin, e.occurred_at, e.batch_id, e.trace_context
  FROM json_to_recordset(${param}::json)
    AS e(id text, type text, data json, origin text, occurred_at timestamptz, batch_id text, trace_context text)`;

// events.tenant_id has no foreign key (migration 022): a statement that inserts events first takes a
// key-share lock on the tenant row, once — what the key's trigger did for every event — so a
// tenant's deletion waits for it and then deletes what it wrote (src/store/tenants.ts). No row: the
// tenant is gone, nothing is written, and a 't' row says so.
const TENANT_LOCK = `tenant AS MATERIALIZED (SELECT 1 FROM tenants WHERE id = $1 FOR KEY SHARE)`;

// Events whose ids the caller chose: a repeat inserts nothing (publish-events.ts settles it).
const INSERT_EVENTS_SQL = prepared(
  'herald_insert_events',
  `WITH ${TENANT_LOCK},
ins AS (
  ${insertEventsFrom('$2')}
  WHERE EXISTS (SELECT 1 FROM tenant)
  ON CONFLICT (tenant_id, id) DO NOTHING
  RETURNING id, created_at, occurred_at
)
SELECT 'e' AS kind, id, created_at, occurred_at FROM ins
UNION ALL SELECT 't', NULL, NULL, NULL WHERE NOT EXISTS (SELECT 1 FROM tenant)`,
);

// The whole publish in one statement: $9 the events. $10/$11: the tenant's endpoints version and the
// catalog's that the caller planned with (src/publish/candidate-cache.ts); when either moved, the
// statement writes nothing and answers a 'stale' row. NULL: no check.
const PUBLISH_SQL = prepared(
  'herald_publish',
  `WITH ${TENANT_LOCK},
fresh AS MATERIALIZED (
  SELECT EXISTS (SELECT 1 FROM tenant) AND ($10::int8 IS NULL OR EXISTS (SELECT 1 FROM tenants t, catalog_version v
    WHERE t.id = $1 AND t.endpoints_version = $10::int8 AND v.version = $11::int8)) AS ok
),
ev AS (
  ${insertEventsFrom('$9')}
  WHERE (SELECT ok FROM fresh)
  RETURNING id, created_at, occurred_at
),
${deliveryCtes('(SELECT ok FROM fresh)')}
-- The events are read (so inserted) first: the endpoint locks are taken when \`seq\` is read (the
-- base rows; \`ins\`, read by nothing, runs at the end), and everything done before that is time
-- they are not held, which other publishes to the same endpoints would spend waiting.
-- The events' stored times: every event of the statement has its created_at (now()), answered once
-- ('c'); an occurred_at only where one was given, as PostgreSQL normalised it ('e').
SELECT 'c' AS kind, NULL AS id, NULL::int8 AS sequence, now() AS created_at, NULL::timestamptz AS occurred_at
  FROM fresh WHERE ok
UNION ALL SELECT 'e', id, NULL, created_at, occurred_at FROM ev WHERE occurred_at IS NOT NULL
UNION ALL ${BASE_ROWS}
UNION ALL SELECT 's', NULL, NULL, NULL, NULL FROM fresh WHERE NOT ok
UNION ALL SELECT 't', NULL, NULL, NULL, NULL WHERE NOT EXISTS (SELECT 1 FROM tenant)
UNION ALL ${NOTIFY_ROW}`,
);

interface ResultRow {
  kind: 'c' | 'e' | 'n' | 'q' | 's' | 't';
  id: string;
  sequence: number;
  created_at: Date | null;
  occurred_at: Date | null;
}

function deliveryParams(
  tenantId: string,
  deliveries: NewDelivery[],
  claimAs: ClaimAs | undefined,
): { params: unknown[]; handoffId: string | null } {
  // Per endpoint: how many deliveries, and how many of them are handed over.
  const counts = new Map<string, { n: number; leased: number }>();
  let longestLease: number | null = null;
  const due: object[] = [];
  const handed: object[] = [];
  for (const d of deliveries) {
    const leaseMs = claimAs && d.leaseMs !== undefined ? d.leaseMs : null;
    let c = counts.get(d.endpointId);
    if (!c) {
      c = { n: 0, leased: 0 };
      counts.set(d.endpointId, c);
    }
    const k = ++c.n;
    if (leaseMs !== null) {
      c.leased++;
      if (longestLease === null || leaseMs > longestLease) longestLease = leaseMs;
    }
    if (leaseMs === null)
      due.push({
        id: d.id,
        endpoint_id: d.endpointId,
        event_ids: d.eventIds,
        event_type: d.eventType,
        k,
        fifo: d.fifo,
      });
    // The handoff row keeps these as text (migration 023): short keys, as it is written and
    // deleted for every publish — a batch's JSON is kept out of line, and its size is the cost.
    else handed.push({ i: d.id, e: d.endpointId, v: d.eventIds, t: d.eventType, k });
  }
  // The handoff's lease is its longest delivery's: recovery must not take over one still out.
  const handoffId = longestLease === null ? null : newId('hof');
  return {
    params: [
      tenantId,
      JSON.stringify([...counts].map(([id, c]) => ({ id, n: c.n, leased: c.leased }))),
      JSON.stringify(due),
      claimAs?.workerId ?? null,
      nowParam(claimAs?.now),
      handoffId,
      longestLease,
      handoffId === null ? null : JSON.stringify(handed),
    ],
    handoffId,
  };
}

/** The deliveries written, in the order given, from the endpoints' base rows ({@link BASE_ROWS}). */
function inserted(
  deliveries: NewDelivery[],
  rows: ResultRow[],
  handoffId: string | null,
): InsertedDelivery[] {
  const next = new Map<string, number>();
  for (const r of rows) if (r.kind === 'q') next.set(r.id, r.sequence + 1);
  const out: InsertedDelivery[] = [];
  // Endpoints deleted since they were read got nothing.
  for (const d of deliveries) {
    const sequence = next.get(d.endpointId);
    if (sequence === undefined) continue;
    next.set(d.endpointId, sequence + 1);
    // A literal, not a spread of d: one per delivery on the publish path (a spread copies slowly).
    out.push({
      id: d.id,
      endpointId: d.endpointId,
      eventIds: d.eventIds,
      eventType: d.eventType,
      fifo: d.fifo,
      leaseMs: d.leaseMs,
      heldBehind: d.heldBehind,
      sequence,
      handoffId: handoffId !== null && d.leaseMs !== undefined ? handoffId : null,
    });
  }
  return out;
}

/**
 * Inserts a call's events inside the caller's transaction; answers the times of those it created
 * (an id already stored creates nothing).
 */
export async function insertEvents(
  tx: Queryable,
  tenantId: string,
  eventsJson: string,
): Promise<StoredTimes> {
  const rows = await tx.query<{ kind: 'e' | 't'; id: string; created_at: Date; occurred_at: Date | null }>(
    INSERT_EVENTS_SQL,
    [tenantId, eventsJson],
  );
  if (rows.some((r) => r.kind === 't')) throw new HeraldError('TENANT_NOT_FOUND');
  return new Map(rows.map((r) => [r.id, { created_at: r.created_at, occurred_at: r.occurred_at }]));
}

/**
 * Creates deliveries inside the caller's transaction, with their sequence numbers, and wakes the
 * dispatchers on commit. Answers the deliveries created, in the order given.
 *
 * @example await db.transaction((tx) => insertDeliveries(tx, 'acme', planned))
 */
export async function insertDeliveries(
  tx: Queryable,
  tenantId: string,
  deliveries: NewDelivery[],
  claimAs?: ClaimAs,
): Promise<InsertedDelivery[]> {
  if (deliveries.length === 0) return [];
  const { params, handoffId } = deliveryParams(tenantId, deliveries, claimAs);
  const rows = await tx.query<ResultRow>(INSERT_DELIVERIES_SQL, params);
  return inserted(deliveries, rows, handoffId);
}

/**
 * The whole publish of events whose ids are new by construction (Herald generated them): events,
 * sequences and deliveries in one statement, committed on its own. Answers the deliveries created
 * and each event's stored `created_at`/`occurred_at`.
 */
export async function insertEventsAndDeliveries(
  q: Queryable,
  tenantId: string,
  /** The events as a JSON array of {@link NewEventRow}. */
  eventsJson: string,
  /** Their ids, in any order. */
  eventIds: readonly string[],
  deliveries: NewDelivery[],
  claimAs?: ClaimAs,
  /** The versions the deliveries were planned with: written only if they are still current. */
  plannedWith?: CandidateVersions,
): Promise<{ deliveries: InsertedDelivery[]; stored: StoredTimes; stale: boolean }> {
  const { params, handoffId } = deliveryParams(tenantId, deliveries, claimAs);
  const rows = await q.query<ResultRow>(PUBLISH_SQL, [
    ...params,
    eventsJson,
    plannedWith?.endpoints ?? null,
    plannedWith?.catalog ?? null,
  ]);
  const stored: StoredTimes = new Map();
  let createdAt: Date | undefined;
  const occurred = new Map<string, Date>();
  let stale = false;
  for (const r of rows) {
    if (r.kind === 'c') createdAt = r.created_at!;
    else if (r.kind === 'e') occurred.set(r.id, r.occurred_at!);
    else if (r.kind === 's') stale = true;
    else if (r.kind === 't') throw new HeraldError('TENANT_NOT_FOUND');
  }
  if (createdAt)
    for (const id of eventIds)
      stored.set(id, { created_at: createdAt, occurred_at: occurred.get(id) ?? null });
  return { deliveries: inserted(deliveries, rows, handoffId), stored, stale };
}
