/**
 * `npm run bench`: Herald's throughput and latency against a loopback receiver, printed as JSON.
 *
 * The ceiling is what any webhook sender must do per delivery, without a database: a fresh ~300-byte
 * JSON body, HMAC-SHA256-signed Standard-Webhooks style, POSTed with undici, 64 in flight, to the
 * same receiver, which verifies every signature (bench/raw-post.ts, bench/receiver.ts). It is
 * measured in the same run, so every Herald figure is also given as a ratio to it; measured again
 * between each mode's end-to-end runs, the best seen (`ceilingPerSecond` in each mode) is what
 * ratios use. `bareCeilingPerSecond` is the earlier ceiling beside it: a small fixed body, no
 * signing. The receiver runs in a child process, and so does the publisher (the client calling
 * Herald's API in batches of 100, bench/publisher.ts: another program in use, so neither its CPU nor
 * its turns on the event loop are Herald's); Herald (API + dispatcher, as `herald serve`) runs in
 * this one, its endpoint signing with the secret the receiver verifies with.
 *
 * With several modes (the default), each runs in a process of its own (`modesApart`).
 *
 * `coldEndToEndPerSecond`: the first BENCH_EVENTS events after Herald starts (no warm-up), first
 * publish to last receipt; `endToEndPerSecond`: the best of three after a warm-up.
 *
 * `dispatcherOnlyPerSecond` / `dispatcherOnlyCpuMicrosPerDelivery`: BENCH_EVENTS deliveries made due
 * with SQL, so only the dispatcher works; the CPU spent per delivery by Herald (this process), the
 * receiver, the publisher and PostgreSQL. `endToEndCpuMicrosPerDelivery`: the same for the end-to-end run, and
 * `rawCeilingCpuMicrosPerRequest` for the ceiling's client and receiver. `claimPerSecond` and
 * `claimCpuMicrosPerDelivery`: one claimer taking BENCH_EVENTS due deliveries in batches of 100, no
 * HTTP; `futureSlowdownPercent`: the claim's CPU per delivery beside BENCH_FUTURE deliveries
 * scheduled a day ahead (a million future retries) against without, measured in turns in two
 * stores of their own (bench/future-claims.ts).
 * `databaseCpuMicrosPerDelivery` (PostgreSQL): publishing, claiming and recording BENCH_EVENTS
 * deliveries without HTTP, the CPU each step costs PostgreSQL and Node (bench/database-phases.ts).
 * `durableLoopPerSecond`: the ceiling's raw requests with Herald's database work around them and
 * nothing else (bench/durable-loop.ts) — what the end-to-end figure could reach at best.
 *
 * `isolation` (PostgreSQL): slow, hanging and flaky receivers and what they do to other endpoints'
 * and tenants' deliveries (bench/isolation.ts); `BENCH_ONLY=isolation` runs that group alone.
 * `publishLatency` (PostgreSQL, and PGlite once): single-event publish call times and publish →
 * receipt, sequential, paced and after a burst (bench/publish-latency.ts); `BENCH_ONLY=publishLatency`.
 * `queues`: Herald on PostgreSQL against general-purpose job queues delivering the same webhooks in
 * the same run — graphile-worker (batching settings and defaults), a hand-rolled SKIP LOCKED queue,
 * BullMQ on Redis (skipped without one) — (bench/queues/compare.ts); `BENCH_ONLY=queues`.
 *
 * Options (environment): BENCH_MODES=postgres,pglite  BENCH_EVENTS=20000  BENCH_FUTURE=1000000
 *   BENCH_LATENCY_SECONDS=10  TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test
 *   BENCH_ONLY=throughput|isolation|publishLatency|queues (throughput: the ceilings and the modes only;
 *   endToEnd: the ceilings, then per mode the cold and warm end to end and the durable loop only)
 *   HERALD_* settings in the environment apply to the Herald under test (e.g.
 *   HERALD_MAX_IN_FLIGHT_PER_ENDPOINT), to compare settings in runs of the same shape.
 *   BENCH_QUEUE_ROUNDS=3 (the comparison's rounds), BENCH_REDIS_PORT=6379 (BullMQ's Redis).
 * Loopback only; every loop is bounded in count and time.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Agent, request } from 'undici';
import { loadConfig } from '../src/config/config.ts';
import { DELIVERY_CHANNEL_SQL } from '../src/queue/notify.ts';
import { generateEncryptionKey } from '../src/security/secret-box.ts';
import { type RunningHerald, startHerald } from '../src/server/start.ts';
import { postgresCpuMicros } from './backend-cpu.ts';
import { type Child, forkBenchChild } from './child.ts';
import { measureDatabasePhases } from './database-phases.ts';
import { runDurableLoop } from './durable-loop.ts';
import { insertDueDeliveries, insertFutureDeliveries, measureFutureClaims } from './future-claims.ts';
import { runIsolation } from './isolation.ts';
import { runPublishLatency } from './publish-latency.ts';
import { runQueueComparison } from './queues/compare.ts';
import { BENCH_SECRET, benchKey, rawAgent, rawBody, rawPost, signedPost } from './raw-post.ts';

const EVENTS = Number(process.env['BENCH_EVENTS'] ?? 20_000);
const FUTURE = Number(process.env['BENCH_FUTURE'] ?? 1_000_000);
const LATENCY_SECONDS = Number(process.env['BENCH_LATENCY_SECONDS'] ?? 10);
const MODES = (process.env['BENCH_MODES'] ?? 'postgres,pglite').split(',');
const DB_URL = process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const ONLY = process.env['BENCH_ONLY'] ?? '';
const CONCURRENCY = 64;
const ADMIN_KEY = 'hk_admin_benchmark_key_0123456789';
const DEADLINE_MS = 300_000;

// ---- the receiver (child process) ----------------------------------------------------------

interface Receiver {
  port: number;
  stats(): Promise<{ count: number; badSignatures: number; latencies: number[]; cpuMicros: number }>;
  reset(): Promise<void>;
  close(): void;
}

/** Forks bench/`file` and waits for its first message (its hello). */
const forkChild = (file: string) => forkBenchChild(join(import.meta.dirname, file));

