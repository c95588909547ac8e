/**
 * Publish latency (issue 21), `publishLatency` in `npm run bench`'s JSON; alone with
 * `BENCH_ONLY=publishLatency npm run bench`. Herald in-process as `herald serve` with its default
 * settings (loopback allowed): on PostgreSQL (TEST_DATABASE_URL) in a fresh schema per scenario
 * (bench/isolation-herald.ts), and once embedded (PGlite, HERALD_DATA_DIR in a temp directory, no
 * DATABASE_URL). The receivers (bench/slow-receiver.ts, a child process) answer 200 at once and
 * record publish → receipt from `sentAt` in each event's data. The timed publishes come from a third
 * process (bench/publish-client.ts), as a product's backend would call: a client in Herald's own
 * process timed Herald's work into its calls, and added its own work to Herald's.
 *
 * - `sequential`: single-event publishes (`POST /v1/tenants/:t/events`, one `{type, data}`), one at a
 *   time, 300 after 50 warm-up calls, to a tenant with 0, 1 and 10 endpoints subscribed: the call's
 *   time (request sent → answer's body read), p50/p99.
 * - `paced1000`: single-event publishes at 1,000/s for 10 s, each sent on schedule without waiting for
 *   the previous answer, to 1 endpoint and (a Herald of its own) to 10: call p50/p99, publish →
 *   receipt p50/p99, calls refused (429/503) or failed (other non-2xx, or no answer), and the CPU
 *   per call meanwhile of Herald's process and of PostgreSQL (`cpuMicrosPerCall`: what sets how
 *   many such calls, with their deliveries, this machine can take). Each Herald is first warmed up
 *   by 3 s of the same calls to a tenant of its own (1,000/s to one endpoint; 300/s to ten, whose
 *   deliveries it can keep up with), so the figures are a running server's, not its JIT warm-up.
 * - `afterBurst`: 20,000 events published in batches of 100 to one endpoint, then at once 200/s for
 *   5 s to it: publish → receipt p99 of the paced events.
 * - `pglite`: embedded storage, 200/s for 5 s to one endpoint (after 3 s of them to another):
 *   publish → receipt p99.
 * - `publishWaits`: what the publish statements waited on during the sequential calls to one
 *   endpoint and the calls after the burst (bench/publish-waits.ts): mostly their commit's flush.
 *
 * Every wait is capped (the group takes ~1.5–3 minutes); an event not received within its cap counts
 * as late as the cap let it be and marks the percentile as a lower bound. Nothing asserts on time.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { loadConfig } from '../src/config/config.ts';
import { type RunningHerald, startHerald } from '../src/server/start.ts';
import { mainThreadCpuMicros, postgresCpuMicros } from './backend-cpu.ts';
import { round } from './isolation-figures.ts';
import { ADMIN_KEY, roundRobinBatches, startFreshHerald, stopWithin } from './isolation-herald.ts';
import type { PublishAnswer, PublishCommand } from './publish-client.ts';
import { type PublishWaits, samplePublishWaits } from './publish-waits.ts';
import {
  epochNow,
  type SlowReceivers,
  startSlowReceivers,
  waitForDeliveries,
} from './slow-receiver-client.ts';

const SEQUENTIAL_CALLS = 300;
const SEQUENTIAL_WARMUP = 50;
const TYPE = 'latency.ping';
const STOP_CAP_MS = 20_000;
const WARM_UP_SECONDS = 3;

const TARGETS = {
  sequential1: { p50: 1.5, p99: 5 },
  paced1000: { callP99: 20, receiptP99: 50 },
  afterBurstReceiptP99: 50,
  tenEndpointsRatio: 1.5,
  pgliteReceiptP99: 50,
};

/** What a scenario needs of a running Herald: its URL and a way to stop it. */
interface Target {
  herald: RunningHerald;
  stop(): Promise<void>;
}

// ---- publishing ---------------------------------------------------------------------------------

const agent = new Agent({ connections: 256, keepAliveTimeout: 30_000, pipelining: 1 });

interface CallResult {
  ms: number;
  /** HTTP status; 0 when the request failed without an answer. */
  status: number;
  body: string;
}

