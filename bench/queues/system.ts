/**
 * A general-purpose job queue as the comparison runs it (bench/queues/): jobs added in batches,
 * each job's handler one webhook delivery (`deliver`: a fresh body, signed, POSTed — what Herald's
 * delivery does, bench/raw-post.ts — answering what an attempt log would keep of it), 64 handlers
 * at a time.
 */
import type { PostOutcome } from '../raw-post.ts';

export interface QueueJob {
  id: string;
  data: unknown;
}

export interface QueueSystem {
  /** Adds one batch of jobs; resolves once the queue has accepted (stored) them. */
  add(jobs: readonly QueueJob[]): Promise<void>;
  stop(): Promise<void>;
}

export interface QueueSystemOptions {
  /** The job handler: one delivery. */
  deliver(job: QueueJob): Promise<PostOutcome>;
  /** PostgreSQL to keep the queue in (the systems on PostgreSQL, each in a schema of its own). */
  databaseUrl: string;
  /** A name this run's tables, schema or keys are kept apart by. */
  tag: string;
  /** Handlers at a time. */
  concurrency: number;
}

export type StartQueueSystem = (o: QueueSystemOptions) => Promise<QueueSystem>;

export interface QueueSystemEntry {
  start: StartQueueSystem;
  /**
   * Run by the comparison for every system before any starts: what must not happen while another
   * system runs (graphile-worker's migrations: a worker that sees another schema migrated stops).
   */
  prepare?(o: Pick<QueueSystemOptions, 'databaseUrl' | 'tag'>): Promise<void>;
  /** Why it cannot run on this machine (its store is not there), or undefined. */
  unavailable?(): Promise<string | undefined>;
}
