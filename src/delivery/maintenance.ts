/**
 * Runs the maintenance jobs on a timer. Every Herald process with a dispatcher runs one; each job is
 * taken by one instance at a time through the `maintenance` table (src/queue/maintenance-lock.ts),
 * so N processes do the work once.
 *
 * There is no lease reaper: a claim is a lease on `next_attempt_at`, so an expired one is simply due;
 * an expired handoff is recovered by the dispatchers themselves (src/queue/handoff-recovery.ts).
 *
 * Embedded mode adds a `vacuum` job: PGlite runs PostgreSQL's single-user backend, which has no
 * autovacuum, so without it the deliveries table (updated several times per delivery) would only
 * grow, and the planner would never get statistics.
 */
import type { Clock } from '../core/clock.ts';
import { systemClock } from '../core/clock.ts';
import type { Db } from '../db/db.ts';
import { finishMaintenanceJob, type MaintenanceJob, takeMaintenanceJob } from '../queue/maintenance-lock.ts';
import { repairNextDue } from '../queue/next-due-repair.ts';
import { purgeExpired } from '../store/retention.ts';
import { disableFailingEndpoints } from './auto-disable.ts';
import { type DeliveryLogger, silentLogger } from './logger.ts';
import { periodicPass } from './periodic-pass.ts';

export interface MaintenanceConfig {
  retentionDays: number;
  disableAfterSeconds: number;
  /** How often each job runs (across all instances). */
  retentionEveryMs: number;
  autoDisableEveryMs: number;
  nextDueRepairEveryMs: number;
  /** Embedded (PGlite) only. */
  vacuumEveryMs: number;
  /** How often this instance checks whether a job is due. */
  tickMs: number;
  /** How long a taken job may run before another instance may take it over. */
  holdMs: number;
}

export const DEFAULT_MAINTENANCE_CONFIG = {
  retentionEveryMs: 3_600_000,
  autoDisableEveryMs: 60_000,
  nextDueRepairEveryMs: 60_000,
  vacuumEveryMs: 600_000,
  tickMs: 15_000,
  holdMs: 600_000,
};

export interface Maintenance {
  start(): void;
  /** Stops the timer and waits for a running job to reach its next chunk boundary. */
  stop(): Promise<void>;
  /** One pass over the jobs, now (tests, `herald` commands). */
  runOnce(): Promise<void>;
}

/**
 * @example const m = createMaintenance({ db, workerId, config: { retentionDays: 30, disableAfterSeconds: 432000 }, logger }); m.start()
 */
export function createMaintenance(opts: {
  db: Db;
  workerId: string;
  config: Pick<MaintenanceConfig, 'retentionDays' | 'disableAfterSeconds'> & Partial<MaintenanceConfig>;
  clock?: Clock;
  logger?: DeliveryLogger;
}): Maintenance {
  const cfg: MaintenanceConfig = { ...DEFAULT_MAINTENANCE_CONFIG, ...opts.config };
  const clock = opts.clock ?? systemClock;
  const injected = opts.clock && opts.clock !== systemClock ? opts.clock : undefined;
  const log = opts.logger ?? silentLogger;

  const jobs: Array<{ job: MaintenanceJob; everyMs: number; run: () => Promise<void> }> = [
    {
      job: 'auto-disable',
      everyMs: cfg.autoDisableEveryMs,
      run: async () => {
        await disableFailingEndpoints(opts.db, {
          now: clock.now(),
          disableAfterSeconds: cfg.disableAfterSeconds,
          logger: log,
        });
      },
    },
    {
      job: 'next-due',
      everyMs: cfg.nextDueRepairEveryMs,
      run: async () => {
        const repaired = await repairNextDue(opts.db);
        // Each one is a writer that made a delivery due without lowering its endpoint's next due time.
        if (repaired.length > 0)
          log.warn({ endpoints: repaired.slice(0, 20), count: repaired.length }, 'next_due_at repaired');
      },
    },
    {
      job: 'retention',
      everyMs: cfg.retentionEveryMs,
      run: async () => {
        const result = await purgeExpired(opts.db, {
          now: clock.now(),
          retentionDays: cfg.retentionDays,
          shouldStop: () => loop.isStopped(),
        });
        if (result.attemptsDeleted + result.payloadsPurged + result.idempotencyKeysDeleted > 0)
          log.info({ ...result }, 'retention purge');
      },
    },
  ];
  if (opts.db.kind === 'pglite') {
    jobs.push({
      job: 'vacuum',
      everyMs: cfg.vacuumEveryMs,
      // operational_events and handoffs: every row of them inserted and soon deleted.
      run: () =>
        opts.db.exec(
          'VACUUM (ANALYZE) deliveries, attempts, events, endpoints, operational_events, handoffs',
        ),
    });
  }

  async function pass(): Promise<void> {
    for (const { job, everyMs, run } of jobs) {
      if (loop.isStopped()) return;
      const lock = { job, workerId: opts.workerId, now: injected?.now() ?? null };
      try {
        if (!(await takeMaintenanceJob(opts.db, { ...lock, holdMs: cfg.holdMs }))) continue;
      } catch (err) {
        log.warn({ err, job }, 'maintenance: could not take job');
        continue;
      }
      let nextRunInMs = everyMs;
      try {
        await run();
      } catch (err) {
        log.error({ err, job }, 'maintenance job failed');
        nextRunInMs = Math.min(everyMs, cfg.tickMs);
      }
      await finishMaintenanceJob(opts.db, { ...lock, nextRunInMs }).catch((err: unknown) =>
        log.warn({ err, job }, 'maintenance: could not finish job'),
      );
    }
  }

  // pass() logs each job's failure itself; nothing reaches onError.
  const loop = periodicPass(pass, cfg.tickMs, (err) => log.error({ err }, 'maintenance pass failed'));
  return { start: loop.start, stop: loop.stop, runOnce: loop.runOnce };
}
