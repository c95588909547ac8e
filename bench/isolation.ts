/**
 * The isolation benchmarks (issue 14), `isolation` in `npm run bench`'s JSON; alone with
 * `BENCH_ONLY=isolation npm run bench`. PostgreSQL only (TEST_DATABASE_URL); Herald in-process as
 * `herald serve` with its default settings (loopback allowed); the receivers in a child process
 * (bench/slow-receiver.ts), one port per tenant of `slowReceivers`.
 *
 * - `slowReceivers`: 200 endpoints (10 tenants of 20) answering in 200 ms, 20,000 events published
 *   in batches of 100, each to exactly one endpoint (one event type per endpoint, round-robin):
 *   deliveries/s from the first publish to the last receipt, against a raw undici loop keeping N
 *   requests in flight to the same endpoints' URLs (N = the dispatcher's default concurrency, at least
 *   1,000), and the memory held per request in flight: this process's RSS, sampled every 100 ms,
 *   above what it was before publishing, divided by the peak of requests in flight (the
 *   dispatcher's count when Herald exposes it, else the requests open at the receiver).
 * - `noisyNeighbour`: bench/noisy-neighbour.ts.
 *
 * Every wait is capped (a scenario then reports the rate within its cap and `complete: false`), so
 * the group takes ~3–6 minutes.
 */
import { Agent } from 'undici';
import { DEFAULT_DISPATCHER_CONFIG } from '../src/delivery/dispatcher-options.ts';
import { ratio, round, samplePeak, type Throughput, throughput } from './isolation-figures.ts';
import {
  type BenchHerald,
  createEndpoints,
  type EndpointSpec,
  publishBatches,
  startFreshHerald,
} from './isolation-herald.ts';
import { noisyNeighbour, noisySummary } from './noisy-neighbour.ts';
import { rawBody, rawPost } from './raw-post.ts';
import {
  epochNow,
  type SlowReceivers,
  startSlowReceivers,
  waitForDeliveries,
} from './slow-receiver-client.ts';

const TENANTS = 10;
const ENDPOINTS_PER_TENANT = 20;
const EVENTS = 20_000;
const DELAY_MS = 200;
const HERALD_CAP_MS = 60_000;
const RAW_CAP_MS = 30_000;
const MB = 1024 * 1024;

/** The dispatcher's in-flight count, if the running Herald exposes its dispatcher. */
function dispatcherInFlight(h: BenchHerald): (() => number) | undefined {
  const exposed = (h.herald.ctx as { dispatcher?: { inFlight?: unknown } }).dispatcher;
  if (typeof exposed?.inFlight !== 'number') return undefined;
  return () => Number(exposed.inFlight);
}

interface HeraldRun {
  throughput: Throughput;
  rssBeforeMB: number;
  peakRssMB: number;
  peakInFlight: number;
  peakInFlightSource: 'dispatcher' | 'receiver';
  deliveredPerEndpoint: { min: number; max: number };
}

async function heraldSlow(rx: SlowReceivers, dbUrl: string, endpoints: EndpointSpec[]): Promise<HeraldRun> {
  const h = await startFreshHerald(dbUrl);
  try {
    await createEndpoints(h, endpoints);
    await rx.reset();
    // Batch b goes to tenant b mod 10 and cycles through its 20 event types: every endpoint gets
    // EVENTS / 200 events, and any ten consecutive batches reach all 200.
    const batches = Array.from({ length: EVENTS / 100 }, (_, b) => {
      const tenant = b % TENANTS;
      return {
        tenant: `slow-t${tenant}`,
        types: Array.from(
          { length: 100 },
          (_, i) => `slow.e${tenant * ENDPOINTS_PER_TENANT + (i % ENDPOINTS_PER_TENANT)}`,
        ),
      };
    });
    const inFlight = dispatcherInFlight(h);
    const rssBefore = process.memoryUsage().rss;
    const rss = samplePeak(100, () => process.memoryUsage().rss);
    const flight = inFlight ? samplePeak(100, inFlight) : undefined;
    const { startAt } = await publishBatches(h, batches);
    const w = await waitForDeliveries(rx, '/slow/', EVENTS, HERALD_CAP_MS - (epochNow() - startAt));
    const peakRss = rss.stop();
    const peakDispatcher = flight?.stop();
    return {
      throughput: throughput(w, startAt, EVENTS),
      rssBeforeMB: round(rssBefore / MB),
      peakRssMB: round(peakRss / MB),
      peakInFlight: peakDispatcher ?? w.stats.peakOpen,
      peakInFlightSource: peakDispatcher === undefined ? 'receiver' : 'dispatcher',
      deliveredPerEndpoint: { min: w.stats.perEndpoint.min, max: w.stats.perEndpoint.max },
    };
  } finally {
    await rx.drop();
    await h.stop();
  }
}

