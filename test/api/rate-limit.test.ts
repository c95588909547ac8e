/**
 * The API rate limit: token buckets (unit, with an injected clock) and the 429 answer through the
 * app (per tenant key, per client IP without a key, the admin key exempt unless configured).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTokenBuckets } from '../../src/api/rate-limit.ts';
import { makeTestApp, type TestApp } from '../support/app.ts';
import { forEachStorage } from '../support/storage.ts';

describe('token buckets', () => {
  test('a burst, then one request per 1/rate seconds', () => {
    let now = 1_000_000;
    const b = createTokenBuckets({ ratePerSecond: 2, burst: 3, now: () => now });
    const first = b.take('k');
    assert.deepEqual(first, { allowed: true, limit: 3, remaining: 2, resetSeconds: 1, retryAfterSeconds: 0 });
    assert.equal(b.take('k').allowed, true);
    assert.equal(b.take('k').remaining, 0);
    const refused = b.take('k');
    assert.equal(refused.allowed, false);
    assert.equal(refused.retryAfterSeconds, 1);
    assert.equal(refused.resetSeconds, 2);
    assert.equal(b.take('other').allowed, true, 'buckets are independent');
    now += 499;
    assert.equal(b.take('k').allowed, false, 'not yet half a second');
    now += 1;
    assert.equal(b.take('k').allowed, true, 'half a second gives one token at 2/s');
    assert.equal(b.take('k').allowed, false);
    now += 60_000;
    assert.equal(b.take('k').remaining, 2, 'refills to the burst, never above');
  });

  test('a clock that goes backwards refills nothing', () => {
    let now = 10_000;
    const b = createTokenBuckets({ ratePerSecond: 1, burst: 1, now: () => now });
    assert.equal(b.take('k').allowed, true);
    now -= 5_000;
    assert.equal(b.take('k').allowed, false);
  });

  test('memory is bounded: idle buckets go, and at most maxBuckets are kept', () => {
    let now = 0;
    const b = createTokenBuckets({ ratePerSecond: 10, burst: 10, now: () => now, maxBuckets: 100 });
    for (let i = 0; i < 1000; i++) b.take(`ip:${i}`);
    assert.equal(b.size(), 100);
    // One second refills a 10-token bucket at 10/s: every bucket is then idle and is dropped.
    now += 1000;
    b.take('fresh');
    assert.equal(b.size(), 1);
  });

  test('the least recently used bucket is the one evicted', () => {
    const now = 0;
    const b = createTokenBuckets({ ratePerSecond: 1, burst: 2, now: () => now, maxBuckets: 2 });
    b.take('a');
    b.take('a');
    b.take('b');
    b.take('a'); // refused, but a is now the most recently used
    b.take('c'); // evicts b
    assert.equal(b.take('a').allowed, false, 'a kept its empty bucket');
    assert.equal(b.take('b').remaining, 1, 'b starts over');
  });
});

forEachStorage('API rate limit', (kind) => {
  let t: TestApp;
  let now = Date.parse('2026-01-01T00:00:00Z');
  let keyA: string;
  let keyB: string;

  before(async () => {
    t = await makeTestApp(kind, {
      config: { apiRateLimit: 1, apiRateLimitBurst: 3 },
      clock: { now: () => new Date(now) },
    });
    for (const id of ['tenant-a', 'tenant-b']) {
      assert.equal((await t.request('POST', '/v1/tenants', { id, name: id })).statusCode, 201);
    }
    keyA = await t.tenantKey('tenant-a');
    keyB = await t.tenantKey('tenant-b');
  });
  after(() => t.close());

  /** A new key of `tenantId`, minted with the admin key (not rate limited by default). */
  const mintKey = async (tenantId: string) =>
    ((await t.request('POST', `/v1/tenants/${tenantId}/api-keys`, {})).json() as { key: string }).key;

  test('a tenant key gets its burst, then 429 RATE_LIMITED with Retry-After and RateLimit-*', async () => {
    const url = '/v1/tenants/tenant-a/endpoints';
    for (let i = 0; i < 3; i++) {
      const res = await t.request('GET', url, undefined, keyA);
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['ratelimit-limit'], '3');
      assert.equal(res.headers['ratelimit-remaining'], String(2 - i));
    }
    const refused = await t.request('GET', url, undefined, keyA);
    assert.equal(refused.statusCode, 429);
    assert.equal(refused.json().error.code, 'RATE_LIMITED');
    assert.equal(refused.headers['retry-after'], '1');
    assert.equal(refused.headers['ratelimit-remaining'], '0');
    assert.equal(refused.headers['ratelimit-reset'], '3');

    // Another key has its own bucket.
    assert.equal((await t.request('GET', '/v1/tenants/tenant-b/endpoints', undefined, keyB)).statusCode, 200);

    now += 1000;
    assert.equal((await t.request('GET', url, undefined, keyA)).statusCode, 200);
    assert.equal((await t.request('GET', url, undefined, keyA)).statusCode, 429);
    now += 10_000;
  });

  test("a tenant's keys share its bucket: minting more keys buys no more requests (issue 16)", async () => {
    const extra = [await mintKey('tenant-a'), await mintKey('tenant-a'), await mintKey('tenant-a')];
    const url = '/v1/tenants/tenant-a/endpoints';
    let allowed = 0;
    for (const key of [keyA, ...extra]) {
      for (let i = 0; i < 3; i++)
        if ((await t.request('GET', url, undefined, key)).statusCode === 200) allowed++;
    }
    assert.equal(allowed, 3, "four keys, one tenant: the tenant's burst of 3");
    // Another tenant is not affected.
    assert.equal((await t.request('GET', '/v1/tenants/tenant-b/endpoints', undefined, keyB)).statusCode, 200);
    now += 10_000;
  });

  test('a tenant holds at most HERALD_MAX_API_KEYS_PER_TENANT unrevoked keys: 422 LIMIT_EXCEEDED', async () => {
    const capped = await makeTestApp(kind, { config: { maxApiKeysPerTenant: 2 } });
    try {
      await capped.request('POST', '/v1/tenants', { id: 'c', name: 'c' });
      const first = (await capped.request('POST', '/v1/tenants/c/api-keys', {})).json() as { id: string };
      assert.equal((await capped.request('POST', '/v1/tenants/c/api-keys', {})).statusCode, 201);
      const third = await capped.request('POST', '/v1/tenants/c/api-keys', {});
      assert.equal(third.statusCode, 422);
      assert.equal(third.json().error.code, 'LIMIT_EXCEEDED');
      assert.equal((await capped.request('DELETE', `/v1/tenants/c/api-keys/${first.id}`)).statusCode, 204);
      assert.equal(
        (await capped.request('POST', '/v1/tenants/c/api-keys', {})).statusCode,
        201,
        'room again',
      );
    } finally {
      await capped.close();
    }
  });

  test('a refused request is refused before it is authenticated or parsed', async () => {
    const before = await t.ctx.db.query('SELECT count(*)::int AS n FROM endpoints');
    for (let i = 0; i < 3; i++) await t.request('GET', '/v1/tenants/tenant-b/endpoints', undefined, keyB);
    const res = await t.request('POST', '/v1/tenants/tenant-b/endpoints', '{not json', keyB);
    assert.equal(res.statusCode, 429);
    assert.deepEqual(await t.ctx.db.query('SELECT count(*)::int AS n FROM endpoints'), before);
    now += 10_000;
  });

  test('without a key, requests are limited per client IP, public routes included', async () => {
    for (let i = 0; i < 3; i++)
      assert.equal((await t.request('GET', '/healthz', undefined, null)).statusCode, 200);
    const refused = await t.request('GET', '/healthz', undefined, null);
    assert.equal(refused.statusCode, 429);
    const other = await t.app.inject({ method: 'GET', url: '/healthz', remoteAddress: '192.0.2.7' });
    assert.equal(other.statusCode, 200, 'another address has its own bucket');
    // A tenant key from the same address is not held back by the address's bucket.
    assert.equal((await t.request('GET', '/v1/tenants/tenant-a', undefined, keyA)).statusCode, 200);
    now += 10_000;
  });

  test('the admin key is not limited by default', async () => {
    for (let i = 0; i < 20; i++) {
      const res = await t.request('GET', '/v1/tenants');
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['ratelimit-limit'], undefined);
    }
  });
});

forEachStorage('API rate limit settings', (kind) => {
  test('HERALD_ADMIN_RATE_LIMIT limits the admin key; 0 turns the tenant limit off', async () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    const t = await makeTestApp(kind, {
      config: { apiRateLimit: 0, adminRateLimit: 1 },
      clock: { now: () => new Date(now) },
    });
    try {
      await t.request('POST', '/v1/tenants', { id: 'acme', name: 'Acme' });
      const key = await t.tenantKey('acme');
      // Burst defaults to twice the rate: the create above and one more.
      assert.equal((await t.request('GET', '/v1/tenants')).statusCode, 200);
      const refused = await t.request('GET', '/v1/tenants');
      assert.equal(refused.statusCode, 429);
      assert.equal(refused.json().error.code, 'RATE_LIMITED');
      for (let i = 0; i < 20; i++) {
        const res = await t.request('GET', '/v1/tenants/acme', undefined, key);
        assert.equal(res.statusCode, 200);
        assert.equal(res.headers['ratelimit-limit'], undefined);
      }
    } finally {
      await t.close();
    }
  });
});