async function call(url: string, body: unknown): Promise<CallResult> {
  const t0 = performance.now();
  try {
    const res = await request(url, {
      method: 'POST',
      dispatcher: agent,
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await res.body.text();
    return { ms: performance.now() - t0, status: res.statusCode, body: text };
  } catch (err) {
    return { ms: performance.now() - t0, status: 0, body: String(err) };
  }
}

async function admin(h: RunningHerald, path: string, body: unknown): Promise<void> {
  const r = await call(`${h.url}${path}`, body);
  if (r.status >= 300) throw new Error(`POST ${path} → ${r.status} ${r.body}`);
}

/** A tenant and its `endpoints` endpoints subscribed to TYPE, at `${origin}${prefix}ok/e<i>`. */
async function tenantWith(
  h: RunningHerald,
  tenant: string,
  endpoints: number,
  origin: string,
  prefix: string,
) {
  await admin(h, '/v1/tenants', { id: tenant, name: tenant });
  for (let i = 0; i < endpoints; i++) {
    await admin(h, `/v1/tenants/${tenant}/endpoints`, {
      url: `${origin}${prefix}ok/e${i}`,
      eventTypes: [TYPE],
    });
  }
}

// Event numbers of their own (bench/isolation-herald.ts numbers its batches from 0).
let serial = 10_000_000;

interface Calls {
  ms: number[];
  ok: number;
  refused: number;
  failed: number;
  /** Calls by non-2xx status ("0": no answer). */
  statuses: Record<string, number>;
  /** The first few non-2xx answers, verbatim (truncated). */
  errors: string[];
}

function newCalls(): Calls {
  return { ms: [], ok: 0, refused: 0, failed: 0, statuses: {}, errors: [] };
}

function count(c: Calls, r: CallResult): void {
  c.ms.push(r.ms);
  if (r.status >= 200 && r.status < 300) {
    c.ok++;
    return;
  }
  if (r.status === 429 || r.status === 503) c.refused++;
  else c.failed++;
  c.statuses[String(r.status)] = (c.statuses[String(r.status)] ?? 0) + 1;
  if (c.errors.length < 5) c.errors.push(`${r.status} ${r.body.slice(0, 300)}`);
}

// The timed single-event publishes come from a process of their own (bench/publish-client.ts).
let client: ((c: PublishCommand) => Promise<PublishAnswer>) | undefined;
let closeClient = () => {};

async function startClient(): Promise<void> {
  const child = fork(join(import.meta.dirname, 'publish-client.ts'), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let nextId = 0;
  const waiting = new Map<number, (a: PublishAnswer) => void>();
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`publish client exited (${code}) before it was ready`)));
    child.on('message', (m: { ready?: boolean; id?: number; answer?: PublishAnswer }) => {
      if (m.ready) resolve();
      const done = m.id === undefined ? undefined : waiting.get(m.id);
      if (done && m.answer) {
        waiting.delete(m.id!);
        done(m.answer);
      }
    });
  });
  child.removeAllListeners('exit');
  client = (c) =>
    new Promise((resolve) => {
      const id = nextId++;
      waiting.set(id, resolve);
      child.send({ ...c, id });
    });
  closeClient = () => child.kill();
}

function job(h: RunningHerald, tenant: string, calls: number) {
  const serialStart = serial;
  serial += calls;
  return {
    url: `${h.url}/v1/tenants/${tenant}/events`,
    adminKey: ADMIN_KEY,
    type: TYPE,
    serial: serialStart,
  };
}

function callsOf(a: PublishAnswer): Calls {
  const calls = newCalls();
  a.ms.forEach((ms, i) => {
    count(calls, { ms, status: a.statuses[i]!, body: '' });
  });
  calls.errors = a.errors;
  return calls;
}

async function sequential(h: RunningHerald, tenant: string): Promise<Calls> {
  const a = await client!({
    cmd: 'sequential',
    warmup: SEQUENTIAL_WARMUP,
    calls: SEQUENTIAL_CALLS,
    ...job(h, tenant, SEQUENTIAL_WARMUP + SEQUENTIAL_CALLS),
  });
  return callsOf(a);
}

