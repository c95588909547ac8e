/**
 * Publishing again: what a repeated event id or Idempotency-Key answers. A repeat of the same
 * events answers the first call's events; anything else under a used id or key is refused with
 * 409 IDEMPOTENCY_CONFLICT (docs/decisions.md, "Publishing").
 */

import { type ErrorDetail, HeraldError } from '../core/errors.ts';
import type { Queryable } from '../db/db.ts';
import { jsonEqual } from '../rules/filter.ts';
import { EVENT_COLUMNS, type EventRow, type HeraldEvent, toEvent } from '../store/events.ts';
import type { EventInput } from './types.ts';

/** Whether a repeat under the same Idempotency-Key asks for the same events as the first call. */
export function sameCall(first: HeraldEvent[], inputs: EventInput[]): boolean {
  return (
    first.length === inputs.length &&
    inputs.every((e, i) => {
      const f = first[i]!;
      return (
        f.type === e.type &&
        (e.id === undefined || e.id === f.id) &&
        (f.data === null || jsonEqual(f.data, e.data))
      );
    })
  );
}

/**
 * Takes the Idempotency-Key for this call, or answers the events of the call that took it first.
 * A concurrent call with the same key waits on the row until the first commits (or rolls back).
 */
export async function claimIdempotencyKey(
  tx: Queryable,
  tenantId: string,
  key: string,
  events: Array<{ id: string }>,
): Promise<HeraldEvent[] | undefined> {
  const claimed = await tx.query(
    `INSERT INTO idempotency_keys (tenant_id, key, event_ids) VALUES ($1, $2, $3::text[])
     ON CONFLICT (tenant_id, key) DO NOTHING RETURNING key`,
    [tenantId, key, events.map((e) => e.id)],
  );
  if (claimed.length > 0) return undefined;
  const rows = await tx.query<EventRow & { ord: number }>(
    `SELECT ${EVENT_COLUMNS}, k.ord FROM idempotency_keys ik
     CROSS JOIN LATERAL unnest(ik.event_ids) WITH ORDINALITY AS k(id, ord)
     JOIN events e ON e.tenant_id = ik.tenant_id AND e.id = k.id
     WHERE ik.tenant_id = $1 AND ik.key = $2 ORDER BY k.ord`,
    [tenantId, key],
  );
  return rows.map(toEvent);
}

/**
 * The stored events for ids this call repeats; IDEMPOTENCY_CONFLICT (409) when one of them was
 * published with another type or other data (compared as JSON values: key order and number
 * spelling do not matter). A purged payload no longer tells, so it counts as the same.
 */
export async function firstEvents(
  tx: Queryable,
  tenantId: string,
  events: Array<EventInput & { id: string }>,
  created: Map<string, unknown>,
): Promise<Map<string, HeraldEvent>> {
  const index = new Map(events.map((e, i) => [e.id, i]));
  const rows = await tx.query<EventRow>(
    `SELECT ${EVENT_COLUMNS} FROM events e WHERE e.tenant_id = $1 AND e.id = ANY($2::text[])`,
    [tenantId, events.filter((e) => !created.has(e.id)).map((e) => e.id)],
  );
  const conflicts: ErrorDetail[] = [];
  for (const r of rows) {
    const i = index.get(r.id)!;
    const e = events[i]!;
    if (r.type === e.type && (r.data === null || jsonEqual(r.data, e.data))) continue;
    conflicts.push({
      path: `events.${i}.id`,
      message: 'was already used for an event with another type or data',
    });
  }
  if (conflicts.length > 0) {
    throw new HeraldError(
      'IDEMPOTENCY_CONFLICT',
      `${conflicts[0]!.path}: ${conflicts[0]!.message}`,
      conflicts,
    );
  }
  return new Map(rows.map((r) => [r.id, toEvent(r)]));
}