async function startReceiver(): Promise<Receiver> {
  const { child, hello } = await forkChild('receiver.ts');
  return {
    port: hello['port'] as number,
    stats: () => child.ask({ cmd: 'stats' }, 'count'),
    reset: async () => {
      await child.ask({ cmd: 'reset' }, 'ok');
    },
    close: () => child.close(),
  };
}

// ---- the publisher (child process) ----------------------------------------------------------------

/** The client publishing through Herald's API (bench/publisher.ts): a program of its own, as in use. */
let publisher: Child | undefined;

/** `n` events in batches of 100, `parallel` calls at a time, from the publisher; answers the ms taken. */
async function publishBatches(
  herald: RunningHerald,
  tenant: string,
  n: number,
  parallel: number,
): Promise<number> {
  if (!publisher) throw new Error('the publisher is started with the receiver');
  const from = published;
  published += n;
  const { ms } = await publisher.ask<{ ms: number }>(
    { cmd: 'publish', url: herald.url, key: ADMIN_KEY, tenant, n, parallel, from },
    'ms',
  );
  return ms;
}
let published = 0;

async function waitForCount(rx: Receiver, n: number): Promise<number> {
  const start = performance.now();
  for (;;) {
    const { count, badSignatures } = await rx.stats();
    if (badSignatures > 0) throw new Error(`the receiver refused ${badSignatures} signatures`);
    if (count >= n) return performance.now();
    if (performance.now() - start > DEADLINE_MS) throw new Error(`receiver got ${count}/${n} in time`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

// ---- where the CPU goes --------------------------------------------------------------------------

interface CpuMark {
  herald: number;
  receiver: number;
  /** The publishing client's (bench/publisher.ts). */
  publisher: number;
  postgres: number;
}

async function cpuMark(rx: Receiver): Promise<CpuMark> {
  const own = process.cpuUsage();
  return {
    herald: own.user + own.system,
    receiver: (await rx.stats()).cpuMicros,
    publisher: publisher
      ? (await publisher.ask<{ cpuMicros: number }>({ cmd: 'cpu' }, 'cpuMicros')).cpuMicros
      : 0,
    postgres: postgresCpuMicros(),
  };
}

/**
 * µs of CPU per delivery since `from`, by process: Herald (this process), the receiver, the
 * publisher, PostgreSQL.
 */
async function cpuPerDelivery(rx: Receiver, from: CpuMark, n: number): Promise<CpuMark> {
  const to = await cpuMark(rx);
  return {
    herald: round((to.herald - from.herald) / n),
    receiver: round((to.receiver - from.receiver) / n),
    publisher: round((to.publisher - from.publisher) / n),
    postgres: round((to.postgres - from.postgres) / n),
  };
}

// ---- the ceilings: signed (fresh body, HMAC) and bare undici POSTs ------------------------------

async function rawCeiling(rx: Receiver, n: number, kind: 'signed' | 'bare' = 'signed'): Promise<number> {
  const agent = rawAgent();
  const body = rawBody();
  const key = benchKey();
  const url = `http://127.0.0.1:${rx.port}/${kind === 'signed' ? 'signed' : 'raw'}`;
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < n) {
        const i = next++;
        await (kind === 'signed' ? signedPost(agent, url, key, i) : rawPost(agent, url, body));
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  await agent.close();
  const { badSignatures } = await rx.stats();
  if (badSignatures > 0) throw new Error(`the receiver refused ${badSignatures} signatures`);
  return n / seconds;
}

// ---- Herald -----------------------------------------------------------------------------------

async function startMode(mode: string): Promise<{ herald: RunningHerald; cleanup: () => Promise<void> }> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (k.startsWith('HERALD_') && v !== undefined) env[k] = v;
  Object.assign(env, { PORT: '0', LOG_LEVEL: 'warn', HERALD_ADMIN_KEY: ADMIN_KEY });
  env['HERALD_ALLOW_PRIVATE_NETWORKS'] = 'true';
  let cleanup = async () => {};
  if (mode === 'pglite') {
    const dir = mkdtempSync(join(tmpdir(), 'herald-bench-'));
    env['HERALD_DATA_DIR'] = dir;
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  } else {
    const schema = `bench_${process.pid}`;
    const admin = new pg.Client({ connectionString: DB_URL });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`);
    await admin.end();
    const url = new URL(DB_URL);
    url.searchParams.set('options', `-c search_path=${schema}`);
    env['DATABASE_URL'] = url.toString();
    env['HERALD_ENCRYPTION_KEY'] = generateEncryptionKey();
    cleanup = async () => {
      const c = new pg.Client({ connectionString: DB_URL });
      await c.connect();
      await c.query(`DROP SCHEMA ${schema} CASCADE`);
      await c.end();
    };
  }
  const herald = await startHerald(loadConfig({}, env), { api: true, worker: true }, { drainMs: 1000 });
  return { herald, cleanup };
}

const apiAgent = new Agent({ connections: 32, keepAliveTimeout: 30_000 });

async function api(herald: RunningHerald, method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await request(`${herald.url}${path}`, {
    method: method as 'POST',
    dispatcher: apiAgent,
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.body.text();
  if (res.statusCode >= 300) throw new Error(`${method} ${path} → ${res.statusCode} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/**
 * EVENTS deliveries inserted a minute ahead, then made due at once and the dispatcher woken: the
 * clock starts when the work is there (not while the rows are written), and stops at the last
 * receipt. `tag` keeps each run's rows apart.
 */
async function dispatcherOnly(
  herald: RunningHerald,
  rx: Receiver,
  tag: string,
): Promise<{ perSecond: number; cpu: CpuMark }> {
  const db = herald.ctx.db;
  await insertDueDeliveries(db, tag, EVENTS, '1 minute');
  await rx.reset();
  await db.query(
    `WITH due AS (UPDATE deliveries SET next_attempt_at = now()
                  WHERE tenant_id = 'bench' AND event_id = $1 RETURNING endpoint_id),
     lowered AS (UPDATE endpoints SET next_due_at = now(), due_version = due_version + 1
                  WHERE id IN (SELECT endpoint_id FROM due))
     SELECT pg_notify(${DELIVERY_CHANNEL_SQL}, '') FROM (SELECT count(*) FROM due) AS n`,
    [tag],
  );
  // From the commit: the dispatcher cannot start earlier, and writing the rows is not its work.
  const cpu0 = await cpuMark(rx);
  const d0 = performance.now();
  const d1 = await waitForCount(rx, EVENTS);
  // Herald's share includes polling the receiver from this process (tiny).
  return { perSecond: round(EVENTS / ((d1 - d0) / 1000)), cpu: await cpuPerDelivery(rx, cpu0, EVENTS) };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

async function benchMode(mode: string, rx: Receiver, firstCeiling: number): Promise<Record<string, unknown>> {
  const { herald, cleanup } = await startMode(mode);
  const out: Record<string, unknown> = {};
  try {
    const hook = `http://127.0.0.1:${rx.port}/hook`;
    await api(herald, 'POST', '/v1/tenants', { id: 'bench', name: 'Bench' });
    await api(herald, 'POST', '/v1/tenants/bench/endpoints', {
      url: hook,
      eventTypes: ['invoice.*'],
      secret: BENCH_SECRET,
    });

    // Cold: the first EVENTS events after Herald started, before anything warmed it up. Herald's
    // cold, not its client's: the publisher first sends the same calls to the receiver (which answers
    // them as it does the ceiling's bare requests), so its own JIT warm-up — ~2.5 times its warm CPU
    // per event, on the same two cores — does not count against Herald.
    {
      await publisher!.ask(
        {
          cmd: 'publish',
          url: `http://127.0.0.1:${rx.port}/raw`,
          key: 'none',
          tenant: 'warm-up',
          n: EVENTS,
          parallel: 4,
          from: 0,
        },
        'ms',
      );
      await rx.reset();
      const c0 = await cpuMark(rx);
      const t0 = performance.now();
      await publishBatches(herald, 'bench', EVENTS, 4);
      const rate = EVENTS / (((await waitForCount(rx, EVENTS)) - t0) / 1000);
      out['coldEndToEndPerSecond'] = round(rate);
      out['coldEndToEndRatioToCeiling'] = round(rate / firstCeiling, 3);
      out['coldEndToEndCpuMicrosPerDelivery'] = await cpuPerDelivery(rx, c0, EVENTS);
    }

    // How fast this machine is right now, to read the rest by: the median round trip of a trivial
    // statement (0.1 ms on a quiet 2-core machine here; shared machines have been seen at 0.6).
    {
      const trips: number[] = [];
      for (let i = 0; i < 200; i++) {
        const s0 = performance.now();
        await herald.ctx.db.query('SELECT 1');
        trips.push(performance.now() - s0);
      }
      out['databaseRoundTripMs'] = round(trips.sort((a, b) => a - b)[100]!, 3);
    }

    // End to end: EVENTS events published in batches of 100; first publish to last receipt. Measured
    // as the ceiling is — after a warm-up, the best of three — so JIT warm-up (a cold first run is
    // ~20 % slower) counts against neither side. Each run is followed by the durable loop (Herald's
    // database work around raw undici requests, nothing else: the bound above the end-to-end
    // figure), so both see the same moments of a shared machine.
    await publishBatches(herald, 'bench', Math.min(5000, EVENTS), 4);
    await waitForCount(rx, Math.min(5000, EVENTS));
    let best: { rate: number; publishMs: number; cpu: CpuMark } | undefined;
    let bestDurable: { rate: number; cpu: CpuMark } | undefined;
    // The ceiling again in each round: its best over the whole run is what every ratio of this mode
    // is taken against, so a ceiling caught only at a slow moment cannot flatter them.
    let ceiling = firstCeiling;
    for (let i = 0; i < 3; i++) {
      ceiling = Math.max(ceiling, await rawCeiling(rx, EVENTS));

      await rx.reset();
      const c0 = await cpuMark(rx);
      const t0 = performance.now();
      const publishMs = await publishBatches(herald, 'bench', EVENTS, 4);
      const t1 = await waitForCount(rx, EVENTS);
      const rate = EVENTS / ((t1 - t0) / 1000);
      const cpu = await cpuPerDelivery(rx, c0, EVENTS);
      if (!best || rate > best.rate) best = { rate, publishMs, cpu };

      await rx.reset();
      const d0 = await cpuMark(rx);
      const ms = await runDurableLoop(herald.ctx.db, 'bench', hook, EVENTS, CONCURRENCY);
      const durable = EVENTS / (ms / 1000);
      const durableCpu = await cpuPerDelivery(rx, d0, EVENTS);
      if (!bestDurable || durable > bestDurable.rate) bestDurable = { rate: durable, cpu: durableCpu };
    }
    const e2e = best!.rate;
    out['ceilingPerSecond'] = round(ceiling);
    out['endToEndPerSecond'] = round(e2e);
    out['endToEndRatioToCeiling'] = round(e2e / ceiling, 3);
    out['endToEndCpuMicrosPerDelivery'] = best!.cpu;
    out['ingestBatchedEventsPerSecond'] = round(EVENTS / (best!.publishMs / 1000));
    out['durableLoopPerSecond'] = round(bestDurable!.rate);
    out['durableLoopRatioToCeiling'] = round(bestDurable!.rate / ceiling, 3);
    out['durableLoopCpuMicrosPerDelivery'] = bestDurable!.cpu;
    out['endToEndRatioToDurableLoop'] = round(e2e / bestDurable!.rate, 3);
    if (ONLY === 'endToEnd') return out;
    // Those runs left ~125,000 rows and as many dead row versions behind; vacuumed now, so that
    // autovacuum catching up on them does not fall into the latency and claim measurements below.
    await herald.ctx.db.exec('VACUUM (ANALYZE) deliveries, attempts, events, endpoints');
    await herald.ctx.db.exec('CHECKPOINT');

    // Ingest, one event per call (16 concurrent callers), deliveries included.
    await rx.reset();
    const singles = Math.min(2000, EVENTS);
    let next = 0;
    const s0 = performance.now();
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < singles) {
          next++;
          await api(herald, 'POST', '/v1/tenants/bench/events', {
            type: 'invoice.created',
            data: { n: next },
          });
        }
      }),
    );
    out['ingestSingleEventsPerSecond'] = round(singles / ((performance.now() - s0) / 1000));
    await waitForCount(rx, singles);

    // Latency at a steady 200 events/s.
    await rx.reset();
    const total = 200 * LATENCY_SECONDS;
    const l0 = performance.now();
    for (let i = 0; i < total; i++) {
      const due = l0 + i * 5;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      void api(herald, 'POST', '/v1/tenants/bench/events', {
        type: 'invoice.created',
        data: { sentAt: performance.timeOrigin + performance.now() },
      });
    }
    await waitForCount(rx, total);
    const lat = (await rx.stats()).latencies.sort((a, b) => a - b);
    out['latencyAt200PerSecondMs'] = {
      p50: round(percentile(lat, 50), 2),
      p99: round(percentile(lat, 99), 2),
    };

    // The dispatcher alone: EVENTS deliveries made due with SQL (no API work), and the CPU each costs.
    const alone = await dispatcherOnly(herald, rx, 'dispatcher_only');
    out['dispatcherOnlyPerSecond'] = alone.perSecond;
    out['dispatcherOnlyCpuMicrosPerDelivery'] = alone.cpu;

    // The database's share of a delivery, step by step, without HTTP (PostgreSQL: its own processes).
    if (mode === 'postgres') {
      out['databaseCpuMicrosPerDelivery'] = await measureDatabasePhases(DB_URL, EVENTS);
    }

    // Fan-out: one event to 1,000 endpoints.
    await api(herald, 'POST', '/v1/tenants', { id: 'fan', name: 'Fan-out' });
    for (let i = 0; i < 1000; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, j) =>
          api(herald, 'POST', '/v1/tenants/fan/endpoints', { url: `${hook}/${i + j}`, secret: BENCH_SECRET }),
        ),
      );
    }
    await rx.reset();
    const f0 = performance.now();
    await api(herald, 'POST', '/v1/tenants/fan/events', { type: 'order.shipped', data: { n: 1 } });
    out['fanOut1000EndpointsMs'] = round((await waitForCount(rx, 1000)) - f0);

    // Due-claiming with and without a million deliveries scheduled in the future, in two stores
    // of their own, measured in turns (bench/future-claims.ts); without future rows it is also the
    // plain claim rate.
    Object.assign(out, await measureFutureClaims(mode, DB_URL, EVENTS, FUTURE));

    // End to end again, beside a million future deliveries in Herald's own database.
    if (FUTURE > 0) {
      await insertFutureDeliveries(herald.ctx.db, FUTURE);
      await rx.reset();
      const g0 = performance.now();
      await publishBatches(herald, 'bench', EVENTS, 4);
      const g1 = await waitForCount(rx, EVENTS);
      const withFuture = EVENTS / ((g1 - g0) / 1000);
      out['endToEndWithFutureDeliveriesPerSecond'] = round(withFuture);
      out['endToEndFutureSlowdownPercent'] = round((1 - withFuture / e2e) * 100);
    }
  } finally {
    await herald.stop();
    await cleanup();
  }
  return out;
}

