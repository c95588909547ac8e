/**
 * Helpers for the delivery-isolation tests (issue 14; docs/isolation.md): bulk due deliveries
 * inserted the way publishing does it (taking sequence numbers and lowering `next_due_at`), attempt
 * records of the outcomes a dispatcher reports, and SQL assertions on the scheduling state — leases
 * in flight and the `next_due_at` invariant. Time is always injected: nothing here reads the clock.
 */
import assert from 'node:assert/strict';
import { newId } from '../../src/core/ids.ts';
import type { Queryable } from '../../src/db/db.ts';
import { type ClaimOptions, claimDeliveries } from '../../src/queue/claim-deliveries.ts';
import type { ClaimedDelivery } from '../../src/queue/claimed-delivery.ts';
import { type AttemptRecord, type RecordOptions, recordAttempts } from '../../src/queue/record-outcomes.ts';
import { insertEvent } from './delivery-fixtures.ts';

/** Claim options for tests: a lease of 30 s on top of the default 15 s budget, at `now`. */
export function claimOptions(now: Date, o: Partial<ClaimOptions> = {}): ClaimOptions {
  return { workerId: 'w1', limit: 30, leaseMs: 30_000, defaultTotalTimeoutMs: 15_000, now, ...o };
}

/** The deliveries one claim at `now` takes, as worker w1 with a batch of 100 unless `o` says otherwise. */
export async function claimAt(
  q: Queryable,
  now: Date,
  o: Partial<ClaimOptions> = {},
): Promise<ClaimedDelivery[]> {
  return (await claimDeliveries(q, claimOptions(now, { limit: 100, ...o }))).deliveries;
}

/**
 * Records, at `now` and as worker w1 unless `opts` says otherwise, `outcomes[i]` (or the last one)
 * for each claimed `ds[i]`.
 */
export function recordAt(
  q: Queryable,
  now: Date,
  ds: readonly ClaimedDelivery[],
  outcomes: Partial<AttemptRecord> | ReadonlyArray<Partial<AttemptRecord>>,
  opts: Partial<RecordOptions> = {},
) {
  const list = Array.isArray(outcomes) ? outcomes : [outcomes];
  return recordAttempts(
    q,
    ds.map((d, i) => attemptOf(d, now, list[Math.min(i, list.length - 1)])),
    { workerId: 'w1', now, ...opts },
  );
}

/** The lease a claim with {@link claimOptions} takes on an endpoint without its own budget. */
export const LEASE_MS = 45_000;

/**
 * `count` due deliveries of one event to the endpoint, as publishing inserts them: sequence numbers
 * taken from the endpoint, `next_due_at` lowered in the same statement. The first is due at `at`,
 * each next one `stepMs` later. Answers their ids in sequence order.
 */
export async function insertDue(
  q: Queryable,
  d: { tenantId: string; endpointId: string; count: number; at: Date; stepMs?: number },
): Promise<string[]> {
  const eventId = await insertEvent(q, d.tenantId);
  const step = d.stepMs ?? 1;
  const first = step >= 0 ? d.at : new Date(d.at.getTime() + step * (d.count - 1));
  const rows = await q.query<{ id: string }>(
    `WITH seq AS (
       UPDATE endpoints SET last_sequence = last_sequence + $4::int, next_due_at = least(next_due_at, $8::timestamptz)
       WHERE id = $2 RETURNING last_sequence - $4::int AS base, ordering)
     INSERT INTO deliveries (id, tenant_id, endpoint_id, event_id, event_ids, event_type, sequence, fifo, next_attempt_at)
     SELECT $6 || lpad(g::text, 6, '0'), $1, $2, $3, ARRAY[$3], 'invoice.created', seq.base + g, seq.ordering = 'fifo',
       $5::timestamptz + (g - 1) * $7::float8 * interval '1 millisecond'
     FROM seq, generate_series(1, $4::int) g
     RETURNING id, sequence`,
    [d.tenantId, d.endpointId, eventId, d.count, d.at, `${newId('dlv')}_`, step, first],
  );
  if (rows.length !== d.count) throw new Error(`no endpoint ${d.endpointId}`);
  return rows.map((r) => r.id).sort();
}

/** What a dispatcher reports for an attempt; spread into {@link attemptOf}. */
export const outcome = {
  success: { status: 'succeeded', statusCode: 200, errorKind: null, errorMessage: null },
  /** No answer within the budget: a failure that reached the receiver, and a sign of congestion. */
  timeout: {
    status: 'pending',
    retryInMs: 3_600_000,
    statusCode: null,
    errorKind: 'timeout',
    errorMessage: 'no response within 15000 ms',
  },
  /** 503: reached the receiver, congestion. */
  unavailable: {
    status: 'pending',
    retryInMs: 3_600_000,
    statusCode: 503,
    errorKind: 'http_status',
    errorMessage: 'HTTP 503',
  },
  /** 400: reached the receiver, a failure but not congestion. */
  badRequest: {
    status: 'pending',
    retryInMs: 3_600_000,
    statusCode: 400,
    errorKind: 'http_status',
    errorMessage: 'HTTP 400',
  },
  /** A failure before any request (deliver-one.ts / sender.ts kinds that never reach the receiver). */
  local: (errorKind: string) =>
    ({
      status: 'pending',
      retryInMs: 3_600_000,
      statusCode: null,
      errorKind,
      errorMessage: `${errorKind} (test)`,
    }) as const,
} satisfies Record<string, Partial<AttemptRecord> | ((kind: string) => Partial<AttemptRecord>)>;

