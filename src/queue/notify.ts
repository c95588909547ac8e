/**
 * NOTIFY wakes idle dispatchers early. It is only a nudge: dispatchers also poll, so a lost
 * notification (or LISTEN switched off) costs latency, never a delivery.
 */
import type { Queryable } from '../db/db.ts';

/** The channel publishers notify and dispatchers LISTEN on. */
export const DELIVERY_CHANNEL = 'herald_deliveries';

/**
 * Wakes idle dispatchers. Inside a transaction the notification is sent on commit, so a dispatcher
 * never wakes before the rows it should claim are visible.
 *
 * @example await db.transaction(async (tx) => { await insertDeliveries(tx, …); await wakeDispatchers(tx); })
 */
export async function wakeDispatchers(q: Queryable): Promise<void> {
  await q.query('SELECT pg_notify($1, $2)', [DELIVERY_CHANNEL, '']);
}