async function main(): Promise<void> {
  if (!['', 'isolation', 'publishLatency', 'throughput', 'endToEnd', 'queues'].includes(ONLY))
    throw new Error(
      `BENCH_ONLY=${ONLY}: the groups are 'throughput' ('endToEnd' its first part), 'isolation', 'publishLatency' and 'queues'`,
    );
  if (ONLY === 'isolation') {
    const isolation = await runIsolation(DB_URL);
    process.stdout.write(`${JSON.stringify({ node: process.version, isolation }, null, 2)}\n`);
    await apiAgent.close();
    return;
  }
  if (ONLY === 'publishLatency') {
    const publishLatency = await runPublishLatency(DB_URL);
    process.stdout.write(`${JSON.stringify({ node: process.version, publishLatency }, null, 2)}\n`);
    await apiAgent.close();
    return;
  }
  if (ONLY === 'queues') {
    const queues = await compareQueues();
    process.stdout.write(`${JSON.stringify({ node: process.version, queues }, null, 2)}\n`);
    await apiAgent.close();
    return;
  }
  if (MODES.length > 1) {
    process.stdout.write(`${JSON.stringify(await modesApart(), null, 2)}\n`);
    await apiAgent.close();
    return;
  }
  const rx = await startReceiver();
  publisher = (await forkChild('publisher.ts')).child;
  try {
    // The ceiling is the best of three runs after a warm-up (JIT, the receiver's sockets): a
    // ceiling caught on a slow moment would flatter every ratio.
    await rawCeiling(rx, 5000);
    await rawCeiling(rx, 5000, 'bare');
    let bare = 0;
    for (let i = 0; i < 3; i++) bare = Math.max(bare, await rawCeiling(rx, EVENTS, 'bare'));
    let ceiling = 0;
    let ceilingCpu: CpuMark | undefined;
    for (let i = 0; i < 3; i++) {
      const c0 = await cpuMark(rx);
      const rate = await rawCeiling(rx, EVENTS);
      if (rate > ceiling) {
        ceiling = rate;
        ceilingCpu = await cpuPerDelivery(rx, c0, EVENTS);
      }
    }
    const result: Record<string, unknown> = {
      node: process.version,
      events: EVENTS,
      concurrency: CONCURRENCY,
      rawCeilingPerSecond: round(ceiling),
      rawCeilingCpuMicrosPerRequest: { client: ceilingCpu!.herald, receiver: ceilingCpu!.receiver },
      bareCeilingPerSecond: round(bare),
    };
    for (const mode of MODES) result[mode] = await benchMode(mode, rx, ceiling);
    if (ONLY === '') {
      result['isolation'] = await runIsolation(DB_URL);
      result['publishLatency'] = await runPublishLatency(DB_URL);
      result['queues'] = await compareQueues();
    }
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    rx.close();
    publisher?.close();
    await apiAgent.close();
  }
}

