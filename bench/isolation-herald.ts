/**
 * Herald for the isolation benchmarks: started in-process (API + dispatcher, as `herald serve`) on
 * PostgreSQL in a schema of its own, so every sub-scenario starts from an empty store and a fresh
 * dispatcher, with loopback allowed and every other setting at its default; and the publishing the
 * scenarios do through its API (batches of 100, or single events at a steady rate), each event's
 * `data` carrying `n` and its publish time `sentAt` (epoch ms) for the receiver.
 */
import pg from 'pg';
import { Agent, request } from 'undici';
import { loadConfig } from '../src/config/config.ts';
import { generateEncryptionKey } from '../src/security/secret-box.ts';
import { type RunningHerald, startHerald } from '../src/server/start.ts';
import { epochNow } from './slow-receiver-client.ts';

export const ADMIN_KEY = 'hk_admin_benchmark_key_0123456789';
const STOP_CAP_MS = 30_000;

/** Stops Herald, waiting at most `capMs`; answers whether it stopped. */
export async function stopWithin(herald: RunningHerald, capMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const stopped = await Promise.race([
    herald.stop().then(() => true),
    new Promise<false>((r) => {
      timer = setTimeout(() => r(false), capMs);
    }),
  ]);
  clearTimeout(timer);
  return stopped;
}

export interface BenchHerald {
  herald: RunningHerald;
  /** The environment it was started from (for another process on the same schema). */
  env: Readonly<Record<string, string>>;
  api(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown>;
  /** Stops Herald (bounded wait) and drops its schema. */
  stop(): Promise<void>;
}

let schemas = 0;

/** `worker: false`: the API alone (`herald api`), no dispatcher in this process. */
export async function startFreshHerald(dbUrl: string, opts: { worker?: boolean } = {}): Promise<BenchHerald> {
  const schema = `bench_isolation_${process.pid}_${schemas++}`;
  const admin = new pg.Client({ connectionString: dbUrl });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`);
  await admin.end();
  const url = new URL(dbUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  // HERALD_* settings of the benchmark's environment apply (bench/run.ts says so), the rest is fixed.
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (k.startsWith('HERALD_') && v !== undefined) env[k] = v;
  Object.assign(env, {
    PORT: '0',
    LOG_LEVEL: 'error',
    HERALD_ADMIN_KEY: ADMIN_KEY,
    HERALD_ALLOW_PRIVATE_NETWORKS: 'true',
    DATABASE_URL: url.toString(),
    HERALD_ENCRYPTION_KEY: generateEncryptionKey(),
  });
  const herald = await startHerald(
    loadConfig({}, env),
    { api: true, worker: opts.worker ?? true },
    { drainMs: 1000 },
  );
  const agent = new Agent({ connections: 32, keepAliveTimeout: 30_000 });
  const api = async (method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> => {
    const res = await request(`${herald.url}${path}`, {
      method,
      dispatcher: agent,
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.body.text();
    if (res.statusCode >= 300) throw new Error(`${method} ${path} → ${res.statusCode} ${text}`);
    return text ? JSON.parse(text) : undefined;
  };
  const stop = async () => {
    const stopped = await stopWithin(herald, STOP_CAP_MS);
    await agent.close();
    if (!stopped) {
      process.stderr.write(
        `isolation: Herald did not stop within ${STOP_CAP_MS} ms; schema ${schema} left\n`,
      );
      return;
    }
    const c = new pg.Client({ connectionString: dbUrl });
    await c.connect();
    await c.query(`DROP SCHEMA ${schema} CASCADE`);
    await c.end();
  };
  return { herald, env, api, stop };
}

export interface EndpointSpec {
  tenant: string;
  url: string;
  /** The one event type it subscribes to. */
  type: string;
}

/** Creates the tenants named by `endpoints` and the endpoints (no timeouts of their own: the API's defaults). */
export async function createEndpoints(h: BenchHerald, endpoints: readonly EndpointSpec[]): Promise<void> {
  for (const tenant of new Set(endpoints.map((e) => e.tenant))) {
    await h.api('POST', '/v1/tenants', { id: tenant, name: tenant });
  }
  for (let i = 0; i < endpoints.length; i += 20) {
    await Promise.all(
      endpoints
        .slice(i, i + 20)
        .map((e) => h.api('POST', `/v1/tenants/${e.tenant}/endpoints`, { url: e.url, eventTypes: [e.type] })),
    );
  }
}

export interface Batch {
  tenant: string;
  /** One event per entry, of that type. */
  types: string[];
}

let serial = 0;
const eventData = () => ({ n: serial++, sentAt: epochNow() });

/** Publishes the batches in order, `parallel` calls at a time; resolves with when it began and ended. */
export async function publishBatches(
  h: BenchHerald,
  batches: readonly Batch[],
  parallel = 4,
): Promise<{ startAt: number; endAt: number }> {
  let next = 0;
  const startAt = epochNow();
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < batches.length) {
        const b = batches[next++]!;
        const events = b.types.map((type) => ({ type, data: eventData() }));
        await h.api('POST', `/v1/tenants/${b.tenant}/events`, { events });
      }
    }),
  );
  return { startAt, endAt: epochNow() };
}

/** `count` events cycling through `types`, in batches of 100 to `tenant`. */
export function roundRobinBatches(tenant: string, types: readonly string[], count: number): Batch[] {
  const batches: Batch[] = [];
  for (let i = 0; i < count; i += 100) {
    const size = Math.min(100, count - i);
    batches.push({ tenant, types: Array.from({ length: size }, (_, j) => types[(i + j) % types.length]!) });
  }
  return batches;
}

export interface Paced {
  /** Publish time (epoch ms) by `n`. */
  sentAt: Map<number, number>;
  failed: number;
}

/**
 * Single-event publishes at `perSecond` for `seconds`, cycling through `types` of `tenant`, each
 * sent on schedule without waiting for the previous answer (as a busy product would); resolves once
 * every call has answered.
 */
export async function publishPaced(
  h: BenchHerald,
  tenant: string,
  types: readonly string[],
  perSecond: number,
  seconds: number,
): Promise<Paced> {
  const total = Math.round(perSecond * seconds);
  const sentAt = new Map<number, number>();
  const calls: Array<Promise<unknown>> = [];
  let failed = 0;
  const t0 = performance.now();
  for (let i = 0; i < total; i++) {
    const wait = t0 + (i * 1000) / perSecond - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const data = eventData();
    sentAt.set(data.n, data.sentAt);
    calls.push(
      h.api('POST', `/v1/tenants/${tenant}/events`, { type: types[i % types.length]!, data }).catch(() => {
        failed++;
        sentAt.delete(data.n);
      }),
    );
  }
  await Promise.all(calls);
  return { sentAt, failed };
}
