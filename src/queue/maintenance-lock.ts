/**
 * Maintenance jobs (retention, auto-disable, the next-due repair) run on one instance at a time, chosen by the database:
 * whoever's `UPDATE maintenance … WHERE locked_until <= now` wins takes the job. `locked_until`
 * doubles as the schedule: while a job runs it is the holder's deadline, afterwards the time of the
 * next run. A holder that dies simply lets the deadline pass.
 */
import type { Queryable } from '../db/db.ts';
import { nowParam, nowSql } from './queue-time.ts';

export type MaintenanceJob = 'retention' | 'auto-disable' | 'vacuum' | 'next-due';

export interface MaintenanceLockOptions {
  job: MaintenanceJob;
  workerId: string;
  /** How long the job may run before another instance may take it over. */
  holdMs: number;
  now?: Date | null;
}

const NOW = nowSql('$3');

const TAKE_SQL = `
UPDATE maintenance SET locked_by = $2, locked_until = ${NOW} + $4 * interval '1 millisecond'
WHERE job = $1 AND locked_until <= ${NOW}
RETURNING job`;

/**
 * Takes the job if it is due and nobody holds it; answers whether this worker now holds it. The job's
 * row is created on first use.
 *
 * @example if (await takeMaintenanceJob(db, { job: 'retention', workerId, holdMs: 600_000 })) { … }
 */
export async function takeMaintenanceJob(q: Queryable, opts: MaintenanceLockOptions): Promise<boolean> {
  const params = [opts.job, opts.workerId, nowParam(opts.now), opts.holdMs];
  if ((await q.query(TAKE_SQL, params)).length > 0) return true;
  const created = await q.query(
    'INSERT INTO maintenance (job) VALUES ($1) ON CONFLICT DO NOTHING RETURNING job',
    [opts.job],
  );
  if (created.length === 0) return false;
  return (await q.query(TAKE_SQL, params)).length > 0;
}

/**
 * Ends this worker's run of the job and schedules the next one `nextRunInMs` from now.
 *
 * @example await finishMaintenanceJob(db, { job: 'retention', workerId, nextRunInMs: 3_600_000 })
 */
export async function finishMaintenanceJob(
  q: Queryable,
  opts: { job: MaintenanceJob; workerId: string; nextRunInMs: number; now?: Date | null },
): Promise<void> {
  await q.query(
    `UPDATE maintenance SET locked_by = NULL, last_run_at = ${NOW},
       locked_until = ${NOW} + $4 * interval '1 millisecond'
     WHERE job = $1 AND locked_by = $2`,
    [opts.job, opts.workerId, nowParam(opts.now), opts.nextRunInMs],
  );
}
