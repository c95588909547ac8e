/**
 * kill -9 in the middle of delivering: nothing accepted is lost (docs/design.md, "Quality bars").
 *
 * A real `herald serve` process gets 1,000 events (10 publish calls of 100), delivers to a loopback
 * receiver that answers slowly (so a few hundred requests are out at any moment) and is SIGKILLed once
 * the receiver has seen at least 100 of them. A second `herald serve` on the same storage — for the
 * embedded mode the same data directory, whose lock the dead process left behind and which must be
 * taken over — then delivers everything the first one did not finish: every event id arrives at least
 * once. The requests the killed process had in flight were claimed under a lease (`HERALD_LEASE`,
 * 3 s here, plus the endpoint's total timeout, 5 s), so they are re-sent only once that lease has
 * run out: this is what most of the test's time is spent on.
 *
 * Both storage modes run side by side (the lease wait dominates and is idle time).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, type TestContext, test } from 'node:test';
import pg from 'pg';
import { generateEncryptionKey } from '../../src/security/secret-box.ts';
import { waitFor } from '../support/poll.ts';
import {
  api,
  type HeraldProcess,
  type IdReceiver,
  killSpawned,
  publishIds,
  startHeraldProcess,
  startIdReceiver,
  waitForExit,
} from '../support/processes.ts';
import { isPostgresReachable, type StorageKind, TEST_DATABASE_URL } from '../support/storage.ts';

const EVENTS = 1_000;
/**
 * How long the receiver takes to answer before the kill: keeps deliveries in flight and the delivery
 * rate low (Herald sends at most 64 requests at once to one endpoint: ~64 requests/s here), so
 * however slowly the 1,000 events are published, the kill lands long before they have all arrived.
 */
const SLOW_ANSWER_MS = 1_000;
/**
 * Endpoint timeouts: a request's total timeout runs only once it is sent (deliveries over the
 * endpoint's cap wait in Herald, not in the HTTP pool), so 5 s is well above the 1 s answers.
 */
const TIMEOUTS = { connectMs: 1_000, totalMs: 5_000 };
const LEASE = '3s';
/** From the restart until the last event id has arrived: the lease (3 s + 5 s) plus a wide margin. */
const RECOVERY_DEADLINE_MS = 45_000;

const adminKey = `hk_admin_e2e_${randomBytes(12).toString('hex')}`;
const root = mkdtempSync(join(tmpdir(), 'herald-crash-'));
const schemas: string[] = [];
const receivers: IdReceiver[] = [];

after(async () => {
  await killSpawned();
  await Promise.all(receivers.map((r) => r.close()));
  rmSync(root, { recursive: true, force: true });
  if (schemas.length > 0) {
    const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await c.connect();
    for (const s of schemas) await c.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
    await c.end();
  }
});

