/**
 * The operational events' pump: moves rows of the outbox (src/queue/operational-outbox.ts) into
 * events of the operational tenant, which Herald's engine then delivers to the operator's
 * operational endpoints like any tenant's — signed, retried, recorded. Every process with a
 * dispatcher runs one (src/server/start.ts).
 *
 * Each row is published under its own id as the event id, then deleted. A crash between the two
 * publishes it again, which is a repeat of that id and sends nothing again (publishing is idempotent
 * by event id); pumps of several processes skip each other's rows (SKIP LOCKED and a lease), and
 * a dead pump's lease runs out. An empty outbox costs one indexed statement per `pollMs`, never a
 * statement per delivery.
 */
import type { Clock } from '../core/clock.ts';
import { HeraldError } from '../core/errors.ts';
import { OPERATIONAL_TENANT_ID } from '../core/operational-tenant.ts';
import type { Db } from '../db/db.ts';
import { publishEvents } from '../publish/publish-events.ts';
import type { DeliveryHandoff } from '../queue/handoff.ts';
import {
  claimOperationalEvents,
  deleteOperationalEvents,
  type OperationalEventRow,
} from '../queue/operational-outbox.ts';
import { type DeliveryLogger, silentLogger } from './logger.ts';
import { periodicPass } from './periodic-pass.ts';

export interface OperationalPumpOptions {
  db: Db;
  /** This process's dispatcher: the new deliveries go to it without a claim. */
  handoff?: DeliveryHandoff | undefined;
  /** The queue's injected time (tests); the database's clock otherwise. */
  clock?: Clock;
  logger?: DeliveryLogger;
  /** How often an idle pump looks at the outbox. Default 1 s. */
  pollMs?: number;
  /** Rows claimed at once. Default 100. */
  batchSize?: number;
  /** How long a claimed row is this pump's before another may take it. Default 60 s. */
  leaseMs?: number;
}

export interface OperationalPump {
  start(): void;
  /** Stops the timer and waits for a pass under way. */
  stop(): Promise<void>;
  /** One pass now: publishes what the outbox holds; answers how many rows it took off. */
  runOnce(): Promise<number>;
}

/** @example const pump = createOperationalPump({ db, handoff: dispatcher.handoff, logger }); pump.start() */
export function createOperationalPump(opts: OperationalPumpOptions): OperationalPump {
  const log = opts.logger ?? silentLogger;
  const pollMs = opts.pollMs ?? 1000;
  const batchSize = opts.batchSize ?? 100;
  const leaseMs = opts.leaseMs ?? 60_000;

  /** Publishes one row; answers whether it is done with (published, or never publishable). */
  async function publish(row: OperationalEventRow): Promise<boolean> {
    try {
      await publishEvents(
        opts.db,
        OPERATIONAL_TENANT_ID,
        [{ id: row.id, type: row.type, data: row.payload, occurredAt: row.createdAt.toISOString() }],
        { handoff: opts.handoff, notInCatalog: true },
      );
      return true;
    } catch (err) {
      // A refusal will not change on a second try (the id taken by other data after retention
      // purged it, say): drop the row rather than block the ones behind it.
      if (err instanceof HeraldError && err.status < 500) {
        log.error({ err, id: row.id, type: row.type }, 'operational event refused; dropped');
        return true;
      }
      throw err;
    }
  }

  async function pass(): Promise<number> {
    let taken = 0;
    while (!loop.isStopped()) {
      const rows = await claimOperationalEvents(opts.db, {
        limit: batchSize,
        leaseMs,
        now: opts.clock?.now() ?? null,
      });
      const done: string[] = [];
      try {
        for (const row of rows) if (await publish(row)) done.push(row.id);
      } finally {
        // What was published is deleted even when a later row failed; that one waits out its lease.
        await deleteOperationalEvents(opts.db, done);
        taken += done.length;
      }
      if (rows.length < batchSize) break;
    }
    return taken;
  }

  const loop = periodicPass(pass, pollMs, (err) =>
    log.warn({ err }, 'operational events: pass failed; trying again'),
  );
  return { start: loop.start, stop: loop.stop, runOnce: loop.runOnce };
}
