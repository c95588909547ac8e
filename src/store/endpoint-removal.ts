/**
 * What deleting endpoints takes with it: their deliveries and those deliveries' attempts. Foreign
 * keys with ON DELETE CASCADE used to do this; they cost a trigger per delivery and attempt written
 * (migration 006), so the deleting transaction does it instead.
 *
 * Order matters, as three writers meet here:
 * - Recording an outcome (src/queue/record-outcomes.ts) locks the delivery row, then its endpoint's
 *   row (the endpoint's health). A removal that held the endpoint row while waiting for that
 *   delivery row deadlocked with it, and PostgreSQL aborted one of the two after a second. So the
 *   endpoints' deliveries and attempts are deleted first, before the endpoint rows: delivery rows
 *   before endpoint rows, as recording takes them.
 * - Publishing locks the endpoint rows (sequence numbers) and inserts deliveries. Deleting the
 *   endpoint rows waits for any publish holding them, and no publish can add deliveries afterwards,
 *   since it finds no endpoint; the deliveries such publishes committed meanwhile are deleted by a
 *   second pass, whose snapshot includes them.
 * - A delivery of that second pass may be recorded at that very moment (handed over by the publish
 *   and already answered), which can still deadlock, rarely: the removal is then run again
 *   ({@link inRemoval}). An attempt recorded for a request in flight may outlive its delivery;
 *   nothing reaches it by id any more, and retention removes it with the other old attempts.
 */
import type { Db, Queryable } from '../db/db.ts';

/** PostgreSQL's deadlock_detected: the transaction chosen as the victim was rolled back. */
const DEADLOCK = '40P01';
const MAX_RUNS = 4;

/**
 * Runs a removal transaction, again (up to 4 runs) when PostgreSQL rolled it back as a deadlock's
 * victim; `fn` must be safe to run again from the start (it is a whole transaction).
 */
export async function inRemoval<T>(db: Db, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  for (let run = 1; ; run++) {
    try {
      return await db.transaction(fn);
    } catch (err) {
      if ((err as { code?: string }).code !== DEADLOCK || run >= MAX_RUNS) throw err;
    }
  }
}

/** Deletes the deliveries and attempts of these endpoints (see above for when: before and after them). */
export async function removeEndpointTraffic(tx: Queryable, endpointIds: readonly string[]): Promise<void> {
  if (endpointIds.length === 0) return;
  await tx.query('DELETE FROM attempts WHERE endpoint_id = ANY ($1::text[])', [endpointIds]);
  await tx.query('DELETE FROM deliveries WHERE endpoint_id = ANY ($1::text[])', [endpointIds]);
}

/**
 * Deletes the endpoints `ids` with their traffic, in the order above; answers the ids deleted (an
 * endpoint deleted meanwhile by another call is not among them).
 */
export async function removeEndpoints(tx: Queryable, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  await removeEndpointTraffic(tx, ids);
  const rows = await tx.query<{ id: string }>(
    'DELETE FROM endpoints WHERE id = ANY ($1::text[]) RETURNING id',
    [ids],
  );
  const deleted = rows.map((r) => r.id);
  await removeEndpointTraffic(tx, deleted);
  return deleted;
}
