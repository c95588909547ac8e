/**
 * `isolation.noisyNeighbour`: does one tenant's trouble reach another's deliveries? A healthy tenant
 * of 50 endpoints answering in 200 ms, measured by its throughput (10,000 events in batches of 100)
 * and by its publish → receipt p99 (single events at 200/s for 10 s), each in a Herald of its own:
 *
 * - baseline: the healthy tenant alone;
 * - otherTenantHanging: beside another tenant whose 4 endpoints never answer, each with 1,000
 *   deliveries already due (published, then a second's pause, before the healthy load starts);
 * - sameTenantHanging: the same 4 hanging endpoints inside the healthy tenant;
 * - flaky: one flaky endpoint (bench/slow-receiver.ts) beside one answering 200 at once, in one
 *   tenant, 5,000 events each (batches of 100, half to each): the healthy one's deliveries/s, against
 *   the same published stream with the flaky endpoint absent (its events then match nothing). A run
 *   lasts 1–2 s, so three rounds in turns (alone, beside, alone, …), the ratio the median of the
 *   rounds' ratios.
 *
 * No endpoint sets a timeout: hanging requests end as Herald's defaults end them. Each sub-scenario
 * gets a fresh schema and a fresh Herald; at its end the receiver destroys every open connection
 * (the hanging ones) before Herald stops, so nothing carries over into the next.
 */
import {
  type Latency,
  latency,
  median,
  ratio,
  round,
  type Throughput,
  throughput,
} from './isolation-figures.ts';
import {
  type BenchHerald,
  createEndpoints,
  type EndpointSpec,
  publishBatches,
  publishPaced,
  roundRobinBatches,
  startFreshHerald,
} from './isolation-herald.ts';
import { type ReceiverStats, type SlowReceivers, waitForDeliveries } from './slow-receiver-client.ts';

const HEALTHY_ENDPOINTS = 50;
const HANGING_ENDPOINTS = 4;
const HANGING_DUE_EACH = 1000;
const THROUGHPUT_EVENTS = 10_000;
const LATENCY_RATE = 200;
const LATENCY_SECONDS = 10;
const FLAKY_EVENTS_EACH = 5000;
const FLAKY_ROUNDS = 3;
/** Caps on each wait for deliveries: together they bound the scenario to ~4 minutes. */
const THROUGHPUT_CAP_MS = 40_000;
const LATENCY_DRAIN_CAP_MS = 12_000;
const FLAKY_CAP_MS = 25_000;

type Hanging = 'none' | 'otherTenant' | 'sameTenant';

let runs = 0;

/** A sub-scenario in a Herald of its own; the receiver's connections dropped before it stops. */
async function inFreshHerald<T>(
  rx: SlowReceivers,
  dbUrl: string,
  body: (h: BenchHerald, prefix: string) => Promise<T>,
): Promise<T> {
  const prefix = `/nn${runs++}`;
  const h = await startFreshHerald(dbUrl);
  try {
    await rx.reset();
    return await body(h, prefix);
  } finally {
    await rx.drop();
    await h.stop();
    await rx.drop();
  }
}

interface HealthySetup {
  types: string[];
  healthyPrefix: string;
  hangPrefix: string;
  /** Requests open at the hanging endpoints when the healthy load started. */
  hangingOpenAtStart: number | null;
}