interface PacedRun {
  calls: Calls;
  /** Publish time (epoch ms) by `n`, the calls answered 2xx only. */
  sentAt: Map<number, number>;
  /** How long sending took (the schedule is `seconds`), and when the last answer came. */
  sendSeconds: number;
  answeredSeconds: number;
  /**
   * CPU per call from the first call sent to the last answered: this process (Herald: its threads,
   * PGlite's included), of which its main thread (the rest: the sender thread, V8's garbage
   * collection and compilers, PGlite's thread), and every PostgreSQL process — the deliveries made
   * meanwhile included.
   */
  cpuMicrosPerCall: { herald: number; heraldMainThread: number; postgres: number };
}

/** As bench/isolation-herald.ts `publishPaced`, from the client process, each call's time and status kept. */
async function paced(
  h: RunningHerald,
  tenant: string,
  perSecond: number,
  seconds: number,
): Promise<PacedRun> {
  const cpu0 = process.cpuUsage();
  const main0 = mainThreadCpuMicros();
  const pg0 = postgresCpuMicros();
  const a = await client!({
    cmd: 'paced',
    perSecond,
    seconds,
    ...job(h, tenant, Math.round(perSecond * seconds)),
  });
  const cpu = process.cpuUsage(cpu0);
  const calls = Math.max(1, a.ms.length);
  return {
    calls: callsOf(a),
    sentAt: new Map(a.sentAt),
    sendSeconds: round(a.sendSeconds, 2),
    answeredSeconds: round(a.answeredSeconds, 2),
    cpuMicrosPerCall: {
      herald: round((cpu.user + cpu.system) / calls),
      heraldMainThread: round((mainThreadCpuMicros() - main0) / calls),
      postgres: round((postgresCpuMicros() - pg0) / calls),
    },
  };
}

/**
 * Warms a Herald up as a server that has been running is warm: `WARM_UP_SECONDS` of single-event
 * publishes at `perSecond` to a tenant of its own with `endpoints` endpoints, as the timed run will
 * make them, and their deliveries received. A Herald fresh from start-up compiles ~470 functions
 * (V8's optimising compiler, on its helper threads) in its first 10 s of such calls — ~130 µs of CPU
 * per call at 1,000/s, on the same two cores as the calls — which sequential calls to other tenants
 * do not warm (docs/performance.md, "Publish latency").
 */
async function warmUp(
  h: RunningHerald,
  rx: SlowReceivers,
  origin: string,
  endpoints: number,
  perSecond: number,
): Promise<void> {
  const tenant = `warm${endpoints}`;
  await tenantWith(h, tenant, endpoints, origin, `/${tenant}/`);
  const run = await paced(h, tenant, perSecond, WARM_UP_SECONDS);
  await waitForDeliveries(rx, `/${tenant}/`, run.calls.ok * endpoints, 30_000);
}

// ---- figures -----------------------------------------------------------------------------------

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function callFigures(c: Calls) {
  const ms = [...c.ms].sort((a, b) => a - b);
  return {
    calls: c.ms.length,
    p50Ms: round(percentile(ms, 50), 2),
    p99Ms: round(percentile(ms, 99), 2),
    maxMs: round(ms.at(-1) ?? Number.NaN, 2),
    refused: c.refused,
    failed: c.failed,
    ...(c.refused + c.failed > 0 ? { statuses: c.statuses, errors: c.errors } : {}),
  };
}

/**
 * Publish → receipt of the paced events (by `n`) to the endpoints under `prefix`, each delivery
 * counted once per endpoint; `others` deliveries under it that are not the paced ones (a burst).
 */
