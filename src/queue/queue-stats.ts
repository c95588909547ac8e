/**
 * The queue's health as /metrics shows it: how many deliveries are due and not being worked on, and
 * how long the oldest of them has been waiting. Deliveries of inactive endpoints are not counted:
 * they wait for the endpoint, not for a worker.
 */
import type { Queryable } from '../db/db.ts';
import { nowParam, nowSql } from './queue-time.ts';

export interface QueueStats {
  /** Pending deliveries whose time has come (claimed ones are not due: their lease is running). */
  due: number;
  /** Seconds since the oldest due delivery fell due; 0 with nothing due. */
  oldestDueAgeSeconds: number;
}

const NOW = nowSql('$1');

/**
 * @example const { due, oldestDueAgeSeconds } = await queueStats(db)
 */
export async function queueStats(q: Queryable, opts: { now?: Date | null } = {}): Promise<QueueStats> {
  const [row] = await q.query<{ due: number; age: number | null }>(
    `SELECT count(*) AS due,
       extract(epoch FROM ${NOW} - min(d.next_attempt_at))::float8 AS age
     FROM deliveries d JOIN endpoints e ON e.id = d.endpoint_id
     WHERE d.next_attempt_at <= ${NOW} AND e.active`,
    [nowParam(opts.now)],
  );
  return { due: Number(row?.due ?? 0), oldestDueAgeSeconds: Math.max(0, row?.age ?? 0) };
}
