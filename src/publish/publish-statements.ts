/**
 * The SQL of publishing (src/publish/publish-sql.ts runs it): the events, each endpoint's sequence
 * numbers, the deliveries' rows or their handoff, and the NOTIFY.
 *
 * Each statement comes in the shapes a call can take (`Shape`): no delivery at all, deliveries all
 * handed over (what `herald serve` makes), all given rows, or both. A prepared statement's generic
 * plan is initialised in full on every execution, whatever its CTEs find: a single-event publish
 * with no endpoint spent over a quarter of the database's CPU starting the executor for the
 * delivery CTEs it did not use. A shape holds only the CTEs it needs (docs/decisions.md, "A publish
 * runs the statement of its shape").
 *
 * Parameters go by name (`Param`); each statement numbers the ones it uses, in order of first use,
 * and {@link bind} lays the values out to match, since a prepared statement cannot leave one of its
 * parameters unused (its type would be unknown).
 */
import { prepared, type Sql } from '../db/db.ts';
import { DELIVERY_CHANNEL_SQL, NOTIFY_PAYLOAD_MAX } from '../queue/notify.ts';
import { nowSql } from '../queue/queue-time.ts';

/**
 * tenant; counts: per endpoint, how many deliveries and how many of them handed over (JSON); due:
 * the deliveries not handed over (JSON); worker, now (injected, or null), handoff (its id), lease
 * (ms) and handed (the deliveries handed over, JSON kept as text): the handoff; events (JSON);
 * endpointsVersion and catalogVersion: what the caller planned with (null: no check).
 */
export type Param =
  | 'tenant'
  | 'counts'
  | 'due'
  | 'worker'
  | 'now'
  | 'handoff'
  | 'lease'
  | 'handed'
  | 'events'
  | 'endpointsVersion'
  | 'catalogVersion';

/** Which deliveries a statement writes: none, handed over only, rows only, or both. */
export type Shape = 'none' | 'handed' | 'rows' | 'mixed';

export interface Statement {
  readonly sql: Sql;
  /** The parameters it takes, in their order ($1, $2, …). */
  readonly params: readonly Param[];
}

function statement(name: string, build: (p: (key: Param) => string) => string): Statement {
  const params: Param[] = [];
  const p = (key: Param) => {
    let i = params.indexOf(key);
    if (i < 0) i = params.push(key) - 1;
    return `$${i + 1}`;
  };
  return { sql: prepared(name, build(p)), params };
}

/** The values of a statement's parameters, in its order. */
export function bind(s: Statement, values: Partial<Record<Param, unknown>>): unknown[] {
  return s.params.map((k) => values[k] ?? null);
}

/** The shape of a call's deliveries, from how many are handed over. */
export function shapeOf(deliveries: number, handedOver: number): Shape {
  if (deliveries === 0) return 'none';
  if (handedOver === deliveries) return 'handed';
  return handedOver === 0 ? 'rows' : 'mixed';
}

type P = (key: Param) => string;

/**
 * How many endpoints a statement's deliveries go to: one, or any number. With several, their rows
 * are locked in id order before they are written; one row needs no order (`deliveryCtes`).
 */
export type Endpoints = 'one' | 'many';

/**
 * The CTEs taking sequence numbers and writing the deliveries of a shape with some; `only` a
 * condition every delivery waits on (the publish statement's freshness check).
 */