async function receiptFigures(
  rx: SlowReceivers,
  prefix: string,
  run: PacedRun,
  endpoints: number,
  others: number,
  capMs: number,
) {
  const expected = run.sentAt.size * endpoints;
  const w = await waitForDeliveries(rx, prefix, expected + others, capMs, true);
  const lat: number[] = [];
  const seen = new Map<number, number>();
  for (const [n, ms] of w.stats.latencies ?? []) {
    if (!run.sentAt.has(n)) continue;
    lat.push(ms);
    seen.set(n, (seen.get(n) ?? 0) + 1);
  }
  // Deliveries that never came count as late as the cap let them be.
  let missing = 0;
  for (const [n, at] of run.sentAt) {
    for (let i = seen.get(n) ?? 0; i < endpoints; i++) {
      lat.push(w.endAt - at);
      missing++;
    }
  }
  lat.sort((a, b) => a - b);
  return {
    deliveries: expected,
    received: expected - missing,
    complete: missing === 0,
    p50Ms: round(percentile(lat, 50), 2),
    p99Ms: round(percentile(lat, 99), 2),
    maxMs: round(lat.at(-1) ?? Number.NaN, 2),
    ...(missing > 0 ? { p50IsLowerBound: true, p99IsLowerBound: true } : {}),
  };
}

const ratio = (a: number, b: number) => round(a / b, 2);

// ---- Herald ------------------------------------------------------------------------------------

async function postgresHerald(dbUrl: string): Promise<Target> {
  const h = await startFreshHerald(dbUrl);
  return { herald: h.herald, stop: h.stop };
}

/** Embedded storage, as `herald serve` chooses it: HERALD_DATA_DIR set, no DATABASE_URL. */
async function pgliteHerald(): Promise<Target> {
  const dir = mkdtempSync(join(tmpdir(), 'herald-bench-latency-'));
  const env: Record<string, string> = {
    PORT: '0',
    LOG_LEVEL: 'error',
    HERALD_ADMIN_KEY: ADMIN_KEY,
    HERALD_ALLOW_PRIVATE_NETWORKS: 'true',
    HERALD_DATA_DIR: dir,
  };
  const herald = await startHerald(loadConfig({}, env), { api: true, worker: true }, { drainMs: 1000 });
  const stop = async () => {
    const stopped = await stopWithin(herald, STOP_CAP_MS);
    if (stopped) rmSync(dir, { recursive: true, force: true });
    else
      process.stderr.write(
        `publishLatency: PGlite Herald did not stop within ${STOP_CAP_MS} ms; ${dir} left\n`,
      );
  };
  return { herald, stop };
}

async function using<T>(start: () => Promise<Target>, fn: (h: RunningHerald) => Promise<T>): Promise<T> {
  const t = await start();
  try {
    return await fn(t.herald);
  } finally {
    await t.stop();
  }
}

// ---- the group ---------------------------------------------------------------------------------