/** `n` raw POSTs (bench/raw-post.ts), `inFlight` at a time, round-robin over `urls`; new ones stop at the cap. */
async function rawLoop(urls: string[], n: number, inFlight: number): Promise<Throughput> {
  const agent = new Agent({ connections: inFlight, keepAliveTimeout: 30_000 });
  const body = rawBody();
  const run = async (count: number, capMs: number) => {
    let next = 0;
    const t0 = epochNow();
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (next < count && epochNow() - t0 < capMs) {
          const i = next++;
          await rawPost(agent, urls[i % urls.length]!, body);
        }
      }),
    );
    return { done: next, t0, t1: epochNow() };
  };
  try {
    await run(inFlight, RAW_CAP_MS); // warm-up: every connection opened once
    const r = await run(n, RAW_CAP_MS);
    const seconds = (r.t1 - r.t0) / 1000;
    return {
      perSecond: round(r.done / seconds),
      delivered: r.done,
      expected: n,
      complete: r.done >= n,
      seconds: round(seconds, 2),
    };
  } finally {
    await agent.close();
  }
}

async function slowReceivers(rx: SlowReceivers, dbUrl: string): Promise<Record<string, unknown>> {
  const heraldConcurrency = DEFAULT_DISPATCHER_CONFIG.concurrency;
  const rawInFlight = Math.max(1000, heraldConcurrency);
  const endpoints: EndpointSpec[] = [];
  const rawUrls: string[] = [];
  for (let t = 0; t < TENANTS; t++) {
    const origin = `http://127.0.0.1:${rx.ports[t % rx.ports.length]}`;
    for (let e = 0; e < ENDPOINTS_PER_TENANT; e++) {
      const i = t * ENDPOINTS_PER_TENANT + e;
      endpoints.push({ tenant: `slow-t${t}`, url: `${origin}/slow/d${DELAY_MS}/e${i}`, type: `slow.e${i}` });
      rawUrls.push(`${origin}/raw/d${DELAY_MS}/e${i}`);
    }
  }
  const herald = await heraldSlow(rx, dbUrl, endpoints);
  const raw = await rawLoop(rawUrls, EVENTS, rawInFlight);
  await rx.drop();
  const grownKB = ((herald.peakRssMB - herald.rssBeforeMB) * 1024) / Math.max(1, herald.peakInFlight);
  return {
    tenants: TENANTS,
    endpoints: endpoints.length,
    events: EVENTS,
    receiverDelayMs: DELAY_MS,
    heraldConcurrency,
    rawInFlight,
    heraldPerSecond: herald.throughput.perSecond,
    rawPerSecond: raw.perSecond,
    ratio: ratio(herald.throughput.perSecond, raw.perSecond),
    heraldComplete: herald.throughput.complete,
    heraldDelivered: herald.throughput.delivered,
    heraldSeconds: herald.throughput.seconds,
    rawComplete: raw.complete,
    heraldDeliveredPerEndpoint: herald.deliveredPerEndpoint,
    rssBeforeMB: herald.rssBeforeMB,
    heraldPeakRssMB: herald.peakRssMB,
    peakInFlight: herald.peakInFlight,
    peakInFlightSource: herald.peakInFlightSource,
    rssPerInFlightKB: round(grownKB),
  };
}

export async function runIsolation(dbUrl: string): Promise<Record<string, unknown>> {
  const t0 = performance.now();
  const rx = await startSlowReceivers(TENANTS);
  try {
    const slow = await slowReceivers(rx, dbUrl);
    const noisy = await noisyNeighbour(rx, dbUrl);
    const wallSeconds = round((performance.now() - t0) / 1000);
    process.stderr.write(
      [
        `isolation (${wallSeconds} s):`,
        `slow receivers (200 endpoints at ${DELAY_MS} ms): Herald ${slow['heraldPerSecond']}/s ` +
          `(concurrency ${slow['heraldConcurrency']}), raw loop ${slow['rawPerSecond']}/s ` +
          `(${slow['rawInFlight']} in flight), ratio ${slow['ratio']}; RSS ${slow['rssBeforeMB']} → ` +
          `${slow['heraldPeakRssMB']} MB, ${slow['rssPerInFlightKB']} KB per request in flight ` +
          `(peak ${slow['peakInFlight']}, ${slow['peakInFlightSource']})`,
        ...noisySummary(noisy),
        '',
      ].join('\n'),
    );
    return { wallSeconds, slowReceivers: slow, noisyNeighbour: noisy };
  } finally {
    await rx.drop();
    rx.close();
  }
}
