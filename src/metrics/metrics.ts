/**
 * Prometheus metrics for /metrics. Each process exports what is true of it:
 * - delivery counters (outcomes, attempt durations) only where a dispatcher runs (`deliveries: true`:
 *   `herald serve`, `herald worker`), since only the process that delivers can count deliveries — an
 *   API-only process showing them at 0 would say nothing was delivered;
 * - the queue's gauges (due backlog, age of the oldest due delivery, endpoints with an open circuit or
 *   a lowered limit) in every role, read from the database when scraped, so the same in every process;
 * - Node's process metrics, when asked.
 * docs/operations.md lists them by role. A registry of its own, so tests and several Herald instances
 * in one process do not share counters.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Clock } from '../core/clock.ts';
import type { Queryable } from '../db/db.ts';
import { queueStats } from '../queue/queue-stats.ts';
import type { NextStepLabel } from '../rules/delivery-status.ts';
import { endpointHealthCounts } from '../store/endpoint-health.ts';

/** The dispatcher's side of the metrics. */
export interface DeliveryMetrics {
  /** An attempt finished, with its next step (the label `outcome`, for compatibility) and duration. */
  attemptFinished(step: NextStepLabel, durationMs: number): void;
}

/** What every process's /metrics renders. */
export interface HeraldMetrics {
  readonly registry: Registry;
  /** The text /metrics answers, and its content type. */
  render(): Promise<{ contentType: string; body: string }>;
}

/** The metrics of a process that runs a dispatcher: it counts its deliveries too. */
export type WorkerMetrics = HeraldMetrics & DeliveryMetrics;

export interface MetricsOptions {
  /** Where queue gauges are read from on scrape; omitted = no queue gauges. */
  db?: Queryable;
  /** Injected time for the queue gauges (tests); omitted = the database's clock. */
  clock?: Clock;
  /** Also export Node's process metrics (CPU, memory, event loop lag). */
  processMetrics?: boolean;
  /** This process runs a dispatcher: export the delivery counters it increments. */
  deliveries?: boolean;
}

/**
 * One read shared by the gauges collected in the same scrape: the promise is kept until the scrape's
 * collectors have all started (they start together), then dropped so the next scrape reads afresh.
 */
function perScrape<T>(read: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= read().finally(() => {
      setImmediate(() => {
        pending = undefined;
      });
    });
    return pending;
  };
}

/**
 * @example const metrics = createMetrics({ db, deliveries: true }); createDispatcher({ …, metrics }); (await metrics.render()).body
 */
export function createMetrics(opts: MetricsOptions & { deliveries: true }): WorkerMetrics;
export function createMetrics(opts?: MetricsOptions): HeraldMetrics;
export function createMetrics(opts: MetricsOptions = {}): HeraldMetrics | WorkerMetrics {
  const registry = new Registry();
  if (opts.processMetrics) collectDefaultMetrics({ register: registry, prefix: 'herald_' });
  if (opts.db) queueGauges(registry, opts.db, opts.clock);
  const render = async () => ({ contentType: registry.contentType, body: await registry.metrics() });
  if (!opts.deliveries) return { registry, render };
  return { registry, render, ...deliveryCounters(registry) };
}

/** The dispatcher's counters, registered in `registry`. */
function deliveryCounters(registry: Registry): DeliveryMetrics {
  const outcomes = new Counter({
    name: 'herald_deliveries_total',
    help: 'Delivery attempts by what became of the delivery: succeeded, retrying (another attempt is scheduled) or failed (schedule used up)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'herald_attempt_duration_seconds',
    help: 'Duration of delivery attempts (HTTP request and response excerpt)',
    labelNames: ['outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30],
    registers: [registry],
  });

  // One child per outcome, bound once: every attempt counts, and looking a child up by its label
  // object (hashing the labels) costs more than the counting itself.
  const children = new Map(
    (['succeeded', 'retrying', 'failed'] as const).map((outcome) => {
      const counter = outcomes.labels({ outcome });
      counter.inc(0);
      return [outcome, { counter, duration: duration.labels({ outcome }) }] as const;
    }),
  );

  return {
    attemptFinished(outcome, durationMs) {
      const child = children.get(outcome)!;
      child.counter.inc();
      child.duration.observe(durationMs / 1000);
    },
  };
}

/** The queue's gauges, read from the database when scraped: the same in every process. */
function queueGauges(registry: Registry, db: Queryable, clock: Clock | undefined): void {
  // Each pair of gauges comes from one query per scrape.
  const stats = perScrape(() => queueStats(db, { now: clock?.now() ?? null }));
  const health = perScrape(() => endpointHealthCounts(db));
  new Gauge({
    name: 'herald_due_backlog',
    help: 'Deliveries due and waiting for a worker',
    registers: [registry],
    async collect() {
      this.set((await stats()).due);
    },
  });
  new Gauge({
    name: 'herald_oldest_due_age_seconds',
    help: 'How long the oldest due delivery has been waiting for a worker',
    registers: [registry],
    async collect() {
      this.set((await stats()).oldestDueAgeSeconds);
    },
  });
  new Gauge({
    name: 'herald_endpoints_circuit_open',
    help: 'Active endpoints whose circuit breaker is open, half-open (probing) included: their deliveries wait',
    registers: [registry],
    async collect() {
      this.set((await health()).circuitOpen);
    },
  });
  new Gauge({
    name: 'herald_endpoints_throttled',
    help: 'Active endpoints failing and held by their adaptive limit below the maximum of requests in flight',
    registers: [registry],
    async collect() {
      this.set((await health()).throttled);
    },
  });
}