async function storageEnv(kind: StorageKind): Promise<Record<string, string>> {
  if (kind === 'pglite') return { HERALD_DATA_DIR: join(root, 'data') };
  const schema = `e2e_crash_${randomBytes(5).toString('hex')}`;
  const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await c.connect();
  await c.query(`CREATE SCHEMA ${schema}`);
  await c.end();
  schemas.push(schema);
  const url = new URL(TEST_DATABASE_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return { DATABASE_URL: url.toString(), HERALD_ENCRYPTION_KEY: generateEncryptionKey() };
}

async function countDeliveries(proc: HeraldProcess, tenantId: string, status: string): Promise<number> {
  const res = await api(
    proc.url!,
    adminKey,
    'GET',
    `/v1/tenants/${tenantId}/deliveries?status=${status}&limit=250`,
  );
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return (res.body as { data: unknown[] }).data.length;
}

async function crashAndRecover(t: TestContext, kind: StorageKind): Promise<void> {
  const receiver = await startIdReceiver({ delayMs: SLOW_ANSWER_MS });
  receivers.push(receiver);
  const env = {
    PORT: '0',
    LOG_LEVEL: 'warn',
    HERALD_ADMIN_KEY: adminKey,
    HERALD_ALLOW_PRIVATE_NETWORKS: 'true',
    HERALD_LEASE: LEASE,
    ...(await storageEnv(kind)),
  };
  const ids = Array.from({ length: EVENTS }, (_, i) => `ev-${i}`);
  const tenantId = 'crash';

  let t0 = Date.now();
  const first = await startHeraldProcess('serve', env);
  const firstStartMs = Date.now() - t0;
  const tenant = await api(first.url!, adminKey, 'POST', '/v1/tenants', { id: tenantId, name: 'Crash' });
  assert.equal(tenant.status, 201, JSON.stringify(tenant.body));
  const endpoint = await api(first.url!, adminKey, 'POST', `/v1/tenants/${tenantId}/endpoints`, {
    url: receiver.url,
    timeouts: TIMEOUTS,
  });
  assert.equal(endpoint.status, 201, JSON.stringify(endpoint.body));

  t0 = Date.now();
  await publishIds(first.url!, adminKey, tenantId, ids);
  const publishMs = Date.now() - t0;
  await waitFor('the receiver to get its first 100 requests', () => receiver.received >= 100, {
    timeoutMs: 30_000,
    detail: () => `${receiver.received} received`,
  });

  // Mid-delivery: some answered, some out, most not yet sent.
  const receivedAtKill = receiver.received;
  const distinctAtKill = receiver.counts.size;
  first.kill('SIGKILL');
  const killedAt = Date.now();
  const status = await waitForExit(first, 10_000);
  assert.equal(status.signal, 'SIGKILL');
  assert.ok(
    distinctAtKill < EVENTS,
    `all ${EVENTS} events had arrived before the kill (raise SLOW_ANSWER_MS so the kill lands mid-delivery)`,
  );
  if (kind === 'pglite') {
    // The dead process's lock is still there: the restart has to take it over.
    const lock = join(root, 'data', 'herald.lock');
    assert.ok(existsSync(lock), 'the killed process left no lock file');
    assert.equal(readFileSync(lock, 'utf8').trim(), String(first.pid));
  }

  receiver.setDelay(0);
  t0 = Date.now();
  const second = await startHeraldProcess('serve', env);
  const restartMs = Date.now() - t0;
  await waitFor('every event id to arrive at least once', () => receiver.missing(ids).length === 0, {
    timeoutMs: RECOVERY_DEADLINE_MS,
    intervalMs: 100,
    detail: () => {
      const missing = receiver.missing(ids);
      return `${missing.length} missing, e.g. ${missing.slice(0, 5).join(', ')}`;
    },
  });
  const recoveredMs = Date.now() - killedAt;

  // And the queue is clean: nothing left pending, nothing failed.
  await waitFor(
    'no pending delivery left',
    async () => (await countDeliveries(second, tenantId, 'pending')) === 0,
    {
      timeoutMs: 10_000,
      intervalMs: 100,
    },
  );
  assert.equal(await countDeliveries(second, tenantId, 'failed'), 0, 'no delivery may have failed');

  second.kill('SIGTERM');
  const stopped = await waitForExit(second, 20_000);
  assert.equal(stopped.code, 0, `the restarted Herald did not stop cleanly:\n${second.stderr()}`);

  t.diagnostic(
    `${kind}: first start ${firstStartMs} ms, publish of ${EVENTS} events ${publishMs} ms, killed with ` +
      `${distinctAtKill} distinct ids (${receivedAtKill} requests) received; restart ${restartMs} ms; ` +
      `all ${EVENTS} ids received ${recoveredMs} ms after the kill; ${receiver.received} requests in all, ` +
      `${receiver.duplicates()} duplicates`,
  );
}

const reachable = await isPostgresReachable();

describe('kill -9 mid-delivery, then restart: every accepted event arrives', { concurrency: true }, () => {
  test('[pglite] same data directory (stale lock taken over)', { timeout: 150_000 }, (t) =>
    crashAndRecover(t, 'pglite'),
  );
  test(
    '[postgres] same schema',
    {
      timeout: 150_000,
      skip: reachable ? false : `PostgreSQL not reachable at ${TEST_DATABASE_URL}`,
    },
    (t) => crashAndRecover(t, 'postgres'),
  );
});
