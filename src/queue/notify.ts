/**
 * NOTIFY wakes idle dispatchers early. It is only a nudge: dispatchers also poll, so a lost
 * notification (or LISTEN switched off) costs latency, never a delivery.
 */
import type { Queryable } from '../db/db.ts';

/** The channel publishers notify and dispatchers LISTEN on, in the `public` schema. */
export const DELIVERY_CHANNEL = 'herald_deliveries';

/**
 * The channel of the schema Herald's tables are in, as SQL: notifications are database-wide, so
 * installations in two schemas of one database (and test files, each in a schema of its own) would
 * otherwise wake each other's dispatchers. `public` keeps the plain name (what earlier versions
 * used, so a rolling upgrade goes on waking both).
 */
export const DELIVERY_CHANNEL_SQL = `(CASE WHEN current_schema() = 'public' THEN '${DELIVERY_CHANNEL}'
  ELSE '${DELIVERY_CHANNEL}.' || current_schema() END)`;

/** This storage's delivery channel (see {@link DELIVERY_CHANNEL_SQL}). */
export async function deliveryChannel(q: Queryable): Promise<string> {
  const [row] = await q.query<{ channel: string }>(`SELECT ${DELIVERY_CHANNEL_SQL} AS channel`);
  return row?.channel ?? DELIVERY_CHANNEL;
}

/**
 * Wakes idle dispatchers. Inside a transaction the notification is sent on commit, so a dispatcher
 * never wakes before the rows it should claim are visible.
 *
 * @example await db.transaction(async (tx) => { await insertDeliveries(tx, …); await wakeDispatchers(tx); })
 */
export async function wakeDispatchers(q: Queryable): Promise<void> {
  await q.query(`SELECT pg_notify(${DELIVERY_CHANNEL_SQL}, '')`);
}

/**
 * The longest list of endpoint ids a publish's notification carries; past it the payload is ''
 * (PostgreSQL caps a payload at 8,000 bytes).
 */
export const NOTIFY_PAYLOAD_MAX = 7_000;

/**
 * Whether a notification can give this dispatcher anything to claim. A publish names the endpoints
 * of the rows it left due (src/publish/publish-sql.ts); '' names none, so any endpoint may have
 * something. A claim would take nothing more for an endpoint this dispatcher `holds` — one the last
 * claim left waiting for room, with a limit's worth of deliveries still waiting here: the outcomes of
 * its requests claim again when that runs low. Without this, during a burst every publish past the
 * handoff's room woke a claim, and two claims in three came back empty (docs/performance.md).
 *
 * @example if (needsClaim(payload, (id) => limited.includes(id) && waitingOf(id) >= limitOf(id))) wake()
 */
export function needsClaim(payload: string, holds: (endpointId: string) => boolean): boolean {
  if (payload === '') return true;
  return payload.split(',').some((id) => !holds(id));
}