function deliveryCtes(p: P, shape: Exclude<Shape, 'none'>, endpoints: Endpoints, only = 'true'): string {
  const ctes = [
    `c AS (SELECT * FROM jsonb_to_recordset(${p('counts')}::jsonb) AS c(id text, n int8, leased int8) WHERE ${only})`,
  ];
  // NO KEY UPDATE, the lock the UPDATE below takes anyway: every writer of several endpoint rows
  // takes it in id order, and it leaves alone the key-share lock recording takes on the endpoints of
  // the handed-over rows it writes (src/queue/attempt-rows.ts) while publishes to them hold this one.
  // A statement for one endpoint locks one row, which no order can deadlock, and leaves it to the
  // UPDATE: the lock's own step cost the database ~30 µs of a ~280 µs single-endpoint publish.
  // The rows are found by primary key (= ANY of an array, a scalar subquery for one): a join to `c`,
  // which the planner guesses at 100 rows, was planned as a scan of all the tenant's endpoints.
  const dueNow = (n: string, leased: string) =>
    shape === 'handed'
      ? ''
      : `,
    next_due_at = CASE WHEN ${n} > ${leased} THEN least(e.next_due_at, now()) ELSE e.next_due_at END`;
  // The endpoint's next due time comes down to now when it gets due rows (claim-deliveries.ts);
  // handed-over deliveries have no row to claim. last_sequence changing is what tells a concurrent
  // claim not to raise next_due_at past new rows.
  if (endpoints === 'many')
    ctes.push(
      // Locked by id alone, so that the primary key is the only index the lock can be planned with
      // (with the tenant in its condition, a generic plan made on small tenants' statistics read a
      // large tenant's endpoints through the tenant's index), the tenant checked on what it locked
      // (a materialised CTE takes no condition from outside), then updated by id as well. Not by
      // the locked rows' addresses: a row another publish updated while this one waited for its
      // lock is locked in its new version, which this statement's snapshot does not see — a scan
      // by that address finds nothing, where one by id finds the old version and follows it to the
      // new. Ids are unique across tenants: another tenant's id, which no caller sends, is locked
      // for the statement and not written.
      `lock_rows AS MATERIALIZED (
  SELECT e.id, e.tenant_id FROM endpoints e
  WHERE e.id = ANY (ARRAY(SELECT id FROM c))
  ORDER BY e.id FOR NO KEY UPDATE OF e
)`,
      `locked AS (SELECT id FROM lock_rows WHERE tenant_id = ${p('tenant')})`,
      `seq AS (
  UPDATE endpoints e SET last_sequence = e.last_sequence + c.n${dueNow('c.n', 'c.leased')}
  FROM c
  WHERE e.id = ANY (ARRAY(SELECT id FROM locked)) AND e.id = c.id
  RETURNING e.id, e.last_sequence - c.n AS base
)`,
    );
  else
    ctes.push(`seq AS (
  UPDATE endpoints e SET last_sequence = e.last_sequence + (SELECT n FROM c)${dueNow('(SELECT n FROM c)', '(SELECT leased FROM c)')}
  WHERE e.id = (SELECT id FROM c) AND e.tenant_id = ${p('tenant')}
  RETURNING e.id, e.last_sequence - (SELECT n FROM c) AS base
)`);
  // Rows only for the deliveries not handed over: a handed-over one's row is written once, with its
  // outcome (src/queue/attempt-rows.ts), and the handoff row stands in for it until then.
  if (shape !== 'handed')
    ctes.push(`ins AS (
  INSERT INTO deliveries (id, tenant_id, endpoint_id, event_id, event_ids, event_type, sequence, status,
    fifo, next_attempt_at)
  SELECT d.id, ${p('tenant')}, d.endpoint_id, d.event_ids[1], d.event_ids, d.event_type, seq.base + d.k, 'pending',
    d.fifo, now()
  FROM jsonb_to_recordset(${p('due')}::jsonb)
    AS d(id text, endpoint_id text, event_ids text[], event_type text, k int8, fifo boolean)
  JOIN seq ON seq.id = d.endpoint_id
)`);
  if (shape !== 'rows')
    ctes.push(`handed AS (
  INSERT INTO handoffs (id, tenant_id, worker_id, lease_until, bases, counts, deliveries)
  SELECT ${p('handoff')}::text, ${p('tenant')}, ${p('worker')}::text,
    ${nowSql(p('now'))} + ${p('lease')}::float8 * interval '1 millisecond',
    (SELECT jsonb_object_agg(seq.id, seq.base) FROM seq),
    (SELECT jsonb_object_agg(c.id, c.leased) FROM c WHERE c.leased > 0),
    ${p('handed')}::text
  WHERE EXISTS (SELECT 1 FROM seq JOIN c ON c.id = seq.id WHERE c.leased > 0)
)`);
  return ctes.join(',\n');
}

