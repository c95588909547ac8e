/**
 * The dispatcher's options and tuning, with their defaults. See dispatcher.ts for how they are used.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Dispatcher as UndiciDispatcher } from 'undici';
import type { Clock } from '../core/clock.ts';
import type { Db } from '../db/db.ts';
import type { DeliveryMetrics } from '../metrics/metrics.ts';
import type { Profile } from '../profiles/profile.ts';
import type { DeliveryHandoff } from '../queue/handoff.ts';
import { DEFAULT_RETRY_SCHEDULE } from '../rules/retry-policy.ts';
import type { SecretBox } from '../security/secret-box.ts';
import type { DeliveryLogger } from './logger.ts';
import { DEFAULT_MAX_EXCERPT_BYTES } from './sender.ts';
import type { SenderThread } from './sender-thread.ts';

export interface DispatcherConfig {
  /** Most deliveries one claim takes. */
  batchSize: number;
  /** Most requests in flight at once. */
  concurrency: number;
  /** Most requests in flight at once to one endpoint, cluster-wide (claim-deliveries.ts). */
  maxInFlightPerEndpoint: number;
  /** Most requests in flight at once for one tenant, cluster-wide (claim-deliveries.ts). */
  maxInFlightPerTenant: number;
  /**
   * How many limits' worth of one endpoint's deliveries a claim may leave this process holding
   * (those in flight included) where it alone holds the endpoint's leases (claim-deliveries.ts).
   */
  claimAhead: number;
  /** Consecutive failed attempts that open an endpoint's circuit (record-outcomes.ts). */
  circuitFailureThreshold: number;
  /** How long a circuit first stays open; doubled after each failed probe. */
  circuitCooldownMs: number;
  /** The longest a circuit stays open before its next probe. */
  circuitMaxCooldownMs: number;
  /** Lease on a claimed delivery, on top of its endpoint's total timeout. */
  leaseMs: number;
  /** Most event bytes (as JSON) of handed-over deliveries held at once: large payloads take fewer. */
  maxHeldBytes: number;
  /** Longest idle wait between claims. */
  pollIntervalMs: number;
  defaultRetrySchedule: readonly number[];
  /** Used when neither the endpoint nor its profile sets one. */
  defaultTotalTimeoutMs: number;
  /** Outcomes written per round trip, at most. */
  flushMaxItems: number;
  /**
   * How long the first outcome of a batch waits for others: fewer, fuller recording statements
   * (each costs the database a fixed ~0.2 ms besides its rows) at the cost of the outcome showing
   * that much later.
   */
  flushDelayMs: number;
  /**
   * The same wait once the batch holds an outcome something waits on: a FIFO delivery's, or a
   * claimed one's (settlement-recorder.ts, `isPrompt`). Only handed-over deliveries' wait longer.
   */
  promptFlushDelayMs: number;
  maxExcerptBytes: number;
  /** Wait after a failed claim (database unavailable). */
  claimErrorBackoffMs: number;
}

export const DEFAULT_DISPATCHER_CONFIG: DispatcherConfig = {
  batchSize: 200,
  concurrency: 2_000,
  maxInFlightPerEndpoint: 64,
  maxInFlightPerTenant: 500,
  claimAhead: 8,
  circuitFailureThreshold: 20,
  circuitCooldownMs: 30_000,
  circuitMaxCooldownMs: 600_000,
  leaseMs: 30_000,
  maxHeldBytes: 32 * 1024 * 1024,
  pollIntervalMs: 1_000,
  defaultRetrySchedule: DEFAULT_RETRY_SCHEDULE,
  defaultTotalTimeoutMs: 15_000,
  flushMaxItems: 500,
  flushDelayMs: 10,
  promptFlushDelayMs: 2,
  maxExcerptBytes: DEFAULT_MAX_EXCERPT_BYTES,
  claimErrorBackoffMs: 1_000,
};

export interface DispatcherOptions {
  db: Db;
  secretBox: SecretBox;
  /** The HTTP agent (the SSRF-guarded one in production), with the default 3 s connect timeout. */
  agent: UndiciDispatcher;
  /**
   * Builds an agent for an endpoint's own connect timeout (undici sets connect timeouts per agent);
   * one is kept per distinct value. Without it such endpoints use `agent`'s connect timeout.
   */
  agentForConnectTimeout?: (connectTimeoutMs: number) => UndiciDispatcher;
  /**
   * Webhook requests on a thread of their own (sender-thread.ts) instead of through `agent`; the
   * caller's to close. `agent` still serves OAuth token requests.
   */
  sender?: SenderThread;
  /**
   * Injected time. When given (tests), it is also the queue's clock: due-ness, leases and retry
   * times use it instead of the database's now().
   */
  clock?: Clock;
  workerId?: string;
  config?: Partial<DispatcherConfig>;
  logger?: DeliveryLogger;
  metrics?: DeliveryMetrics;
  /** [0, 1), for retry jitter. */
  random?: () => number;
  /** The profiles this dispatcher can render; default: `standard`. */
  profiles?: readonly Profile[];
  /** LISTEN for publish notifications (default true). */
  listen?: boolean;
}

export interface DeliveryDispatcher {
  readonly workerId: string;
  /** Requests currently out. */
  readonly inFlight: number;
  /** Started and not stopping: claiming and sending (readiness, src/metrics/readiness.ts). */
  readonly running: boolean;
  start(): Promise<void>;
  /** Drains: see the module comment. Resolves when every claim is recorded or released. */
  stop(opts?: { graceMs?: number }): Promise<void>;
  /** Claims now if there is room (something may be due). */
  wake(): void;
  /** For publishing in the same process: new deliveries handed over to this dispatcher. */
  readonly handoff: DeliveryHandoff;
}

export function defaultWorkerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}
