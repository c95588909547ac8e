/**
 * Prometheus metrics for /metrics: what the dispatcher counts as it goes (outcomes, attempt
 * durations) and what the queue looks like, read from the database when scraped (due backlog, age of
 * the oldest due delivery, endpoints with an open circuit or a lowered limit). A registry of its own,
 * so tests and several Herald instances in one process do not share counters.
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

export interface HeraldMetrics extends DeliveryMetrics {
  readonly registry: Registry;
  /** The text /metrics answers, and its content type. */
  render(): Promise<{ contentType: string; body: string }>;
}

export interface MetricsOptions {
  /** Where queue gauges are read from on scrape; omitted = no queue gauges. */
  db?: Queryable;
  /** Injected time for the queue gauges (tests); omitted = the database's clock. */
  clock?: Clock;
  /** Also export Node's process metrics (CPU, memory, event loop lag). */
  processMetrics?: boolean;
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
 * @example const metrics = createMetrics({ db }); app.get('/metrics', async (_, reply) => { const m = await metrics.render(); reply.type(m.contentType).send(m.body) })
 */
export function createMetrics(opts: MetricsOptions = {}): HeraldMetrics {
  const registry = new Registry();
  if (opts.processMetrics) collectDefaultMetrics({ register: registry, prefix: 'herald_' });

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

  if (opts.db) {
    const db = opts.db;
    // Each pair of gauges comes from one query per scrape.
    const stats = perScrape(() => queueStats(db, { now: opts.clock?.now() ?? null }));
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
    registry,
    attemptFinished(outcome, durationMs) {
      const child = children.get(outcome)!;
      child.counter.inc();
      child.duration.observe(durationMs / 1000);
    },
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
