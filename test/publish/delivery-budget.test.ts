/**
 * Bounds on fan-out (src/publish/delivery-budget.ts, issue 16): deliveries per call, and per tenant
 * per second — a refused call writes nothing.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { HeraldError } from '../../src/core/errors.ts';
import { createDeliveryBudget, MAX_DELIVERIES_PER_CALL } from '../../src/publish/delivery-budget.ts';
import { publishEvents } from '../../src/publish/publish-events.ts';
import { makeTestApp, type TestApp } from '../support/app.ts';
import { insertEndpoint, insertTenant } from '../support/delivery-fixtures.ts';
import { forEachStorage, freshDb } from '../support/storage.ts';

test("a tenant's budget: a burst, then the rate; a call that does not fit is refused whole with when it would", () => {
  let now = 0;
  const budget = createDeliveryBudget({ perSecond: 10, burst: 30, now: () => now });
  budget.take('a', 25);
  assert.throws(
    () => budget.take('a', 10),
    (e: HeraldError) => e.code === 'RATE_LIMITED' && e.retryAfterSeconds === 1,
  );
  budget.take('b', 30); // another tenant has its own
  now = 500; // +5
  budget.take('a', 10);
  assert.throws(
    () => budget.take('a', 1),
    (e: HeraldError) => e.code === 'RATE_LIMITED',
  );
  now = 3_500; // +30, capped at the burst
  budget.take('a', 30);
  assert.throws(
    () => budget.take('a', 25),
    (e: HeraldError) => e.retryAfterSeconds === 3,
  );
});

let t: TestApp;
before(async () => {
  // A clock that stands still: the budget refills only when the test says.
  const at = new Date('2030-01-01T00:00:00Z');
  t = await makeTestApp('pglite', { config: { deliveryRateLimit: 1_000 }, clock: { now: () => at } });
  await t.request('POST', '/v1/tenants', { id: 'wide', name: 'Wide' });
  // 101 endpoints × 100 events: one more delivery than a call may make.
  for (let i = 0; i < 101; i++) await insertEndpoint(t.ctx.db, 'wide', { url: `https://e${i}.example/hook` });
});
after(() => t.close());

const events = (n: number) => ({
  events: Array.from({ length: n }, (_, i) => ({ type: 'invoice.paid', data: { i } })),
});
const stored = async () =>
  (await t.ctx.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM events WHERE tenant_id = 'wide'`))[0]!
    .n;

test('a call that would create more than 10,000 deliveries: 422 LIMIT_EXCEEDED, nothing written', async () => {
  const res = await t.request('POST', '/v1/tenants/wide/events', events(100));
  assert.equal(res.statusCode, 422, res.body);
  assert.equal(res.json().error.code, 'LIMIT_EXCEEDED');
  assert.match(
    res.json().error.message,
    new RegExp(`would create 10100 deliveries; one call may create at most ${MAX_DELIVERIES_PER_CALL}`),
  );
  assert.equal(await stored(), 0);
});

test('past the tenant rate: 429 RATE_LIMITED with Retry-After, nothing written', async () => {
  // The burst is 10,000 (at least one full call): 98 × 101 = 9,898 fit, the next 101 do not.
  const first = await t.request('POST', '/v1/tenants/wide/events', events(98));
  assert.equal(first.statusCode, 202, first.body);
  const before = await stored();
  const second = await t.request('POST', '/v1/tenants/wide/events', events(2));
  assert.equal(second.statusCode, 429, second.body);
  assert.equal(second.json().error.code, 'RATE_LIMITED');
  assert.ok(Number(second.headers['retry-after']) >= 1);
  assert.equal(await stored(), before);
});

forEachStorage('the delivery budget beside writes not made', (kind) => {
  test('a publish tried again (kept candidates found stale) takes its budget once', async () => {
    const t = await freshDb(kind);
    try {
      const tenant = await insertTenant(t.db);
      const budget = createDeliveryBudget({ perSecond: 1, burst: 10, now: () => 0 });
      const publish = (n: number) =>
        publishEvents(
          t.db,
          tenant,
          Array.from({ length: n }, (_, i) => ({ type: 'invoice.paid', data: { i } })),
          { budget },
        );
      await insertEndpoint(t.db, tenant, { url: 'http://127.0.0.1:9/a' });
      // One delivery; the tenant's candidates are kept for the next publish.
      assert.equal((await publish(1)).deliveries.length, 1);
      // A second endpoint, written where the kept candidates do not see it: the next publish plans
      // 4 deliveries with them, finds them stale, and writes 8 with a fresh read.
      await insertEndpoint(t.db, tenant, { url: 'http://127.0.0.1:9/b' });
      assert.equal((await publish(4)).deliveries.length, 8, 'taken twice, 4 + 8 would not fit in 9');
      // 1 left: two more do not fit; one more did not, had the stale try kept its 4.
      await assert.rejects(publish(1), (e: HeraldError) => e.code === 'RATE_LIMITED');
    } finally {
      await t.close();
    }
  });
});