export async function runPublishLatency(dbUrl: string): Promise<Record<string, unknown>> {
  const t0 = performance.now();
  const rx = await startSlowReceivers(1);
  await startClient();
  const origin = `http://127.0.0.1:${rx.ports[0]}`;
  try {
    // 1. Sequential calls, and 2. 1,000/s to one endpoint, in one Herald.
    const first = await using(
      () => postgresHerald(dbUrl),
      async (h) => {
        await tenantWith(h, 'seq0', 0, origin, '/seq0/');
        await tenantWith(h, 'seq1', 1, origin, '/seq1/');
        await tenantWith(h, 'seq10', 10, origin, '/seq10/');
        await tenantWith(h, 'p1', 1, origin, '/p1/');
        // How fast this machine is right now: the median round trip of a trivial statement.
        const trips: number[] = [];
        for (let i = 0; i < 200; i++) {
          const s0 = performance.now();
          await h.ctx.db.query('SELECT 1');
          trips.push(performance.now() - s0);
        }
        const databaseRoundTripMs = round(trips.sort((a, b) => a - b)[100]!, 3);
        const seq0 = callFigures(await sequential(h, 'seq0'));
        const sampling = await samplePublishWaits(dbUrl);
        const seq1 = callFigures(await sequential(h, 'seq1'));
        const sequential1Waits = await sampling.stop();
        const seq = {
          endpoints0: seq0,
          endpoints1: seq1,
          endpoints10: callFigures(await sequential(h, 'seq10')),
        };
        // The sequential deliveries out of the way before the paced load.
        await waitForDeliveries(rx, '/seq', (SEQUENTIAL_CALLS + SEQUENTIAL_WARMUP) * 11, 10_000);
        await warmUp(h, rx, origin, 1, 1000);
        await rx.reset();
        const run = await paced(h, 'p1', 1000, 10);
        const receipt = await receiptFigures(rx, '/p1/', run, 1, 0, 15_000);
        return { databaseRoundTripMs, seq, sequential1Waits, p1: { ...summarizePaced(run), receipt } };
      },
    );

    // 2. 1,000/s to ten endpoints, in a Herald of its own.
    const p10 = await using(
      () => postgresHerald(dbUrl),
      async (h) => {
        await tenantWith(h, 'p10', 10, origin, '/p10/');
        await tenantWith(h, 'warm', 0, origin, '/warm/');
        await sequential(h, 'warm');
        await warmUp(h, rx, origin, 10, 300);
        await rx.reset();
        const run = await paced(h, 'p10', 1000, 10);
        const receipt = await receiptFigures(rx, '/p10/', run, 10, 0, 30_000);
        return { ...summarizePaced(run), receipt };
      },
    );
    await rx.reset();

    // 3. 200/s for 5 s right after a 20,000-delivery burst to the same endpoint.
    const afterBurst = await using(
      () => postgresHerald(dbUrl),
      async (h) => {
        await tenantWith(h, 'burst', 1, origin, '/burst/');
        const b0 = epochNow();
        await publishBatchesTo(h, 'burst', 20_000);
        const burstPublishMs = epochNow() - b0;
        const sampling = await samplePublishWaits(dbUrl);
        const run = await paced(h, 'burst', 200, 5);
        const waits = await sampling.stop();
        const receipt = await receiptFigures(rx, '/burst/', run, 1, 20_000, 40_000);
        return {
          burstEvents: 20_000,
          burstPublishMs: round(burstPublishMs),
          ...summarizePaced(run),
          receipt,
          waits,
        };
      },
    );
    await rx.reset();

    // 4. Embedded PGlite, 200/s for 5 s to one endpoint.
    const pglite = await using(pgliteHerald, async (h) => {
      await tenantWith(h, 'lite', 1, origin, '/lite/');
      await tenantWith(h, 'warm', 0, origin, '/warm/');
      await sequential(h, 'warm');
      await warmUp(h, rx, origin, 1, 200);
      await rx.reset();
      const run = await paced(h, 'lite', 200, 5);
      const receipt = await receiptFigures(rx, '/lite/', run, 1, 0, 20_000);
      return { ...summarizePaced(run), receipt };
    });

    const { waits: afterBurstWaits, ...afterBurstFigures } = afterBurst;
    const out = {
      wallSeconds: round((performance.now() - t0) / 1000),
      targets: TARGETS,
      databaseRoundTripMs: first.databaseRoundTripMs,
      sequential: {
        ...first.seq,
        tenEndpointsRatio: {
          p50: ratio(first.seq.endpoints10.p50Ms, first.seq.endpoints1.p50Ms),
          p99: ratio(first.seq.endpoints10.p99Ms, first.seq.endpoints1.p99Ms),
        },
      },
      paced1000: {
        endpoints1: first.p1,
        endpoints10: p10,
        tenEndpointsRatio: {
          callP99: ratio(p10.call.p99Ms, first.p1.call.p99Ms),
          receiptP99: ratio(p10.receipt.p99Ms, first.p1.receipt.p99Ms),
        },
      },
      afterBurst: afterBurstFigures,
      pglite,
      publishWaits: { sequential1: first.sequential1Waits, afterBurst: afterBurstWaits },
    };
    process.stderr.write(`${summary(out).join('\n')}\n`);
    return out;
  } finally {
    await rx.drop();
    rx.close();
    closeClient();
    await agent.close();
  }
}

/** `n` events in batches of 100, 4 calls at a time (as bench/isolation-herald.ts `publishBatches`). */
async function publishBatchesTo(h: RunningHerald, tenant: string, n: number): Promise<void> {
  const batches = roundRobinBatches(tenant, [TYPE], n);
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < batches.length) {
        const b = batches[next++]!;
        const events = b.types.map((type) => ({ type, data: { n: serial++, sentAt: epochNow() } }));
        await admin(h, `/v1/tenants/${tenant}/events`, { events });
      }
    }),
  );
}

