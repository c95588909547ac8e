/**
 * The operational events' outbox (migration 015): the statements that change what an operational
 * event reports write its row themselves, in SQL built here — recording attempts
 * (src/queue/record-outcomes.ts) and auto-disable (src/store/endpoint-health.ts) — so the change
 * and its event commit together. The pump (src/delivery/operational-pump.ts) claims rows, publishes
 * each as an event of the operational tenant under the row's id, and deletes them.
 *
 * Nothing here reports on the operational tenant's own endpoints: an operational webhook that fails
 * must not produce an operational event, which would fail in turn.
 */
import { OPERATIONAL_TENANT_ID } from '../core/operational-tenant.ts';
import type { Queryable } from '../db/db.ts';
import type { OperationalEventTypeName } from '../event-types/operational-event-types.ts';
import { nowParam, nowSql } from './queue-time.ts';

/** SQL: true when `column` (a tenant id) is not the operational tenant's. A constant, not input. */
export const notOperational = (column: string): string => `${column} <> '${OPERATIONAL_TENANT_ID}'`;

/** SQL: a timestamptz as the API spells instants (`2030-01-01T00:00:00.000Z`), as JSON text or null. */
export const isoSql = (expr: string): string =>
  `to_char(${expr} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** SQL: the `tenantId`, `endpointId` and `url` every payload opens with, from these expressions. */
const endpointRef = (tenantId: string, endpointId: string, url: string) =>
  `'tenantId', ${tenantId}, 'endpointId', ${endpointId}, 'url', ${url}`;

/**
 * SQL: a data-modifying CTE body inserting one outbox row per `(type, payload)` that `selects` (a
 * UNION of SELECTs of `type` and `payload` columns) yields, at `now`.
 */
export const insertOutboxSql = (selects: string, now: string): string => `
  INSERT INTO operational_events (id, type, payload, created_at)
  SELECT herald_new_id('msg'), o.type, o.payload, ${now} FROM (${selects}) o`;

/**
 * SQL: the SELECTs of the recording statement's operational events, from its CTEs: `updated`
 * (deliveries moved on, with their new state) and `endpoint_state` (endpoints changed, with their
 * new state and the old one as `was_*`). Only transitions count: a circuit that opens from closed
 * (not a failed probe keeping it open), one that closes, an endpoint disabled by a 410, the success
 * after reported trouble, and a delivery that failed for good.
 */
export function recordedEventsSql(now: string): string {
  const type = (t: OperationalEventTypeName) => `'${t}'::text`;
  const ref = endpointRef('s.tenant_id', 's.id', 's.url');
  return [
    `SELECT ${type('delivery.exhausted')} AS type, json_build_object(
       ${endpointRef('u.tenant_id', 'u.endpoint_id', '(SELECT y.url FROM endpoints y WHERE y.id = u.endpoint_id)')},
       'deliveryId', u.id, 'eventId', u.event_id, 'eventType', u.event_type, 'attempts', u.attempt_count,
       'lastStatusCode', u.last_status_code, 'lastError', u.last_error, 'failedAt', ${isoSql(now)}) AS payload
     FROM updated u WHERE u.status = 'failed' AND ${notOperational('u.tenant_id')}`,
    `SELECT ${type('endpoint.circuit_opened')}, json_build_object(${ref},
       'circuitReason', s.circuit_reason, 'consecutiveFailures', s.consecutive_failures,
       'circuitOpenedAt', ${isoSql('s.circuit_opened_at')}, 'circuitUntil', ${isoSql('s.circuit_until')})
     FROM endpoint_state s WHERE s.was_circuit = 'closed' AND s.circuit_state = 'open'`,
    `SELECT ${type('endpoint.circuit_closed')}, json_build_object(${ref},
       'circuitOpenedAt', ${isoSql('s.was_opened_at')}, 'closedAt', ${isoSql(now)})
     FROM endpoint_state s WHERE s.was_circuit = 'open' AND s.circuit_state = 'closed'`,
    `SELECT ${type('endpoint.disabled')}, json_build_object(${ref},
       'reason', s.disabled_reason, 'failingSince', ${isoSql('s.failing_since')},
       'disabledAt', ${isoSql('s.disabled_at')})
     FROM endpoint_state s WHERE s.was_active AND NOT s.active`,
    `SELECT ${type('endpoint.recovered')}, json_build_object(${ref},
       'reportedAt', ${isoSql('s.was_reported')}, 'recoveredAt', ${isoSql(now)})
     FROM endpoint_state s WHERE s.was_reported IS NOT NULL AND s.trouble_reported_at IS NULL`,
  ]
    .map((sql, i) => (i === 0 ? sql : `${sql} AND ${notOperational('s.tenant_id')}`))
    .join('\n    UNION ALL ');
}

/**
 * SQL: the SELECT of auto-disable's `endpoint.disabled` events, from its CTE `disabled` (the
 * endpoints it disabled, with `tenant_id`, `id`, `url`, `failing_since`, `disabled_reason` and
 * `disabled_at`).
 */
export const disabledEventsSql = (): string =>
  `SELECT 'endpoint.disabled'::text AS type, json_build_object(
     ${endpointRef('d.tenant_id', 'd.id', 'd.url')}, 'reason', d.disabled_reason,
     'failingSince', ${isoSql('d.failing_since')}, 'disabledAt', ${isoSql('d.disabled_at')}) AS payload
   FROM disabled d WHERE ${notOperational('d.tenant_id')}`;

export interface OperationalEventRow {
  id: string;
  type: OperationalEventTypeName;
  payload: Record<string, unknown>;
  createdAt: Date;
}

const NOW = nowSql('$1');

/**
 * Claims up to `limit` outbox rows, oldest first, for `leaseMs`: rows another pump holds are skipped
 * (SKIP LOCKED, and their lease), rows whose lease ran out (a pump that died) are taken again.
 *
 * @example const rows = await claimOperationalEvents(db, { limit: 100, leaseMs: 60_000 })
 */
export async function claimOperationalEvents(
  q: Queryable,
  opts: { limit: number; leaseMs: number; now?: Date | null },
): Promise<OperationalEventRow[]> {
  const rows = await q.query<{
    id: string;
    type: OperationalEventTypeName;
    payload: Record<string, unknown>;
    created_at: Date;
  }>(
    `UPDATE operational_events o SET claimed_until = ${NOW} + $2 * interval '1 millisecond'
     WHERE o.id IN (
       SELECT id FROM operational_events
       WHERE claimed_until IS NULL OR claimed_until <= ${NOW}
       ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED)
     RETURNING o.id, o.type, o.payload, o.created_at`,
    [nowParam(opts.now), opts.leaseMs, opts.limit],
  );
  return rows
    .map((r) => ({ id: r.id, type: r.type, payload: r.payload, createdAt: r.created_at }))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Deletes published outbox rows. */
export async function deleteOperationalEvents(q: Queryable, ids: readonly string[]): Promise<void> {
  if (ids.length > 0) await q.query('DELETE FROM operational_events WHERE id = ANY ($1::text[])', [ids]);
}
