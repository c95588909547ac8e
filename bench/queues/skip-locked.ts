/**
 * A hand-rolled PostgreSQL queue, as a team would write one: a jobs table claimed with
 * `FOR UPDATE SKIP LOCKED` under a lease, 100 at a time, one claim at a time while fewer than
 * concurrency + 100 jobs are held; each finished job deleted and one attempt row written for it
 * (what Herald's attempt log keeps: status, duration, request and response headers, an excerpt),
 * the finished jobs of a turn in one statement (500 at most), one such write at a time. A failed job
 * is retried a second later. The producer shares the process, so it wakes the claimer when it adds
 * (a LISTEN/NOTIFY would do across processes); an idle claimer polls every 50 ms.
 */
import pg from 'pg';
import type { PostOutcome } from '../raw-post.ts';
import type { QueueJob, QueueSystemEntry, StartQueueSystem } from './system.ts';

const CLAIM = `UPDATE jobs SET locked_until = now() + interval '5 minutes', attempts = attempts + 1
  WHERE id IN (SELECT id FROM jobs WHERE run_at <= now() AND (locked_until IS NULL OR locked_until < now())
               ORDER BY run_at LIMIT $1 FOR UPDATE SKIP LOCKED)
  RETURNING id, payload, attempts`;
const FINISH = `WITH d AS (SELECT * FROM json_to_recordset($1::json)
    AS d(id bigint, attempt int, status int, ms int, request_headers json, response_headers json, excerpt text)),
  done AS (DELETE FROM jobs j USING d WHERE j.id = d.id AND d.status = 200),
  retry AS (UPDATE jobs j SET locked_until = NULL, run_at = now() + interval '1 second'
            FROM d WHERE j.id = d.id AND d.status <> 200)
  INSERT INTO attempts (job_id, attempt, status_code, duration_ms, request_headers, response_headers, excerpt)
  SELECT id, attempt, status, ms, request_headers, response_headers, excerpt FROM d`;

interface Finished {
  id: string;
  attempt: number;
  status: number;
  ms: number;
  request_headers?: PostOutcome['requestHeaders'];
  response_headers?: PostOutcome['responseHeaders'];
  excerpt?: string;
}

const start: StartQueueSystem = async (o) => {
  const schema = `bench_sl_${o.tag}`;
  const url = new URL(o.databaseUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  const pool = new pg.Pool({ connectionString: url.toString(), max: 4 });
  await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`);
  await pool.query(`
    CREATE TABLE jobs (id bigserial PRIMARY KEY, payload json NOT NULL, run_at timestamptz NOT NULL DEFAULT now(),
      locked_until timestamptz, attempts int NOT NULL DEFAULT 0);
    CREATE INDEX jobs_run_at ON jobs (run_at);
    CREATE TABLE attempts (id bigserial PRIMARY KEY, job_id bigint NOT NULL, attempt int NOT NULL,
      status_code int NOT NULL, duration_ms int NOT NULL, request_headers json, response_headers json,
      excerpt text, created_at timestamptz NOT NULL DEFAULT now());`);

  let stopped = false;
  const ready: Array<{ id: string; payload: QueueJob; attempts: number }> = [];
  let readyHead = 0;
  let inFlight = 0;
  let claiming = false;
  let poll: NodeJS.Timeout | undefined;
  const finished: Finished[] = [];
  let writing: Promise<void> | undefined;

  const held = () => ready.length - readyHead + inFlight;
  function claim(): void {
    if (claiming || stopped || held() >= o.concurrency + 100) return;
    claiming = true;
    pool
      .query<{ id: string; payload: QueueJob; attempts: number }>(CLAIM, [100])
      .then(({ rows }) => {
        claiming = false;
        ready.push(...rows);
        start();
        if (rows.length > 0) claim();
        else
          poll ??= setTimeout(() => {
            poll = undefined;
            claim();
          }, 50);
      })
      .catch((err: unknown) => {
        claiming = false;
        if (!stopped) throw err;
      });
  }
  function start(): void {
    while (inFlight < o.concurrency && readyHead < ready.length) {
      const job = ready[readyHead++]!;
      inFlight++;
      const t0 = performance.now();
      o.deliver(job.payload).then(
        () =>
          done({ id: job.id, attempt: job.attempts, status: 200, ms: Math.round(performance.now() - t0) }),
        () => done({ id: job.id, attempt: job.attempts, status: 0, ms: Math.round(performance.now() - t0) }),
      );
    }
    if (readyHead === ready.length) {
      ready.length = 0;
      readyHead = 0;
    }
  }
  function done(f: Finished): void {
    inFlight--;
    finished.push(f);
    flush();
    start();
    claim();
  }
  function flush(): void {
    if (writing || finished.length === 0) return;
    writing = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => pool.query(FINISH, [JSON.stringify(finished.splice(0, 500))]))
      .then(() => {
        writing = undefined;
        flush();
      });
  }

  return {
    async add(jobs) {
      await pool.query('INSERT INTO jobs (payload) SELECT value FROM json_array_elements($1::json)', [
        JSON.stringify(jobs),
      ]);
      claim();
    },
    async stop() {
      stopped = true;
      if (poll) clearTimeout(poll);
      while (writing || inFlight > 0) await (writing ?? new Promise((r) => setTimeout(r, 5)));
      await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await pool.end();
    },
  };
};

export const skipLocked: QueueSystemEntry = { start };