async function setUp(
  h: BenchHerald,
  rx: SlowReceivers,
  prefix: string,
  hanging: Hanging,
): Promise<HealthySetup> {
  const healthy = `http://127.0.0.1:${rx.ports[0]}${prefix}`;
  const stuck = `http://127.0.0.1:${rx.ports[1] ?? rx.ports[0]}${prefix}`;
  const endpoints: EndpointSpec[] = Array.from({ length: HEALTHY_ENDPOINTS }, (_, i) => ({
    tenant: 'healthy',
    url: `${healthy}/d200/e${i}`,
    type: `healthy.e${i}`,
  }));
  const hangTenant = hanging === 'sameTenant' ? 'healthy' : 'noisy';
  const hangTypes = Array.from({ length: HANGING_ENDPOINTS }, (_, i) => `stuck.e${i}`);
  if (hanging !== 'none') {
    endpoints.push(...hangTypes.map((type, i) => ({ tenant: hangTenant, url: `${stuck}/hang/x${i}`, type })));
  }
  await createEndpoints(h, endpoints);
  let hangingOpenAtStart: number | null = null;
  if (hanging !== 'none') {
    await publishBatches(h, roundRobinBatches(hangTenant, hangTypes, HANGING_ENDPOINTS * HANGING_DUE_EACH));
    await new Promise((r) => setTimeout(r, 1000));
    hangingOpenAtStart = (await rx.stats(`${prefix}/hang/`)).open;
  }
  return {
    types: endpoints.filter((e) => e.tenant === 'healthy' && e.url.includes('/d200/')).map((e) => e.type),
    healthyPrefix: `${prefix}/d200/`,
    hangPrefix: `${prefix}/hang/`,
    hangingOpenAtStart,
  };
}

interface Figures {
  throughput: Throughput;
  latency: Latency;
  hangingOpenAtStart?: number | null;
  /** Requests the hanging endpoints received during the throughput and the latency run. */
  hangingReceipts?: { throughputRun: number; latencyRun: number };
}

async function healthyFigures(rx: SlowReceivers, dbUrl: string, hanging: Hanging): Promise<Figures> {
  const tp = await inFreshHerald(rx, dbUrl, async (h, prefix) => {
    const s = await setUp(h, rx, prefix, hanging);
    const batches = roundRobinBatches('healthy', s.types, THROUGHPUT_EVENTS);
    const { startAt } = await publishBatches(h, batches);
    const remaining = THROUGHPUT_CAP_MS - (performance.timeOrigin + performance.now() - startAt);
    const w = await waitForDeliveries(rx, s.healthyPrefix, THROUGHPUT_EVENTS, remaining);
    const hang = await rx.stats(s.hangPrefix);
    return {
      figure: throughput(w, startAt, THROUGHPUT_EVENTS),
      open: s.hangingOpenAtStart,
      hang: hang.receipts,
    };
  });
  const lat = await inFreshHerald(rx, dbUrl, async (h, prefix) => {
    const s = await setUp(h, rx, prefix, hanging);
    const paced = await publishPaced(h, 'healthy', s.types, LATENCY_RATE, LATENCY_SECONDS);
    const w = await waitForDeliveries(rx, s.healthyPrefix, paced.sentAt.size, LATENCY_DRAIN_CAP_MS, true);
    const hang = await rx.stats(s.hangPrefix);
    return { figure: latency(paced, w), hang: hang.receipts };
  });
  const out: Figures = { throughput: tp.figure, latency: lat.figure };
  if (hanging !== 'none') {
    out.hangingOpenAtStart = tp.open;
    out.hangingReceipts = { throughputRun: tp.hang, latencyRun: lat.hang };
  }
  return out;
}

async function flakyRun(rx: SlowReceivers, dbUrl: string, withFlaky: boolean) {
  return inFreshHerald(rx, dbUrl, async (h, prefix) => {
    const endpoints: EndpointSpec[] = [
      { tenant: 'mixed', url: `http://127.0.0.1:${rx.ports[0]}${prefix}/ok/healthy`, type: 'mixed.ok' },
    ];
    if (withFlaky) {
      const port = rx.ports[2] ?? rx.ports[0];
      endpoints.push({
        tenant: 'mixed',
        url: `http://127.0.0.1:${port}${prefix}/flaky/f`,
        type: 'mixed.flaky',
      });
    }
    await createEndpoints(h, endpoints);
    const batches = roundRobinBatches('mixed', ['mixed.ok', 'mixed.flaky'], 2 * FLAKY_EVENTS_EACH);
    const { startAt } = await publishBatches(h, batches);
    const remaining = FLAKY_CAP_MS - (performance.timeOrigin + performance.now() - startAt);
    const w = await waitForDeliveries(rx, `${prefix}/ok/`, FLAKY_EVENTS_EACH, remaining);
    const flaky = await rx.stats(`${prefix}/flaky/`);
    return { healthy: throughput(w, startAt, FLAKY_EVENTS_EACH), flaky };
  });
}

