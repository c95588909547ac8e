/**
 * What deleting endpoints takes with it: their deliveries and those deliveries' attempts. Foreign
 * keys with ON DELETE CASCADE used to do this; they cost a trigger per delivery and attempt written
 * (migration 006), so the deleting transaction does it instead.
 *
 * Order matters. The endpoint rows are deleted first: that waits for any publish holding them
 * (publishing locks its endpoints to take sequence numbers), and no publish can add deliveries
 * afterwards, since it finds no endpoint. The deliveries and attempts are then deleted by later
 * statements, whose snapshots include what those publishes committed. An attempt recorded for a
 * request that was in flight at that moment may outlive its delivery; nothing reaches it by id
 * any more, and retention removes it with the other old attempts.
 */
import type { Queryable } from '../db/db.ts';

/** Deletes the deliveries and attempts of endpoints already deleted in this transaction. */
export async function removeEndpointTraffic(tx: Queryable, endpointIds: string[]): Promise<void> {
  if (endpointIds.length === 0) return;
  await tx.query('DELETE FROM attempts WHERE endpoint_id = ANY ($1::text[])', [endpointIds]);
  await tx.query('DELETE FROM deliveries WHERE endpoint_id = ANY ($1::text[])', [endpointIds]);
}
