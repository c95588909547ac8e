/**
 * graphile-worker 0.17 (PostgreSQL): `run` with 64 concurrent jobs, jobs added with `addJobs` in
 * batches. `batched`: its batching settings (docs: "Performance — batching"): a local queue that
 * locks and fetches 500 jobs at a time, and completions written together (`completeJobBatchDelay`
 * 0: whatever finished in the same turn). Without: its defaults, one fetch and one completion per job.
 */
import { Logger, makeWorkerUtils, run } from 'graphile-worker';
import pg from 'pg';
import type { QueueJob, QueueSystemEntry } from './system.ts';

const quiet = new Logger(() => () => {});

const schemaOf = (tag: string) => `bench_gw_${tag}`;

export const graphileWorker = (batched: boolean): QueueSystemEntry => ({
  // A fresh schema, migrated before any worker runs: graphile-worker announces a migration on a
  // channel every schema's workers listen on, and a worker that hears one stops ("breaking
  // migration"), whichever schema it was.
  async prepare(o) {
    const schema = schemaOf(o.tag);
    const admin = new pg.Client({ connectionString: o.databaseUrl });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
    const utils = await makeWorkerUtils({ connectionString: o.databaseUrl, schema, logger: quiet });
    await utils.migrate();
    await utils.release();
  },
  async start(o) {
    const schema = schemaOf(o.tag);
    const utils = await makeWorkerUtils({ connectionString: o.databaseUrl, schema, logger: quiet });
    const runner = await run({
      connectionString: o.databaseUrl,
      schema,
      logger: quiet,
      concurrency: o.concurrency,
      noHandleSignals: true,
      pollInterval: 1000,
      // Its documentation's advice for a pool: at least concurrency + 2.
      maxPoolSize: o.concurrency + 2,
      taskList: {
        deliver: async (payload) => {
          await o.deliver(payload as QueueJob);
        },
      },
      ...(batched
        ? {
            preset: { worker: { localQueue: { size: 500 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 } },
          }
        : {}),
    });
    return {
      async add(jobs) {
        await utils.addJobs(jobs.map((payload) => ({ identifier: 'deliver', payload })));
      },
      async stop() {
        await runner.stop();
        await utils.release();
        const c = new pg.Client({ connectionString: o.databaseUrl });
        await c.connect();
        await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await c.end();
      },
    };
  },
});
