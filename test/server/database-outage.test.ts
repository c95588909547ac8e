/**
 * A database that drops Herald's connections (a PostgreSQL restart, a failover, an administrator
 * terminating backends) loses nothing (docs/design.md, "Quality bars"): every event accepted before,
 * during and after arrives; calls that meet the outage are refused with 503 `DATABASE_UNAVAILABLE`
 * and `Retry-After`, never a 500, and a retry under the same Idempotency-Key publishes once; the
 * process keeps running and recovers on its own — the pool reconnects, outcomes are recorded, the
 * LISTEN connection comes back.
 *
 * The outage is every Herald backend terminated at once (pg_terminate_backend), found by the
 * connection's application_name: what clients see when PostgreSQL restarts, without stopping the
 * server the other tests share.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import pg from 'pg';
import { loadConfig } from '../../src/config/config.ts';
import { generateEncryptionKey } from '../../src/security/secret-box.ts';
import { type RunningHerald, startHerald } from '../../src/server/start.ts';
import { waitFor } from '../support/poll.ts';
import { api, type IdReceiver, startIdReceiver } from '../support/processes.ts';
import { isPostgresReachable, TEST_DATABASE_URL } from '../support/storage.ts';

const adminKey = `hk_admin_outage_${randomBytes(12).toString('hex')}`;
const schema = `outage_${randomBytes(5).toString('hex')}`;
const appName = `herald_${schema}`;
let herald: RunningHerald | undefined;
let receiver: IdReceiver | undefined;
let sql: pg.Client | undefined;

after(async () => {
  await herald?.stop();
  await receiver?.close();
  if (sql) {
    await sql.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await sql.end();
  }
});

const reachable = await isPostgresReachable();

/** Terminates every backend of this test's Herald; answers how many there were. */
async function cutConnections(): Promise<number> {
  const rows = await sql!.query<{ n: number }>(
    `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = $1`,
    [appName],
  );
  return rows.rows[0]!.n;
}

/** Publishes a batch like a careful client: 503 means "try again", under the same Idempotency-Key. */
async function publishBatch(base: string, ids: string[], statuses: number[]): Promise<{ replayed: boolean }> {
  const key = `batch-${ids[0]}`;
  for (let attempt = 0; attempt < 200; attempt++) {
    const res = await fetch(`${base}/v1/tenants/acme/events`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${adminKey}`,
        'content-type': 'application/json',
        'idempotency-key': key,
      },
      body: JSON.stringify({ events: ids.map((id) => ({ id, type: 'order.created', data: { id } })) }),
    });
    statuses.push(res.status);
    const body = (await res.json()) as { error?: { code: string } };
    if (res.status === 202) return { replayed: res.headers.get('idempotent-replayed') === 'true' };
    assert.equal(res.status, 503, `unexpected answer ${res.status}: ${JSON.stringify(body)}`);
    assert.equal(body.error?.code, 'DATABASE_UNAVAILABLE');
    assert.ok(Number(res.headers.get('retry-after')) >= 1, 'a 503 says when to retry');
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`batch ${key} was never accepted`);
}

test('[postgres] connections cut mid-delivery: nothing accepted is lost, refusals are 503, Herald recovers', {
  timeout: 120_000,
  skip: reachable ? false : `PostgreSQL not reachable at ${TEST_DATABASE_URL}`,
}, async () => {
  sql = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await sql.connect();
  await sql.query(`CREATE SCHEMA ${schema}`);
  receiver = await startIdReceiver({ delayMs: 5 });
  const url = new URL(TEST_DATABASE_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  url.searchParams.set('application_name', appName);
  const env = {
    PORT: '0',
    LOG_LEVEL: 'silent',
    DATABASE_URL: url.toString(),
    HERALD_ADMIN_KEY: adminKey,
    HERALD_ENCRYPTION_KEY: generateEncryptionKey(),
    HERALD_ALLOW_PRIVATE_NETWORKS: 'true',
    // A claim whose publish answer was lost to the outage waits out its lease: keep that short.
    HERALD_LEASE: '2s',
  };
  herald = await startHerald(loadConfig({}, env), { api: true, worker: true }, { drainMs: 1000 });
  const base = herald.url!;
  assert.equal((await api(base, adminKey, 'POST', '/v1/tenants', { id: 'acme', name: 'Acme' })).status, 201);
  const created = await api(base, adminKey, 'POST', '/v1/tenants/acme/endpoints', {
    url: receiver.url,
    retrySchedule: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
  });
  assert.equal(created.status, 201);

  const ids = Array.from({ length: 1200 }, (_, i) => `ord_${String(i).padStart(4, '0')}`);
  const batches = Array.from({ length: 12 }, (_, b) => ids.slice(b * 100, b * 100 + 100));
  const statuses: number[] = [];

  // Before: four batches accepted, deliveries under way.
  for (const batch of batches.slice(0, 4)) await publishBatch(base, batch, statuses);
  await waitFor('the first deliveries', () => receiver!.received >= 50, { timeoutMs: 20_000 });

  // The outage, twice, while the rest is being published and delivered.
  const cuts: number[] = [];
  const publishing = (async () => {
    for (const batch of batches.slice(4)) await publishBatch(base, batch, statuses);
  })();
  cuts.push(await cutConnections());
  await new Promise((r) => setTimeout(r, 100));
  cuts.push(await cutConnections());
  await publishing;
  assert.ok(cuts[0]! > 0, 'there were connections to cut');

  // Every event arrived, every delivery is recorded as succeeded, and nothing was published twice.
  await waitFor('every event delivered', () => receiver!.missing(ids).length === 0, {
    timeoutMs: 60_000,
    detail: () => `${receiver!.missing(ids).length} missing`,
  });
  await waitFor(
    'every delivery recorded as succeeded',
    async () => {
      const r = await sql!.query<{ status: string; n: number }>(
        `SELECT status, count(*)::int AS n FROM ${schema}.deliveries GROUP BY status`,
      );
      return r.rows.length === 1 && r.rows[0]!.status === 'succeeded' && r.rows[0]!.n === ids.length;
    },
    { timeoutMs: 30_000 },
  );
  const [{ n: events } = { n: 0 }] = (
    await sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${schema}.events`)
  ).rows;
  assert.equal(events, ids.length, 'each event stored once');
  assert.ok(!statuses.includes(500), `no 500 among ${statuses.length} answers`);

  // Afterwards: ready, and a new event goes out as usual.
  await waitFor('ready again', async () => (await api(base, adminKey, 'GET', '/readyz')).status === 200, {
    timeoutMs: 30_000,
  });
  await publishBatch(base, ['ord_after'], statuses);
  await waitFor('the event published after the outage', () => receiver!.counts.has('ord_after'), {
    timeoutMs: 30_000,
  });
});