function summarizePaced(run: PacedRun) {
  return {
    call: callFigures(run.calls),
    sendSeconds: run.sendSeconds,
    answeredSeconds: run.answeredSeconds,
    cpuMicrosPerCall: run.cpuMicrosPerCall,
  };
}

const waitLine = (w: PublishWaits) =>
  Object.entries(w.shares)
    .slice(0, 3)
    .map(([wait, pct]) => `${wait} ${pct}`)
    .join(', ');

function summary(o: {
  wallSeconds: number;
  databaseRoundTripMs: number;
  sequential: Record<string, ReturnType<typeof callFigures> | { p50: number; p99: number }>;
  paced1000: {
    endpoints1: ReturnType<typeof summarizePaced> & { receipt: Awaited<ReturnType<typeof receiptFigures>> };
    endpoints10: ReturnType<typeof summarizePaced> & { receipt: Awaited<ReturnType<typeof receiptFigures>> };
    tenEndpointsRatio: { callP99: number; receiptP99: number };
  };
  afterBurst: { receipt: Awaited<ReturnType<typeof receiptFigures>> };
  pglite: { receipt: Awaited<ReturnType<typeof receiptFigures>> };
  publishWaits: { sequential1: PublishWaits; afterBurst: PublishWaits };
}): string[] {
  const s = o.sequential as Record<string, ReturnType<typeof callFigures>>;
  const r = o.sequential['tenEndpointsRatio'] as { p50: number; p99: number };
  const lb = (x: { p99IsLowerBound?: boolean; complete: boolean; received: number; deliveries: number }) =>
    x.complete ? '' : ` (≥, ${x.received}/${x.deliveries} received)`;
  const bad = (c: ReturnType<typeof callFigures>) => `${c.refused} refused, ${c.failed} failed`;
  const p1 = o.paced1000.endpoints1;
  const p10 = o.paced1000.endpoints10;
  return [
    `publishLatency (${o.wallSeconds} s, database round trip ${o.databaseRoundTripMs} ms):`,
    `sequential call p50/p99: 0 endpoints ${s['endpoints0']!.p50Ms}/${s['endpoints0']!.p99Ms} ms; ` +
      `1 endpoint ${s['endpoints1']!.p50Ms}/${s['endpoints1']!.p99Ms} ms (target ≤ 1.5/5); ` +
      `10 endpoints ${s['endpoints10']!.p50Ms}/${s['endpoints10']!.p99Ms} ms (${r.p50}×/${r.p99}× of 1, target ≤ 1.5×)`,
    `1,000/s × 10 s, 1 endpoint: call p50/p99 ${p1.call.p50Ms}/${p1.call.p99Ms} ms (target p99 ≤ 20), ` +
      `publish→receipt ${p1.receipt.p50Ms}/${p1.receipt.p99Ms} ms${lb(p1.receipt)} (target p99 ≤ 50); ${bad(p1.call)}`,
    `1,000/s × 10 s, 10 endpoints: call p50/p99 ${p10.call.p50Ms}/${p10.call.p99Ms} ms, ` +
      `publish→receipt ${p10.receipt.p50Ms}/${p10.receipt.p99Ms} ms${lb(p10.receipt)}; ${bad(p10.call)}; ` +
      `p99 ${o.paced1000.tenEndpointsRatio.callP99}× (call) / ${o.paced1000.tenEndpointsRatio.receiptP99}× (receipt) of 1 endpoint (target ≤ 1.5×)`,
    `200/s × 5 s after a 20,000-delivery burst: publish→receipt p99 ${o.afterBurst.receipt.p99Ms} ms${lb(o.afterBurst.receipt)} (target ≤ 50)`,
    `PGlite, 200/s × 5 s: publish→receipt p99 ${o.pglite.receipt.p99Ms} ms${lb(o.pglite.receipt)} (target ≤ 50)`,
    `publish statements' waits (% of samples): sequential, 1 endpoint ${waitLine(o.publishWaits.sequential1)}; ` +
      `after the burst ${waitLine(o.publishWaits.afterBurst)}`,
  ];
}
