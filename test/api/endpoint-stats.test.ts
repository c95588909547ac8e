/**
 * Endpoint stats: the endpoints list's summary (success rate and last attempt of several endpoints)
 * and one endpoint's 24 h buckets of success rate and latency, computed from attempt rows with
 * chosen times under an injected clock.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { makeTestApp, type TestApp } from '../support/app.ts';
import { insertAttempts } from '../support/attempt-fixtures.ts';
import { insertEndpoint, insertTenant, manualClock, publishOne } from '../support/delivery-fixtures.ts';
import { forEachStorage } from '../support/storage.ts';

const NOW = new Date('2030-01-01T12:30:00Z');
const ago = (minutes: number) => new Date(NOW.getTime() - minutes * 60_000);

forEachStorage('endpoint stats', (kind) => {
  let t: TestApp;
  let busy: string;
  let idle: string;
  let other: string;

  before(async () => {
    t = await makeTestApp(kind, { clock: manualClock(NOW), config: { disableAfterSeconds: 3600 } });
    const db = t.ctx.db;
    await insertTenant(db, 'acme');
    await insertTenant(db, 'globex');
    busy = (await insertEndpoint(db, 'acme', { url: 'http://127.0.0.1:9/a', failingSince: ago(5) })).id;
    idle = (await insertEndpoint(db, 'acme', { url: 'http://127.0.0.1:9/b' })).id;
    other = (await insertEndpoint(db, 'globex', { url: 'http://127.0.0.1:9/c' })).id;
    const d = await publishOne(db, 'acme', busy);
    const ref = { tenantId: 'acme', endpointId: busy, deliveryId: d.deliveryId };
    await insertAttempts(db, ref, [
      // Outside the 24 h window: counts only as history.
      { at: ago(25 * 60), durationMs: 999 },
      // The 10:00 bucket: two successes.
      { at: ago(150), durationMs: 100 },
      { at: ago(140), durationMs: 300 },
      // The 12:00 bucket (current): one success, one 500, one timeout.
      { at: ago(20), durationMs: 50 },
      { at: ago(10), durationMs: 150, statusCode: 500, errorKind: 'http_status' },
      { at: ago(2), durationMs: 3000, statusCode: null, errorKind: 'timeout' },
    ]);
    const o = await publishOne(db, 'globex', other);
    await insertAttempts(db, { tenantId: 'globex', endpointId: other, deliveryId: o.deliveryId }, [
      { at: ago(1), durationMs: 10 },
    ]);
  });
  after(() => t?.close());

  test("summarises the tenant's endpoints and leaves out others' ids", async () => {
    const res = await t.request(
      'GET',
      `/v1/tenants/acme/endpoint-stats?endpointIds=${busy},${idle},${other}`,
    );
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.equal(body.window, '24h');
    const byId = new Map(body.data.map((s: { endpointId: string }) => [s.endpointId, s]));
    assert.equal(byId.size, 2);
    assert.deepEqual(byId.get(busy), {
      endpointId: busy,
      attempts: 5,
      succeeded: 3,
      failed: 2,
      successRate: 0.6,
      lastAttempt: { startedAt: ago(2).toISOString(), statusCode: null, errorKind: 'timeout' },
      failingSince: ago(5).toISOString(),
      // Auto-disable comes HERALD_DISABLE_AFTER (an hour here) after it began failing.
      disablesAt: new Date(ago(5).getTime() + 3600_000).toISOString(),
    });
    assert.deepEqual(byId.get(idle), {
      endpointId: idle,
      attempts: 0,
      succeeded: 0,
      failed: 0,
      successRate: null,
      lastAttempt: null,
      failingSince: null,
      disablesAt: null,
    });
    const hour = await t.request('GET', `/v1/tenants/acme/endpoint-stats?window=1h&endpointIds=${busy}`);
    assert.equal(hour.json().data[0].attempts, 3);
  });

  test('refuses an empty or oversized id list and an unknown window', async () => {
    const many = Array.from({ length: 101 }, (_, i) => `ep_${i}`).join(',');
    for (const q of ['endpointIds=,', `endpointIds=${many}`, `endpointIds=${busy}&window=7d`, '']) {
      const res = await t.request('GET', `/v1/tenants/acme/endpoint-stats?${q}`);
      assert.equal(res.statusCode, 400, q);
    }
    const res = await t.request('GET', `/v1/tenants/nobody/endpoint-stats?endpointIds=${busy}`);
    assert.equal(res.statusCode, 404);
  });

  test("buckets one endpoint's last 24 h by hour, oldest first, empty hours included", async () => {
    const res = await t.request('GET', `/v1/tenants/acme/endpoints/${busy}/stats`);
    assert.equal(res.statusCode, 200, res.body);
    const s = res.json();
    assert.equal(s.bucketSeconds, 3600);
    assert.equal(s.buckets.length, 24);
    assert.equal(s.to, '2030-01-01T13:00:00.000Z');
    assert.equal(s.from, '2029-12-31T13:00:00.000Z');
    assert.deepEqual(s.totals, {
      attempts: 5,
      succeeded: 3,
      failed: 2,
      successRate: 0.6,
      avgDurationMs: 720,
    });
    const byStart = new Map(s.buckets.map((b: { start: string }) => [b.start, b]));
    assert.deepEqual(byStart.get('2030-01-01T10:00:00.000Z'), {
      start: '2030-01-01T10:00:00.000Z',
      attempts: 2,
      succeeded: 2,
      successRate: 1,
      avgDurationMs: 200,
      p95DurationMs: 290,
    });
    const current = byStart.get('2030-01-01T12:00:00.000Z') as { attempts: number; successRate: number };
    assert.equal(current.attempts, 3);
    assert.equal(current.successRate, 1 / 3);
    assert.deepEqual(byStart.get('2030-01-01T11:00:00.000Z'), {
      start: '2030-01-01T11:00:00.000Z',
      attempts: 0,
      succeeded: 0,
      successRate: null,
      avgDurationMs: null,
      p95DurationMs: null,
    });
    assert.equal(s.lastAttempt.errorKind, 'timeout');
  });

  test("another tenant's endpoint is not found", async () => {
    const res = await t.request('GET', `/v1/tenants/acme/endpoints/${other}/stats`);
    assert.equal(res.statusCode, 404);
    assert.equal(res.json().error.code, 'ENDPOINT_NOT_FOUND');
  });
});
