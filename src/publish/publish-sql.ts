/**
 * Creating deliveries: each takes its endpoint's next sequence number, and all of a publish call's
 * deliveries go in with one statement that also takes the sequence numbers and queues the NOTIFY.
 *
 * Endpoint rows are locked in id order, so two publishes sharing endpoints cannot deadlock; the lock
 * lasts until commit, which is what makes sequences gapless and increasing in commit order. Keeping
 * it to one statement (or, with no caller-chosen ids, one statement for the whole publish, events
 * included, in autocommit) keeps that lock for one round trip instead of several.
 *
 * A delivery with `leaseMs` is inserted already claimed by `workerId` (see src/queue/handoff.ts).
 */
import { HeraldError } from '../core/errors.ts';
import { prepared, type Queryable } from '../db/db.ts';
import { DELIVERY_CHANNEL_SQL, NOTIFY_PAYLOAD_MAX } from '../queue/notify.ts';
import { nowParam, nowSql } from '../queue/queue-time.ts';
import type { NewDelivery } from '../rules/fan-out.ts';
import type { CandidateVersions } from './types.ts';

export type { NewDelivery };

/** A delivery to create; its sequence is taken from the endpoint when it is inserted. */
export interface InsertedDelivery extends NewDelivery {
  sequence: number;
  /** Inserted claimed by the handoff's worker. */
  claimed: boolean;
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

// $1 tenant, $2 per-endpoint counts, $3 deliveries, $4 worker id, $5 injected now;
// `only` a condition every delivery waits on (the publish statement's freshness check).
const deliveryCtes = (only = 'true') => `
c AS (SELECT * FROM jsonb_to_recordset($2::jsonb) AS c(id text, n int8, lease_ms float8) WHERE ${only}),
locked AS (
  SELECT e.id FROM endpoints e JOIN c ON c.id = e.id WHERE e.tenant_id = $1 ORDER BY e.id FOR UPDATE OF e
),
seq AS (
  -- The endpoint's next due time comes down to its new deliveries' (claim-deliveries.ts): now for
  -- due ones, the lease's end when all were handed over claimed. last_sequence changing is what
  -- tells a concurrent claim not to raise it past them.
  UPDATE endpoints e SET last_sequence = e.last_sequence + c.n,
    next_due_at = least(e.next_due_at, CASE WHEN c.lease_ms IS NULL THEN now()
      ELSE ${nowSql('$5')} + c.lease_ms * interval '1 millisecond' END)
  FROM c JOIN locked l ON l.id = c.id
  WHERE e.id = c.id
  RETURNING e.id, e.last_sequence - c.n AS base
),
ins AS (
  INSERT INTO deliveries (id, tenant_id, endpoint_id, event_id, event_ids, event_type, sequence, status,
    fifo, attempt_count, locked_by, next_attempt_at)
  SELECT d.id, $1, d.endpoint_id, d.event_ids[1], d.event_ids, d.event_type, seq.base + d.k, 'pending',
    d.fifo,
    CASE WHEN d.lease_ms IS NULL THEN 0 ELSE 1 END,
    CASE WHEN d.lease_ms IS NULL THEN NULL ELSE $4::text END,
    CASE WHEN d.lease_ms IS NULL THEN now()
      ELSE ${nowSql('$5')} + d.lease_ms * interval '1 millisecond' END
  FROM jsonb_to_recordset($3::jsonb)
    AS d(id text, endpoint_id text, event_ids text[], event_type text, k int8, fifo boolean, lease_ms float8)
  JOIN seq ON seq.id = d.endpoint_id
)`;
const DELIVERY_CTES = deliveryCtes();

// Dispatchers only need waking for rows they can claim: handed-off rows are already taken. The
// payload names the endpoints of those rows — those given a delivery without a lease, whose
// `lease_ms` in \`c\` is then NULL (comma-separated; '' when too many for a NOTIFY's 8,000 bytes: any
// endpoint), so a dispatcher that already holds a limit's worth of each one's deliveries need not
// claim (`needsClaim`, src/queue/notify.ts).
const NOTIFY_ROW = `SELECT 'n', NULL, NULL, NULL::timestamptz, NULL::timestamptz
  FROM (SELECT pg_notify(${DELIVERY_CHANNEL_SQL}, CASE WHEN length(u.ids) <= ${NOTIFY_PAYLOAD_MAX} THEN u.ids ELSE '' END)
    FROM (SELECT string_agg(DISTINCT seq.id, ',') AS ids FROM seq JOIN c ON c.id = seq.id WHERE c.lease_ms IS NULL) u
    WHERE u.ids IS NOT NULL) AS notified`;

// What the deliveries' statements answer: not a row per delivery but one per endpoint given some,
// with the endpoint's last sequence before them ('q': id, base). The rest follows from what was
// sent — a delivery's sequence is that base plus its \`k\` (1, 2, … per endpoint), and it went in
// claimed exactly when it had a lease — and an endpoint deleted since it was read has no row, and
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

// The whole publish in one statement: $6 the events. $7/$8: the tenant's endpoints version and the
// catalog's that the caller planned with (src/publish/candidate-cache.ts); when either moved, the
// statement writes nothing and answers a 'stale' row. NULL: no check.
const PUBLISH_SQL = prepared(
  'herald_publish',
  `WITH ${TENANT_LOCK},
fresh AS MATERIALIZED (
  SELECT EXISTS (SELECT 1 FROM tenant) AND ($7::int8 IS NULL OR EXISTS (SELECT 1 FROM tenants t, catalog_version v
    WHERE t.id = $1 AND t.endpoints_version = $7::int8 AND v.version = $8::int8)) AS ok
),
ev AS (
  ${insertEventsFrom('$6')}
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
): unknown[] {
  // Per endpoint: how many deliveries, and the shortest lease among them (null: some go in due).
  const counts = new Map<string, { n: number; lease_ms: number | null }>();
  const rows = deliveries.map((d) => {
    const leaseMs = claimAs && d.leaseMs !== undefined ? d.leaseMs : null;
    const c = counts.get(d.endpointId);
    const k = (c?.n ?? 0) + 1;
    counts.set(d.endpointId, {
      n: k,
      lease_ms: !c ? leaseMs : c.lease_ms === null || leaseMs === null ? null : Math.min(c.lease_ms, leaseMs),
    });
    return {
      id: d.id,
      endpoint_id: d.endpointId,
      event_ids: d.eventIds,
      event_type: d.eventType,
      k,
      fifo: d.fifo,
      lease_ms: leaseMs,
    };
  });
  return [
    tenantId,
    JSON.stringify([...counts].map(([id, c]) => ({ id, n: c.n, lease_ms: c.lease_ms }))),
    JSON.stringify(rows),
    claimAs?.workerId ?? null,
    nowParam(claimAs?.now),
  ];
}

/** The deliveries written, in the order given, from the endpoints' base rows ({@link BASE_ROWS}). */
function inserted(
  deliveries: NewDelivery[],
  rows: ResultRow[],
  claimAs: ClaimAs | undefined,
): InsertedDelivery[] {
  const next = new Map<string, number>();
  for (const r of rows) if (r.kind === 'q') next.set(r.id, r.sequence + 1);
  const out: InsertedDelivery[] = [];
  // Endpoints deleted since they were read got nothing.
  for (const d of deliveries) {
    const sequence = next.get(d.endpointId);
    if (sequence === undefined) continue;
    next.set(d.endpointId, sequence + 1);
    out.push({ ...d, sequence, claimed: claimAs !== undefined && d.leaseMs !== undefined });
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
  const rows = await tx.query<ResultRow>(
    INSERT_DELIVERIES_SQL,
    deliveryParams(tenantId, deliveries, claimAs),
  );
  return inserted(deliveries, rows, claimAs);
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
  const rows = await q.query<ResultRow>(PUBLISH_SQL, [
    ...deliveryParams(tenantId, deliveries, claimAs),
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
  return { deliveries: inserted(deliveries, rows, claimAs), stored, stale };
}
