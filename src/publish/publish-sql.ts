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
 * written once, with their outcomes. The SQL is in publish-statements.ts, one statement per shape of
 * call (no delivery, handed over, rows, both).
 */
import { HeraldError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import type { Queryable } from '../db/db.ts';
import { nowParam } from '../queue/queue-time.ts';
import type { NewDelivery } from '../rules/fan-out.ts';
import {
  bind,
  INSERT_DELIVERIES,
  INSERT_EVENTS,
  type Param,
  publishStatementFor,
  type Shape,
  shapeOf,
} from './publish-statements.ts';
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

/** Each stored event's times, as the database wrote them (it normalises what it was given). */
export type StoredTimes = Map<string, { created_at: Date; occurred_at: Date | null }>;

interface ResultRow {
  kind: 'c' | 'e' | 'n' | 'q' | 's' | 't';
  id: string;
  sequence: number;
  created_at: Date | null;
  occurred_at: Date | null;
}

/** The deliveries' parameters, and the shape of statement they need. */
function deliveryParams(
  tenantId: string,
  deliveries: NewDelivery[],
  claimAs: ClaimAs | undefined,
): {
  values: Partial<Record<Param, unknown>>;
  shape: Shape;
  /** How many endpoints the deliveries go to. */
  endpoints: number;
  handoffId: string | null;
} {
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
    values: {
      tenant: tenantId,
      counts: JSON.stringify([...counts].map(([id, c]) => ({ id, n: c.n, leased: c.leased }))),
      due: JSON.stringify(due),
      worker: claimAs?.workerId ?? null,
      now: nowParam(claimAs?.now),
      handoff: handoffId,
      lease: longestLease,
      handed: handoffId === null ? null : JSON.stringify(handed),
    },
    shape: shapeOf(deliveries.length, handed.length),
    endpoints: counts.size,
    handoffId,
  };
}

/** The deliveries written, in the order given, from the endpoints' base rows ('q': id, base). */
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
    INSERT_EVENTS.sql,
    bind(INSERT_EVENTS, { tenant: tenantId, events: eventsJson }),
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
  const { values, shape, handoffId } = deliveryParams(tenantId, deliveries, claimAs);
  const statement = INSERT_DELIVERIES[shape === 'none' ? 'mixed' : shape]; // never 'none': some deliveries
  const rows = await tx.query<ResultRow>(statement.sql, bind(statement, values));
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
  const { values, shape, endpoints, handoffId } = deliveryParams(tenantId, deliveries, claimAs);
  const statement = publishStatementFor(shape, endpoints);
  const rows = await q.query<ResultRow>(
    statement.sql,
    bind(statement, {
      ...values,
      events: eventsJson,
      endpointsVersion: plannedWith?.endpoints ?? null,
      catalogVersion: plannedWith?.catalog ?? null,
    }),
  );
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
