/**
 * What the database does while single-event publishes run one at a time (issue 21): `node --import
 * tsx bench/statement-times.ts` prints JSON — the call's p50/p90/p99 and, for every statement
 * Herald's process sent during the timed calls, how many and how long each took (mean, p50, p90),
 * by prepared statement name (or the text's start). Herald as `herald serve` in this process on
 * PostgreSQL (a fresh schema), a tenant with `ENDPOINTS` (default 1) endpoints at a loopback
 * receiver (bench/slow-receiver.ts), 200 warm-up calls, then `CALLS` (default 1,000).
 *
 * `SPLIT=1`: the API alone in this process and a `herald worker` in a child process on the same
 * schema, so delivery shares no event loop with the calls (and goes through claims: no handoff).
 * Nothing asserts on time. TEST_DATABASE_URL as for the tests; loopback only.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { Agent, request } from 'undici';
import type { Queryable, Sql } from '../src/db/db.ts';
import { round } from './isolation-figures.ts';
import { ADMIN_KEY, createEndpoints, startFreshHerald } from './isolation-herald.ts';
import { startSlowReceivers } from './slow-receiver-client.ts';

const DB_URL = process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const CALLS = Number(process.env['CALLS'] ?? 1_000);
const ENDPOINTS = Number(process.env['ENDPOINTS'] ?? 1);
const SPLIT = process.env['SPLIT'] === '1';
const WARMUP = 200;

const pct = (sorted: readonly number[], p: number) =>
  round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN, 3);
const figures = (ms: number[]) => {
  const s = [...ms].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / Math.max(1, s.length);
  return {
    count: s.length,
    meanMs: round(mean, 3),
    p50Ms: pct(s, 0.5),
    p90Ms: pct(s, 0.9),
    p99Ms: pct(s, 0.99),
  };
};

/** A `herald worker` in a child process on the API's schema (bench/statement-times-worker.ts). */
async function startWorker(env: Readonly<Record<string, string>>): Promise<ChildProcess> {
  const child = fork(
    new URL('./statement-times-worker.ts', import.meta.url).pathname,
    [JSON.stringify(env)],
    {
      execArgv: ['--import', 'tsx'],
    },
  );
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`worker exited (${code}) before it started`)));
  });
  return child;
}

const receivers = await startSlowReceivers(1);
const h = await startFreshHerald(DB_URL, { worker: !SPLIT });
const worker = SPLIT ? await startWorker(h.env) : undefined;
const agent = new Agent({ connections: 4, keepAliveTimeout: 30_000 });
try {
  const url = `http://127.0.0.1:${receivers.ports[0]}`;
  if (ENDPOINTS > 0)
    await createEndpoints(
      h,
      Array.from({ length: ENDPOINTS }, (_, i) => ({ tenant: 'seq', url: `${url}/seq/e${i}`, type: 'x.y' })),
    );
  else await h.api('POST', '/v1/tenants', { id: 'seq', name: 'seq' });

  // Every statement of this process, timed while `timing` is on.
  const { db } = h.herald.ctx;
  const query = db.query.bind(db);
  const statements = new Map<string, number[]>();
  let timing = false;
  db.query = (async (sql: Sql, params?: readonly unknown[]) => {
    const t0 = performance.now();
    try {
      return await query(sql, params);
    } finally {
      if (timing) {
        const name = typeof sql === 'string' ? sql.slice(0, 40).replace(/\s+/g, ' ') : sql.name;
        const list = statements.get(name) ?? [];
        list.push(performance.now() - t0);
        statements.set(name, list);
      }
    }
  }) as Queryable['query'];

  const publish = async (n: number) => {
    const res = await request(`${h.herald.url}/v1/tenants/seq/events`, {
      method: 'POST',
      dispatcher: agent,
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'x.y', data: { n } }),
    });
    await res.body.text();
    if (res.statusCode !== 202) throw new Error(`publish → ${res.statusCode}`);
  };
  for (let i = 0; i < WARMUP; i++) await publish(i);
  timing = true;
  const calls: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const t0 = performance.now();
    await publish(WARMUP + i);
    calls.push(performance.now() - t0);
  }
  timing = false;
  const out = {
    endpoints: ENDPOINTS,
    split: SPLIT,
    call: figures(calls),
    statements: Object.fromEntries([...statements].map(([name, ms]) => [name, figures(ms)])),
  };
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
} finally {
  if (worker) {
    worker.send('stop');
    await new Promise((r) => worker.once('exit', r));
  }
  await agent.close();
  await h.stop();
  receivers.close();
}
