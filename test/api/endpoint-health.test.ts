/**
 * An endpoint's circuit breaker and adaptive limit as the API and /metrics show them (issue 14):
 * the columns are set with SQL, as recording attempts would leave them, relative to the database's
 * clock, which decides "half-open" for the API as it does for the claim.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { makeTestApp, type TestApp } from '../support/app.ts';
import { forEachStorage } from '../support/storage.ts';

const CLOSED = {
  circuit: 'closed',
  circuitReason: null,
  circuitOpenedAt: null,
  circuitUntil: null,
  consecutiveFailures: 0,
  // Slow start: a new endpoint may have 8 requests in flight, one more per success (migration 009).
  concurrencyLimit: 8,
};
const REASON = '20 consecutive failed attempts; last: HTTP 503';

forEachStorage('endpoint health', (kind) => {
  let t: TestApp;
  let keyA: string;
  let keyB: string;
  const base = (tid: string) => `/v1/tenants/${tid}/endpoints`;
  const create = async (tid: string, url: string) => {
    const res = await t.request('POST', base(tid), { url });
    assert.equal(res.statusCode, 201, res.body);
    return res.json().id as string;
  };
  /** Opens the circuit as recording would: until `untilSql`, after 20 failures, throttled to 1. */
  const openCircuit = (id: string, untilSql: string) =>
    t.ctx.db.query(
      `UPDATE endpoints SET circuit_state = 'open', circuit_until = ${untilSql}, circuit_reason = $2,
         circuit_opened_at = now() - interval '5 minutes', circuit_trips = 3, consecutive_failures = 20,
         concurrency_limit = 1
       WHERE id = $1`,
      [id, REASON],
    );
  const rowState = async (id: string) =>
    (
      await t.ctx.db.query(
        `SELECT circuit_state, circuit_until, circuit_reason, circuit_opened_at, circuit_trips,
           consecutive_failures, concurrency_limit FROM endpoints WHERE id = $1`,
        [id],
      )
    )[0];

  let open: string;
  let halfOpen: string;
  let throttled: string;
  let disabledOpen: string;
  let healthy: string;

  before(async () => {
    t = await makeTestApp(kind);
    for (const id of ['acme', 'other']) {
      assert.equal((await t.request('POST', '/v1/tenants', { id, name: id })).statusCode, 201);
    }
    keyA = await t.tenantKey('acme');
    keyB = await t.tenantKey('other');
    healthy = await create('acme', 'https://a.example/healthy');
    open = await create('acme', 'https://a.example/open');
    halfOpen = await create('acme', 'https://a.example/half-open');
    throttled = await create('acme', 'https://a.example/throttled');
    disabledOpen = await create('other', 'https://b.example/disabled-open');
    await openCircuit(open, `now() + interval '1 hour'`);
    await openCircuit(halfOpen, `now() - interval '1 second'`);
    await t.ctx.db.query(
      'UPDATE endpoints SET concurrency_limit = 8, consecutive_failures = 2 WHERE id = $1',
      [throttled],
    );
    // Disabled while its circuit was open: not counted (nothing is claimed for it anyway).
    await openCircuit(disabledOpen, `now() + interval '1 hour'`);
    await t.ctx.db.query(`UPDATE endpoints SET active = false, disabled_reason = 'gone' WHERE id = $1`, [
      disabledOpen,
    ]);
  });
  after(() => t?.close());

  test('a new endpoint is healthy, on create and on get', async () => {
    const res = await t.request('POST', base('acme'), { url: 'https://a.example/new' });
    assert.deepEqual(res.json().health, CLOSED);
    const got = await t.request('GET', `${base('acme')}/${healthy}`);
    assert.deepEqual(got.json().health, CLOSED);
  });

  test('open, half-open and throttled on get, list and update answers', async () => {
    const got = (await t.request('GET', `${base('acme')}/${open}`, undefined, keyA)).json();
    const [row] = await t.ctx.db.query<{ until: Date; opened: Date }>(
      'SELECT circuit_until AS until, circuit_opened_at AS opened FROM endpoints WHERE id = $1',
      [open],
    );
    assert.deepEqual(got.health, {
      circuit: 'open',
      circuitReason: REASON,
      circuitOpenedAt: row!.opened.toISOString(),
      circuitUntil: row!.until.toISOString(),
      consecutiveFailures: 20,
      concurrencyLimit: 1,
    });
    const half = (await t.request('GET', `${base('acme')}/${halfOpen}`)).json().health;
    assert.equal(half.circuit, 'half_open');
    assert.equal(half.circuitReason, REASON);
    assert.ok(Date.parse(half.circuitUntil) < Date.parse(got.health.circuitUntil));

    const list = (await t.request('GET', base('acme'), undefined, keyA)).json().data as Array<{
      id: string;
      health: { circuit: string; concurrencyLimit: number | null; consecutiveFailures: number };
    }>;
    const byId = new Map(list.map((e) => [e.id, e.health]));
    assert.equal(byId.get(open)?.circuit, 'open');
    assert.equal(byId.get(halfOpen)?.circuit, 'half_open');
    assert.deepEqual(byId.get(throttled), { ...CLOSED, consecutiveFailures: 2, concurrencyLimit: 8 });
    assert.deepEqual(byId.get(healthy), CLOSED);

    // An update of another field answers the state as it stands, and leaves it alone.
    const patched = await t.request('PATCH', `${base('acme')}/${open}`, { name: 'Flaky' }, keyA);
    assert.equal(patched.statusCode, 200, patched.body);
    assert.deepEqual(patched.json().health, got.health);
    const unchanged = await t.request('PATCH', `${base('acme')}/${halfOpen}`, {});
    assert.equal(unchanged.json().health.circuit, 'half_open');
  });

  test('no write accepts it', async () => {
    const before = await rowState(open);
    const forged = { ...CLOSED };
    const patch = await t.request('PATCH', `${base('acme')}/${open}`, { health: forged }, keyA);
    assert.equal(patch.statusCode, 400, patch.body);
    assert.equal(patch.json().error.code, 'VALIDATION_FAILED');
    const post = await t.request('POST', base('acme'), { url: 'https://a.example/x', health: forged }, keyA);
    assert.equal(post.statusCode, 400, post.body);
    assert.deepEqual(await rowState(open), before);
  });

  test("another tenant sees none of it, and its list only its own endpoints' health", async () => {
    for (const url of [`${base('acme')}/${open}`, `${base('other')}/${open}`, base('acme')]) {
      const res = await t.request('GET', url, undefined, keyB);
      assert.equal(res.statusCode, 404, `${url}: ${res.body}`);
      assert.ok(!res.body.includes(REASON));
    }
    const own = (await t.request('GET', base('other'), undefined, keyB)).json().data;
    assert.deepEqual(
      own.map((e: { id: string; tenantId: string }) => [e.id, e.tenantId]),
      [[disabledOpen, 'other']],
    );
  });

  test('/metrics counts active endpoints with an open circuit (half-open too) and throttled ones', async () => {
    const res = await t.request('GET', '/metrics', undefined, null);
    assert.equal(res.statusCode, 200);
    const lines = res.body.split('\n');
    for (const [name, value] of [
      ['herald_endpoints_circuit_open', 2], // open and halfOpen; not the disabled one
      ['herald_endpoints_throttled', 3], // open, halfOpen (limit 1) and throttled (limit 8)
    ] as const) {
      assert.ok(
        lines.some((l) => l.startsWith(`# HELP ${name} `)),
        name,
      );
      assert.ok(lines.includes(`# TYPE ${name} gauge`), name);
      assert.ok(lines.includes(`${name} ${value}`), `${name} ${value} in:\n${res.body}`);
    }
  });

  test('re-enabling an endpoint closes its circuit and lifts its limit', async () => {
    const enabled = await t.request('PATCH', `${base('other')}/${disabledOpen}`, { active: true }, keyB);
    assert.equal(enabled.statusCode, 200, enabled.body);
    assert.equal(enabled.json().disabledReason, null);
    assert.deepEqual(enabled.json().health, CLOSED);
    assert.deepEqual(await rowState(disabledOpen), {
      circuit_state: 'closed',
      circuit_until: null,
      circuit_reason: null,
      circuit_opened_at: null,
      circuit_trips: 0,
      consecutive_failures: 0,
      concurrency_limit: 8,
    });
    // active: true on an active endpoint is no re-enabling: its circuit stays as recording left it.
    await t.request('PATCH', `${base('acme')}/${open}`, { active: true });
    assert.equal((await rowState(open))?.['circuit_state'], 'open');
  });
});
