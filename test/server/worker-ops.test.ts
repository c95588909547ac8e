/**
 * A worker's operational endpoints (issue 17, item 4): `herald worker` listens on its port for
 * `/healthz`, `/readyz` and `/metrics`; its /metrics counts the deliveries it makes, an API-only
 * process exports no delivery counters (it makes none, and zeros would say nothing was delivered);
 * /readyz is 503 while the worker drains after a stop and while its database cannot be reached.
 *
 * The database outage is a loopback TCP proxy in front of PostgreSQL that the test cuts and
 * restores: the worker's connections fail at once, as when PostgreSQL goes away, while the server
 * the other tests share keeps running.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Socket, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import pg from 'pg';
import { loadConfig } from '../../src/config/config.ts';
import { generateEncryptionKey } from '../../src/security/secret-box.ts';
import { type RunningHerald, startHerald } from '../../src/server/start.ts';
import { insertEndpoint, insertTenant, publishOne, startReceiver } from '../support/delivery-fixtures.ts';
import { waitFor } from '../support/poll.ts';
import { api, killSpawned, startHeraldProcess, waitForExit } from '../support/processes.ts';
import {
  forEachStorage,
  isPostgresReachable,
  type StorageKind,
  TEST_DATABASE_URL,
} from '../support/storage.ts';

const root = mkdtempSync(join(tmpdir(), 'herald-worker-ops-'));
const schemas: string[] = [];
after(async () => {
  await killSpawned();
  rmSync(root, { recursive: true, force: true });
  if (schemas.length > 0) {
    const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await c.connect();
    for (const s of schemas) await c.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
    await c.end();
  }
});

const SUCCEEDED = /^herald_deliveries_total\{outcome="succeeded"\} (\d+)$/m;

async function get(base: string, path: string, init: RequestInit = {}) {
  const res = await fetch(`${base}${path}`, init);
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
}

async function succeededCount(base: string): Promise<number | undefined> {
  const m = SUCCEEDED.exec((await get(base, '/metrics')).text);
  return m ? Number(m[1]) : undefined;
}

/** The environment of a Herald on `kind`: its own data directory, or its own PostgreSQL schema. */
async function storageEnv(kind: StorageKind, name: string): Promise<Record<string, string>> {
  const env: Record<string, string> = {
    PORT: '0',
    LOG_LEVEL: 'silent',
    HERALD_ADMIN_KEY: `hk_admin_${name}_${randomBytes(12).toString('hex')}`,
    HERALD_ALLOW_PRIVATE_NETWORKS: 'true',
  };
  if (kind === 'pglite') {
    env['HERALD_DATA_DIR'] = join(root, name);
    return env;
  }
  const schema = `${name}_${randomBytes(5).toString('hex')}`;
  const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await c.connect();
  await c.query(`CREATE SCHEMA ${schema}`);
  await c.end();
  schemas.push(schema);
  const url = new URL(TEST_DATABASE_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  env['DATABASE_URL'] = url.toString();
  env['HERALD_ENCRYPTION_KEY'] = generateEncryptionKey();
  return env;
}

forEachStorage('herald worker: health, readiness and metrics on its port', (kind) => {
  test('it answers the probes, counts its deliveries, and is not ready while it drains', async () => {
    const env = await storageEnv(kind, 'worker_ops');
    const config = loadConfig({}, env);
    // A request that never gets an answer keeps the drain going until the receiver closes.
    const receiver = await startReceiver();
    let worker: RunningHerald | undefined = await startHerald(
      config,
      { api: false, worker: true },
      {
        drainMs: 120_000,
        dispatcher: { pollIntervalMs: 20 },
      },
    );
    try {
      const base = worker.url!;
      assert.match(base, /^http:\/\/127\.0\.0\.1:\d+$/);

      const health = await get(base, '/healthz');
      assert.equal(health.status, 200);
      assert.deepEqual(health.json(), { status: 'ok' });
      const ready = await get(base, '/readyz');
      assert.equal(ready.status, 200);
      assert.deepEqual(ready.json(), { status: 'ready' });
      const head = await get(base, '/readyz', { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(head.text, '');

      const metrics = await get(base, '/metrics');
      assert.equal(metrics.status, 200);
      assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain/);
      assert.match(metrics.text, /^herald_deliveries_total\{outcome="succeeded"\} 0$/m);
      assert.match(metrics.text, /^herald_due_backlog \d+$/m);
      assert.match(metrics.text, /^herald_process_resident_memory_bytes \d+/m);

      const unknown = await get(base, '/v1/tenants');
      assert.equal(unknown.status, 404);
      assert.equal(unknown.json().error.code, 'ROUTE_NOT_FOUND');
      const post = await get(base, '/healthz', { method: 'POST' });
      assert.equal(post.status, 405);
      assert.equal(post.json().error.code, 'METHOD_NOT_ALLOWED');
      assert.equal(post.headers.get('allow'), 'GET, HEAD');

      // A delivery made by this worker shows in its own /metrics.
      const { db, secretBox } = worker.ctx;
      const tenant = await insertTenant(db);
      const ep = await insertEndpoint(db, tenant, { url: receiver.url }, secretBox);
      await publishOne(db, tenant, ep.id, { type: 'invoice.created', data: { n: 1 } });
      await waitFor('the first delivery to arrive', () => receiver.requests.length === 1);
      await waitFor('the worker to count it', async () => (await succeededCount(base)) === 1);

      // Stopping with a request out: not ready while draining, alive and scraped all along.
      receiver.handle(() => {});
      await publishOne(db, tenant, ep.id, { type: 'invoice.created', data: { n: 2 } });
      await waitFor('the second request to be out', () => receiver.requests.length === 2);
      const stopping = worker.stop();
      const draining = await waitFor('readyz to say 503', async () => {
        const r = await get(base, '/readyz');
        return r.status === 503 && r;
      });
      assert.equal(draining.json().error.code, 'SERVICE_UNAVAILABLE');
      assert.match(draining.json().error.message, /dispatcher is not running/);
      assert.equal((await get(base, '/healthz')).status, 200);
      assert.equal((await get(base, '/metrics')).status, 200);
      // The receiver going away ends the request; the drain ends, then the port closes.
      await receiver.close();
      await stopping;
      worker = undefined;
      await assert.rejects(fetch(`${base}/healthz`));
    } finally {
      await worker?.stop();
      await receiver.close();
    }

    // The API alone on the same storage: the queue's gauges, no delivery counters it never counts.
    const apiOnly = await startHerald(config, { api: true, worker: false });
    try {
      const text = (await get(apiOnly.url!, '/metrics')).text;
      assert.doesNotMatch(text, /herald_deliveries_total|herald_attempt_duration_seconds/);
      assert.match(text, /^herald_due_backlog \d+$/m);
      assert.match(text, /^herald_oldest_due_age_seconds \d+/m);
      assert.equal((await get(apiOnly.url!, '/readyz')).status, 200);
    } finally {
      await apiOnly.stop();
    }
  });
});

/** A loopback TCP proxy to PostgreSQL that can refuse everything, as a database that went away. */
async function startDatabaseProxy(target: URL) {
  const sockets = new Set<Socket>();
  let down = false;
  const server = createServer((client) => {
    if (down) return client.destroy();
    const upstream = tcpConnect(Number(target.port || 5432), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    cut() {
      down = true;
      for (const s of sockets) s.destroy();
    },
    restore() {
      down = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

const reachable = await isPostgresReachable();

test('[postgres] herald api + herald worker processes: the worker counts deliveries, the API exports none; readyz follows the database', {
  timeout: 120_000,
  skip: reachable ? false : `PostgreSQL not reachable at ${TEST_DATABASE_URL}`,
}, async () => {
  const env = await storageEnv('postgres', 'worker_proc');
  const adminKey = env['HERALD_ADMIN_KEY']!;
  const direct = new URL(env['DATABASE_URL']!);
  const proxy = await startDatabaseProxy(direct);
  const viaProxy = new URL(direct);
  viaProxy.hostname = '127.0.0.1';
  viaProxy.port = String(proxy.port);
  const receiver = await startReceiver();
  // The API migrates the schema; the worker, a process of its own, reaches it through the proxy.
  const apiOnly = await startHerald(loadConfig({}, env), { api: true, worker: false });
  try {
    const worker = await startHeraldProcess('worker', { ...env, DATABASE_URL: viaProxy.toString() });
    assert.match(worker.stdout(), /Herald dispatcher running on http:\/\/127\.0\.0\.1:\d+ \(PostgreSQL\)/);
    const base = worker.url!;
    assert.equal((await get(base, '/readyz')).status, 200);

    const created = await api(apiOnly.url!, adminKey, 'POST', '/v1/tenants', { id: 'acme', name: 'Acme' });
    assert.equal(created.status, 201);
    const ep = await api(apiOnly.url!, adminKey, 'POST', '/v1/tenants/acme/endpoints', { url: receiver.url });
    assert.equal(ep.status, 201, JSON.stringify(ep.body));
    const published = await api(apiOnly.url!, adminKey, 'POST', '/v1/tenants/acme/events', {
      id: 'inv-1',
      type: 'invoice.created',
      data: { n: 1 },
    });
    assert.equal(published.status, 202, JSON.stringify(published.body));
    await waitFor('the delivery to arrive', () => receiver.requests.length === 1, { timeoutMs: 20_000 });
    await waitFor('the worker to count it', async () => (await succeededCount(base)) === 1, {
      timeoutMs: 20_000,
    });
    const apiMetrics = (await get(apiOnly.url!, '/metrics')).text;
    assert.doesNotMatch(apiMetrics, /herald_deliveries_total/);
    assert.match(apiMetrics, /^herald_due_backlog \d+$/m);

    // The database goes away: the worker lives on, not ready; it comes back: ready again.
    proxy.cut();
    const down = await waitFor('readyz to say 503', async () => {
      const r = await get(base, '/readyz');
      return r.status === 503 && r;
    });
    assert.equal(down.json().error.code, 'SERVICE_UNAVAILABLE');
    assert.match(down.json().error.message, /database is not reachable/);
    assert.equal((await get(base, '/healthz')).status, 200);
    // The queue's gauges cannot be read: a 503 naming the database, never a 500.
    const scrape = await get(base, '/metrics');
    assert.equal(scrape.status, 503, scrape.text);
    assert.equal(scrape.json().error.code, 'DATABASE_UNAVAILABLE');
    proxy.restore();
    await waitFor('readyz to say 200 again', async () => (await get(base, '/readyz')).status === 200, {
      timeoutMs: 30_000,
    });

    worker.kill('SIGTERM');
    assert.deepEqual(await waitForExit(worker), { code: 0, signal: null });
  } finally {
    await apiOnly.stop();
    await receiver.close();
    await proxy.close();
  }
});
