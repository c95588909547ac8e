/**
 * BullMQ 6 on the machine's Redis (which keeps nothing on disk here): a `Worker` with 64 concurrent
 * jobs, jobs added with `addBulk` in batches, its defaults otherwise (completed jobs are kept).
 */
import { connect } from 'node:net';
import { Queue, Worker } from 'bullmq';
import type { QueueJob, QueueSystemEntry, StartQueueSystem } from './system.ts';

const REDIS = { host: '127.0.0.1', port: Number(process.env['BENCH_REDIS_PORT'] ?? 6379) };

/** Whether Redis answers at REDIS: a TCP connection within a second. */
function redisUnavailable(): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect(REDIS.port, REDIS.host);
    const done = (reason?: string) => {
      socket.destroy();
      resolve(reason);
    };
    socket.setTimeout(1000, () => done(`no Redis at ${REDIS.host}:${REDIS.port} (BENCH_REDIS_PORT)`));
    socket.once('connect', () => done());
    socket.once('error', () => done(`no Redis at ${REDIS.host}:${REDIS.port} (BENCH_REDIS_PORT)`));
  });
}

const start: StartQueueSystem = async (o) => {
  const name = `bench_${o.tag}`;
  const queue = new Queue(name, { connection: REDIS });
  await queue.obliterate({ force: true });
  const worker = new Worker(
    name,
    async (job) => {
      await o.deliver(job.data as QueueJob);
    },
    {
      connection: REDIS,
      concurrency: o.concurrency,
    },
  );
  await worker.waitUntilReady();
  return {
    async add(jobs) {
      await queue.addBulk(jobs.map((data) => ({ name: 'deliver', data })));
    },
    async stop() {
      await worker.close();
      await queue.obliterate({ force: true });
      await queue.close();
    },
  };
};

export const bullmq: QueueSystemEntry = { start, unavailable: redisUnavailable };
