/** The queue systems of the comparison, by the name its figures carry (bench/queues/compare.ts). */
import { bullmq } from './bullmq.ts';
import { graphileWorker } from './graphile-worker.ts';
import { skipLocked } from './skip-locked.ts';
import type { QueueSystemEntry } from './system.ts';

export const SYSTEMS: Record<string, QueueSystemEntry> = {
  graphileWorkerBatched: graphileWorker(true),
  skipLocked,
  bullmq,
  graphileWorkerDefaults: graphileWorker(false),
};