/** The attempt record a dispatcher would write for claimed delivery `d`, started at `at`. */
export function attemptOf(
  d: Pick<ClaimedDelivery, 'id' | 'tenantId' | 'endpointId' | 'attemptNumber' | 'handoff'>,
  at: Date,
  o: Partial<AttemptRecord> = {},
): AttemptRecord {
  return {
    ...(d.handoff ? { handoff: d.handoff } : {}),
    attemptId: newId('atm'),
    deliveryId: d.id,
    tenantId: d.tenantId,
    endpointId: d.endpointId,
    attemptNumber: d.attemptNumber,
    status: 'succeeded',
    retryInMs: null,
    startedAt: at,
    durationMs: 10,
    statusCode: 200,
    errorKind: null,
    errorMessage: null,
    requestHeaders: null,
    responseHeaders: null,
    responseExcerpt: null,
    endpointGone: false,
    ...o,
  };
}

/**
 * Takes every pending delivery out of the way (succeeded, lease dropped; handed-over ones dropped
 * with their handoffs): each test starts from an empty due set.
 */
export async function settle(q: Queryable): Promise<void> {
  await q.query(
    `UPDATE deliveries SET status = 'succeeded', next_attempt_at = NULL, locked_by = NULL, completed_at = now()
     WHERE status = 'pending'`,
  );
  await q.query('DELETE FROM handoffs');
}

/** Requests in flight at `now`, cluster-wide: deliveries under an unexpired lease, per endpoint. */
export async function leasedByEndpoint(q: Queryable, now: Date): Promise<Map<string, number>> {
  const rows = await q.query<{ endpoint_id: string; n: number }>(
    `SELECT endpoint_id, count(*)::int AS n FROM deliveries
     WHERE locked_by IS NOT NULL AND next_attempt_at > $1 GROUP BY endpoint_id`,
    [now],
  );
  return new Map(rows.map((r) => [r.endpoint_id, r.n]));
}

/** Requests in flight at `now` for one tenant, cluster-wide. */
export async function leasedOfTenant(q: Queryable, tenantId: string, now: Date): Promise<number> {
  const [row] = await q.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM deliveries
     WHERE tenant_id = $1 AND locked_by IS NOT NULL AND next_attempt_at > $2`,
    [tenantId, now],
  );
  return row?.n ?? 0;
}

export interface EndpointScheduling {
  next_due_at: Date | null;
  due_version: number;
  concurrency_limit: number | null;
  consecutive_failures: number;
  circuit_state: 'closed' | 'open';
  circuit_until: Date | null;
  circuit_reason: string | null;
  circuit_opened_at: Date | null;
  circuit_trips: number;
  active: boolean;
}

export async function schedulingOf(q: Queryable, endpointId: string): Promise<EndpointScheduling> {
  const [row] = await q.query<EndpointScheduling>(
    `SELECT next_due_at, due_version, concurrency_limit, consecutive_failures, circuit_state, circuit_until,
       circuit_reason, circuit_opened_at, circuit_trips, active
     FROM endpoints WHERE id = $1`,
    [endpointId],
  );
  if (!row) throw new Error(`no endpoint ${endpointId}`);
  return row;
}

/**
 * The invariant the claim relies on (docs/isolation.md): an endpoint with pending deliveries has a
 * `next_due_at` at most the earliest of their `next_attempt_at` (leased rows included: an expired
 * lease falls due without any write). Fails with every endpoint that breaks it.
 */
export async function assertNextDueInvariant(q: Queryable, step: string): Promise<void> {
  const broken = await q.query<{ id: string; next_due_at: Date | null; earliest: Date }>(
    `SELECT e.id, e.next_due_at, m.earliest
     FROM endpoints e
     JOIN (SELECT endpoint_id, min(next_attempt_at) AS earliest FROM deliveries
           WHERE status = 'pending' GROUP BY endpoint_id) m ON m.endpoint_id = e.id
     WHERE e.next_due_at IS NULL OR e.next_due_at > m.earliest`,
  );
  assert.deepEqual(
    broken.map((b) => ({
      endpoint: b.id,
      nextDueAt: b.next_due_at?.toISOString() ?? null,
      earliestPending: b.earliest.toISOString(),
    })),
    [],
    `next_due_at above a pending delivery's next_attempt_at after: ${step}`,
  );
}

/** Counts of `deliveries` by endpoint id. */
export function countByEndpoint(deliveries: readonly ClaimedDelivery[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const d of deliveries) m.set(d.endpointId, (m.get(d.endpointId) ?? 0) + 1);
  return m;
}

/** Counts of `deliveries` by tenant id. */
export function countByTenant(deliveries: readonly ClaimedDelivery[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const d of deliveries) m.set(d.tenantId, (m.get(d.tenantId) ?? 0) + 1);
  return m;
}

/** `ms` after `t`. */
export const plus = (t: Date, ms: number): Date => new Date(t.getTime() + ms);