// Dispatchers only need waking for rows they can claim: handed-over deliveries have none. The
// payload names the endpoints given rows — those whose count in `c` is above the handed-over one
// (comma-separated; '' when too many for a NOTIFY's 8,000 bytes: any endpoint), so a dispatcher
// that already holds a limit's worth of each one's deliveries need not claim (`needsClaim`,
// src/queue/notify.ts). Shapes with rows only.
const NOTIFY_ROW = `SELECT 'n', NULL, NULL, NULL::timestamptz, NULL::timestamptz
  FROM (SELECT pg_notify(${DELIVERY_CHANNEL_SQL}, CASE WHEN length(u.ids) <= ${NOTIFY_PAYLOAD_MAX} THEN u.ids ELSE '' END)
    FROM (SELECT string_agg(DISTINCT seq.id, ',') AS ids FROM seq JOIN c ON c.id = seq.id WHERE c.n > c.leased) u
    WHERE u.ids IS NOT NULL) AS notified`;
const notifyRow = (shape: Shape) => (shape === 'rows' || shape === 'mixed' ? `UNION ALL ${NOTIFY_ROW}` : '');

// What the deliveries' statements answer: not a row per delivery but one per endpoint given some,
// with the endpoint's last sequence before them ('q': id, base). The rest follows from what was
// sent — a delivery's sequence is that base plus its `k` (1, 2, … per endpoint), and it was handed
// over exactly when it had a lease — and an endpoint deleted since it was read has no row, and got
// nothing.
const BASE_ROWS = `SELECT 'q', id, base, NULL::timestamptz, NULL::timestamptz FROM seq`;

/** The deliveries of a call whose events went in before, in its transaction (caller-chosen ids). */
function insertDeliveriesStatement(shape: Exclude<Shape, 'none'>): Statement {
  return statement(
    shape === 'mixed' ? 'herald_insert_deliveries' : `herald_insert_deliveries_${shape}`,
    (p) => `WITH ${deliveryCtes(p, shape, 'many')}
SELECT 'q' AS kind, id, base AS sequence, NULL::timestamptz AS created_at, NULL::timestamptz AS occurred_at
FROM seq
${notifyRow(shape)}`,
  );
}

export const INSERT_DELIVERIES: Record<Exclude<Shape, 'none'>, Statement> = {
  handed: insertDeliveriesStatement('handed'),
  rows: insertDeliveriesStatement('rows'),
  mixed: insertDeliveriesStatement('mixed'),
};

/** A call's events, from parameter `events` (a JSON array of NewEventRow, publish-sql.ts). */
const insertEventsFrom = (
  p: P,
) => `INSERT INTO events (tenant_id, id, type, data, origin, occurred_at, batch_id, trace_context)
  SELECT ${p('tenant')}, e.id, e.type, e.data, e.origin, e.occurred_at, e.batch_id, e.trace_context
  FROM json_to_recordset(${p('events')}::json)
    AS e(id text, type text, data json, origin text, occurred_at timestamptz, batch_id text, trace_context text)`;

// events.tenant_id has no foreign key (migration 022): a statement that inserts events first takes a
// key-share lock on the tenant row, once — what the key's trigger did for every event — so a
// tenant's deletion waits for it and then deletes what it wrote (src/store/tenants.ts). No row: the
// tenant is gone, nothing is written, and a 't' row says so.
const tenantLock = (p: P) =>
  `tenant AS MATERIALIZED (SELECT 1 FROM tenants WHERE id = ${p('tenant')} FOR KEY SHARE)`;

