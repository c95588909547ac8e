/**
 * Scale-out on one PostgreSQL (docs/design.md, "Processes"): one `herald api` process and three
 * `herald worker` processes share a schema. 3,000 events published through the API all arrive, the
 * workers split the work (more than one of them claims deliveries), no delivery is taken twice
 * (`FOR UPDATE SKIP LOCKED`: no duplicate requests, one attempt per delivery), every delivery ends
 * `succeeded`, and SIGTERM stops every process with exit code 0.
 *
 * Which worker sent a delivery is not kept once it is finished (`locked_by` is cleared when the
 * outcome is recorded, and attempts carry no worker id), so the test samples the claims while they
 * are out: `locked_by` is `hostname:pid:random`, and the pid names the worker process.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
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
import { isPostgresReachable, TEST_DATABASE_URL } from '../support/storage.ts';

const EVENTS = 3_000;
const WORKERS = 3;
/** Keeps each claim out long enough for the sampler to see who holds it. */
const ANSWER_MS = 25;

const adminKey = `hk_admin_e2e_${randomBytes(12).toString('hex')}`;
const schema = `e2e_workers_${randomBytes(5).toString('hex')}`;
let schemaCreated = false;
let receiver: IdReceiver | undefined;
let sql: pg.Client | undefined;

after(async () => {
  await killSpawned();
  await receiver?.close();
  await sql?.end().catch(() => {});
  if (schemaCreated) {
    const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await c.end();
  }
});

const reachable = await isPostgresReachable();

test('[postgres] one api and three worker processes deliver 3,000 events, each once, and drain on SIGTERM', {
  timeout: 120_000,
  skip: reachable ? false : `PostgreSQL not reachable at ${TEST_DATABASE_URL}`,
}, async (t) => {
  sql = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await sql.connect();
  await sql.query(`CREATE SCHEMA ${schema}`);
  schemaCreated = true;
  const url = new URL(TEST_DATABASE_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  const env = {
    PORT: '0',
    LOG_LEVEL: 'warn',
    DATABASE_URL: url.toString(),
    HERALD_ADMIN_KEY: adminKey,
    HERALD_ENCRYPTION_KEY: generateEncryptionKey(),
    HERALD_ALLOW_PRIVATE_NETWORKS: 'true',
    // One endpoint, so that the workers share it through the claim's cluster-wide count: claiming
    // ahead (the default, 3) would let the first worker to claim it hold it alone while it keeps up
    // (docs/isolation.md, "Claiming ahead"), and this test is about sharing.
    HERALD_CLAIM_AHEAD: '1',
  };
  receiver = await startIdReceiver({ delayMs: ANSWER_MS });

  let t0 = Date.now();
  // The api process migrates the schema first; the workers then start side by side.
  const apiProc = await startHeraldProcess('api', env);
  const workers = await Promise.all(Array.from({ length: WORKERS }, () => startHeraldProcess('worker', env)));
  const startMs = Date.now() - t0;
  const all: HeraldProcess[] = [apiProc, ...workers];
  const workerOfPid = new Map(workers.map((w, i) => [String(w.pid), `worker ${i + 1} (pid ${w.pid})`]));

  const tenantId = 'scale';
  const tenant = await api(apiProc.url!, adminKey, 'POST', '/v1/tenants', { id: tenantId, name: 'Scale' });
  assert.equal(tenant.status, 201, JSON.stringify(tenant.body));
  const endpoint = await api(apiProc.url!, adminKey, 'POST', `/v1/tenants/${tenantId}/endpoints`, {
    url: receiver.url,
  });
  assert.equal(endpoint.status, 201, JSON.stringify(endpoint.body));

  // Who holds which delivery, sampled while they are out.
  const claimsBy = new Map<string, Set<string>>();
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const { rows } = await sql!.query<{ id: string; locked_by: string }>(
        `SELECT id, locked_by FROM ${schema}.deliveries WHERE status = 'pending' AND locked_by IS NOT NULL`,
      );
      for (const r of rows) {
        const set = claimsBy.get(r.locked_by) ?? new Set<string>();
        set.add(r.id);
        claimsBy.set(r.locked_by, set);
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();

  const ids = Array.from({ length: EVENTS }, (_, i) => `ev-${i}`);
  t0 = Date.now();
  try {
    await publishIds(apiProc.url!, adminKey, tenantId, ids);
    const publishMs = Date.now() - t0;
    await waitFor('every event id to arrive', () => receiver!.missing(ids).length === 0, {
      timeoutMs: 60_000,
      intervalMs: 50,
      detail: () => `${receiver!.missing(ids).length} missing`,
    });
    const deliveredMs = Date.now() - t0;
    // Outcomes are written shortly after the answers: wait until none is pending any more.
    await waitFor(
      'every delivery to be finished',
      async () => {
        const { rows } = await sql!.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM ${schema}.deliveries WHERE status = 'pending'`,
        );
        return rows[0]!.n === 0;
      },
      { timeoutMs: 20_000, intervalMs: 50 },
    );
    t.diagnostic(
      `start of 1 api + ${WORKERS} workers ${startMs} ms, publish ${publishMs} ms, all received ${deliveredMs} ms after publishing began`,
    );
  } finally {
    sampling = false;
    await sampler;
  }

  const { rows: byStatus } = await sql.query<{ status: string; n: number }>(
    `SELECT status, count(*)::int AS n FROM ${schema}.deliveries GROUP BY status`,
  );
  assert.deepEqual(byStatus, [{ status: 'succeeded', n: EVENTS }], 'every delivery succeeded, once each');
  const { rows: attempts } = await sql.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM ${schema}.attempts`,
  );
  assert.equal(attempts[0]!.n, EVENTS, 'one attempt per delivery: no delivery was claimed twice');
  assert.equal(receiver.received, EVENTS, 'the receiver got each event exactly once');
  assert.equal(receiver.duplicates(), 0);

  const seen = [...claimsBy].map(([workerId, set]) => {
    const pid = workerId.split(':').at(-2) ?? '';
    return { workerId, name: workerOfPid.get(pid), claims: set.size };
  });
  for (const s of seen) assert.ok(s.name, `a claim by ${s.workerId}, which is none of the worker processes`);
  t.diagnostic(
    `claims seen while out (sampled): ${seen.map((s) => `${s.name}: ${s.claims}`).join(', ')}; ` +
      `${seen.reduce((n, s) => n + s.claims, 0)} of ${EVENTS} observed`,
  );
  assert.ok(seen.length >= 2, `only ${seen.length} worker(s) were seen holding deliveries`);

  // Graceful stop: every process drains and exits 0.
  t0 = Date.now();
  for (const p of all) p.kill('SIGTERM');
  const statuses = await Promise.all(all.map((p) => waitForExit(p, 30_000)));
  statuses.forEach((s, i) => {
    const p = all[i]!;
    assert.deepEqual(s, { code: 0, signal: null }, `herald ${p.role} (pid ${p.pid}) exit: ${p.stderr()}`);
    assert.match(p.stdout(), /SIGTERM received, draining/);
  });
  t.diagnostic(`all ${all.length} processes exited 0 within ${Date.now() - t0} ms of SIGTERM`);
});