export async function noisyNeighbour(rx: SlowReceivers, dbUrl: string): Promise<Record<string, unknown>> {
  const baseline = await healthyFigures(rx, dbUrl, 'none');
  const otherTenant = await healthyFigures(rx, dbUrl, 'otherTenant');
  const sameTenant = await healthyFigures(rx, dbUrl, 'sameTenant');
  const alone: Throughput[] = [];
  const beside: Throughput[] = [];
  let flaky: ReceiverStats | undefined;
  for (let i = 0; i < FLAKY_ROUNDS; i++) {
    alone.push((await flakyRun(rx, dbUrl, false)).healthy);
    const b = await flakyRun(rx, dbUrl, true);
    beside.push(b.healthy);
    flaky = b.flaky;
  }
  const rates = (xs: Throughput[]) => xs.map((x) => x.perSecond);
  const roundRatios = beside.map((b, i) => ratio(b.perSecond, alone[i]!.perSecond) ?? Number.NaN);
  return {
    healthyEndpoints: HEALTHY_ENDPOINTS,
    receiverDelayMs: 200,
    hangingEndpoints: HANGING_ENDPOINTS,
    hangingDueEach: HANGING_DUE_EACH,
    baseline,
    otherTenantHanging: otherTenant,
    sameTenantHanging: sameTenant,
    flaky: {
      eventsEach: FLAKY_EVENTS_EACH,
      rounds: FLAKY_ROUNDS,
      healthyAlonePerSecond: round(median(rates(alone))),
      healthyBesideFlakyPerSecond: round(median(rates(beside))),
      healthyAloneRounds: rates(alone),
      healthyBesideFlakyRounds: rates(beside),
      roundRatios,
      allComplete: [...alone, ...beside].every((x) => x.complete),
      // The last round's flaky endpoint: requests received, and distinct events among them.
      flakyReceipts: flaky?.receipts ?? 0,
      flakyDelivered: flaky?.received ?? 0,
    },
    throughputRatioOtherTenant: ratio(otherTenant.throughput.perSecond, baseline.throughput.perSecond),
    p99RatioOtherTenant: ratio(otherTenant.latency.p99Ms, baseline.latency.p99Ms),
    throughputRatioSameTenant: ratio(sameTenant.throughput.perSecond, baseline.throughput.perSecond),
    p99RatioSameTenant: ratio(sameTenant.latency.p99Ms, baseline.latency.p99Ms),
    flakyHealthyRatio: round(median(roundRatios), 3),
  };
}

/** Lines for the human summary. */
export function noisySummary(n: Record<string, unknown>): string[] {
  const f = (k: string) => n[k] as Figures;
  const line = (name: string, x: Figures) =>
    `  ${name}: ${x.throughput.perSecond}/s${x.throughput.complete ? '' : ' (cap reached)'}, ` +
    `p99 ${x.latency.p99Ms} ms${x.latency.p99IsLowerBound ? ' (at least)' : ''}`;
  const flaky = n['flaky'] as { healthyAlonePerSecond: number; healthyBesideFlakyPerSecond: number };
  return [
    'noisy neighbour (healthy tenant: 50 endpoints at 200 ms):',
    line('alone', f('baseline')),
    line('other tenant hanging', f('otherTenantHanging')),
    line('same tenant hanging', f('sameTenantHanging')),
    `  throughput ratio other tenant ${n['throughputRatioOtherTenant']} (target ≥ 0.8), ` +
      `p99 ratio ${n['p99RatioOtherTenant']} (≤ 2), same tenant ${n['throughputRatioSameTenant']} (≥ 0.7)`,
    `  healthy beside flaky: ${flaky.healthyBesideFlakyPerSecond}/s vs alone ${flaky.healthyAlonePerSecond}/s ` +
      `(medians of ${FLAKY_ROUNDS}), ` +
      `ratio ${n['flakyHealthyRatio']} (≥ 0.8)`,
  ].map((s) => s.replace(/\s+$/, ''));
}