/**
 * Herald (`serve` on PostgreSQL, in this process, published to by the publisher) against the
 * general-purpose queues of bench/queues/, in turns in one run.
 */
async function compareQueues(): Promise<Record<string, unknown>> {
  const rx = await startReceiver();
  const outer = publisher;
  publisher = (await forkChild('publisher.ts')).child;
  const { herald, cleanup } = await startMode('postgres');
  try {
    await rawCeiling(rx, 5000);
    await api(herald, 'POST', '/v1/tenants', { id: 'bench', name: 'Bench' });
    await api(herald, 'POST', '/v1/tenants/bench/endpoints', {
      url: `http://127.0.0.1:${rx.port}/hook`,
      eventTypes: ['invoice.*'],
      secret: BENCH_SECRET,
    });
    return {
      events: EVENTS,
      concurrency: CONCURRENCY,
      ...(await runQueueComparison({
        databaseUrl: DB_URL,
        receiverUrl: `http://127.0.0.1:${rx.port}/queue`,
        events: EVENTS,
        rounds: Number(process.env['BENCH_QUEUE_ROUNDS'] ?? 3),
        reset: () => rx.reset(),
        waitForCount: (n) => waitForCount(rx, n),
        ceiling: (n) => rawCeiling(rx, n),
        heraldPublish: async (n) => {
          await publishBatches(herald, 'bench', n, 4);
        },
      })),
    };
  } finally {
    await herald.stop();
    await cleanup();
    rx.close();
    publisher?.close();
    publisher = outer;
  }
}

/**
 * Several modes: each in a process of its own (this file again, `BENCH_MODES` one mode, its
 * throughput part only), so neither is measured in a process the other has run in — the second of
 * two modes in one process read ~10 % slower than alone (docs/performance.md). The ceilings at the
 * top are the first process's; each mode carries its own `ceilingPerSecond`, which its ratios use.
 * The isolation and publish-latency groups then run here.
 */
async function modesApart(): Promise<Record<string, unknown>> {
  let result: Record<string, unknown> | undefined;
  for (const mode of MODES) {
    const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], {
      env: { ...process.env, BENCH_MODES: mode, BENCH_ONLY: ONLY === '' ? 'throughput' : ONLY },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    if (code !== 0) throw new Error(`the ${mode} mode's process exited with ${code}`);
    // Its JSON is the last thing it prints; a log line may come before it.
    const own = JSON.parse(out.slice(out.indexOf('{\n  "node"'))) as Record<string, unknown>;
    result ??= { ...own };
    result[mode] = own[mode];
  }
  if (ONLY === '') {
    result!['isolation'] = await runIsolation(DB_URL);
    result!['publishLatency'] = await runPublishLatency(DB_URL);
    result!['queues'] = await compareQueues();
  }
  return result!;
}

await main();