// Events whose ids the caller chose: a repeat inserts nothing (publish-events.ts settles it).
export const INSERT_EVENTS = statement(
  'herald_insert_events',
  (p) => `WITH ${tenantLock(p)},
ins AS (
  ${insertEventsFrom(p)}
  WHERE EXISTS (SELECT 1 FROM tenant)
  ON CONFLICT (tenant_id, id) DO NOTHING
  RETURNING id, created_at, occurred_at
)
SELECT 'e' AS kind, id, created_at, occurred_at FROM ins
UNION ALL SELECT 't', NULL, NULL, NULL WHERE NOT EXISTS (SELECT 1 FROM tenant)`,
);

// The whole publish in one statement. When the tenant's endpoints version or the catalog's has
// moved since the caller planned with them (src/publish/candidate-cache.ts), the statement writes
// nothing and answers a 'stale' row.
function publishStatement(shape: Shape, endpoints: Endpoints = 'many'): Statement {
  const name =
    shape === 'mixed' ? 'herald_publish' : `herald_publish_${shape === 'none' ? 'events_only' : shape}`;
  return statement(
    endpoints === 'one' ? `${name}_one_endpoint` : name,
    (p) => `WITH ${tenantLock(p)},
fresh AS MATERIALIZED (
  SELECT EXISTS (SELECT 1 FROM tenant) AND (${p('endpointsVersion')}::int8 IS NULL OR EXISTS (
    SELECT 1 FROM tenants t, catalog_version v
    WHERE t.id = ${p('tenant')} AND t.endpoints_version = ${p('endpointsVersion')}::int8
      AND v.version = ${p('catalogVersion')}::int8)) AS ok
),
ev AS (
  ${insertEventsFrom(p)}
  WHERE (SELECT ok FROM fresh)
  RETURNING id, created_at, occurred_at
)${shape === 'none' ? '' : `,\n${deliveryCtes(p, shape, endpoints, '(SELECT ok FROM fresh)')}`}
-- The events are read (so inserted) first: the endpoint locks are taken when \`seq\` is read (the
-- base rows; \`ins\`, read by nothing, runs at the end), and everything done before that is time
-- they are not held, which other publishes to the same endpoints would spend waiting.
-- The events' stored times: every event of the statement has its created_at (now()), answered once
-- ('c'); an occurred_at only where one was given, as PostgreSQL normalised it ('e').
SELECT 'c' AS kind, NULL AS id, NULL::int8 AS sequence, now() AS created_at, NULL::timestamptz AS occurred_at
  FROM fresh WHERE ok
UNION ALL SELECT 'e', id, NULL, created_at, occurred_at FROM ev WHERE occurred_at IS NOT NULL
${shape === 'none' ? '' : `UNION ALL ${BASE_ROWS}`}
UNION ALL SELECT 's', NULL, NULL, NULL, NULL FROM fresh WHERE NOT ok
UNION ALL SELECT 't', NULL, NULL, NULL, NULL WHERE NOT EXISTS (SELECT 1 FROM tenant)
${notifyRow(shape)}`,
  );
}

export const PUBLISH: Record<Shape, Statement> = {
  none: publishStatement('none'),
  handed: publishStatement('handed'),
  rows: publishStatement('rows'),
  mixed: publishStatement('mixed'),
};

/** The same, for deliveries that all go to one endpoint (a single-event publish to one, or several such coalesced). */
export const PUBLISH_ONE_ENDPOINT: Record<Exclude<Shape, 'none'>, Statement> = {
  handed: publishStatement('handed', 'one'),
  rows: publishStatement('rows', 'one'),
  mixed: publishStatement('mixed', 'one'),
};

/** The publish statement of a shape whose deliveries go to `endpoints` endpoints. */
export function publishStatementFor(shape: Shape, endpoints: number): Statement {
  return shape !== 'none' && endpoints === 1 ? PUBLISH_ONE_ENDPOINT[shape] : PUBLISH[shape];
}

const PUBLISH_SQL = new Set<Sql>(
  [...Object.values(PUBLISH), ...Object.values(PUBLISH_ONE_ENDPOINT)].map((s) => s.sql),
);

/** Whether a statement is one of the whole-publish statements (tests count them). */
export const isPublishStatement = (sql: Sql): boolean => PUBLISH_SQL.has(sql);
