/**
 * Tenant keys found active are kept for KEY_RECHECK_MS (src/api/active-keys.ts): a key used again
 * within it is not read again; one revoked or whose tenant is deleted through this process's API
 * stops at once; one revoked elsewhere (another process sharing the database) stops within it.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createActiveKeys, KEY_RECHECK_MS, MAX_KEPT } from '../../src/api/active-keys.ts';
import type { Db, Sql } from '../../src/db/db.ts';
import { makeTestApp, type TestApp } from '../support/app.ts';
import { forEachStorage } from '../support/storage.ts';

const key = (id: string, tenantId = 'acme') => ({ id, tenantId, keyHash: `digest-of-${id}` });

test('kept for KEY_RECHECK_MS from when it was found, and no longer', () => {
  const keys = createActiveKeys();
  keys.found(key('k1'), 1_000, keys.mark());
  assert.equal(keys.get('digest-of-k1', 1_000)?.id, 'k1');
  assert.equal(keys.get('digest-of-k1', 1_000 + KEY_RECHECK_MS - 1)?.id, 'k1');
  assert.equal(keys.get('digest-of-k1', 1_000 + KEY_RECHECK_MS), undefined);
  assert.equal(keys.get('digest-of-k1', 1_000), undefined, 'gone once expired');
  keys.found(key('k1'), 5_000, keys.mark());
  assert.equal(keys.get('digest-of-k1', 4_999), undefined, 'a clock set back reads again');
});

test('forgotten by key and by tenant; a read begun before a forget is not kept', () => {
  const keys = createActiveKeys();
  keys.found(key('k1'), 0, keys.mark());
  keys.found(key('k2'), 0, keys.mark());
  keys.found(key('k3', 'globex'), 0, keys.mark());
  keys.forgetKey('k1');
  assert.equal(keys.get('digest-of-k1', 1), undefined);
  assert.equal(keys.get('digest-of-k2', 1)?.id, 'k2');
  keys.forgetTenant('acme');
  assert.equal(keys.get('digest-of-k2', 1), undefined);
  assert.equal(keys.get('digest-of-k3', 1)?.id, 'k3');

  const mark = keys.mark();
  keys.forgetKey('k4'); // revoked while the read of k4 was out
  keys.found(key('k4'), 2, mark);
  assert.equal(keys.get('digest-of-k4', 2), undefined);
});

test('at most MAX_KEPT keys: a full cache starts again', () => {
  const keys = createActiveKeys();
  for (let i = 0; i < MAX_KEPT; i++) keys.found(key(`k${i}`), 0, keys.mark());
  assert.equal(keys.get('digest-of-k0', 1)?.id, 'k0');
  keys.found(key('one-more'), 0, keys.mark());
  assert.equal(keys.get('digest-of-k0', 1), undefined);
  assert.equal(keys.get('digest-of-one-more', 1)?.id, 'one-more');
});

forEachStorage('tenant keys kept by authentication', (kind) => {
  let t: TestApp;
  let nowMs = Date.parse('2026-12-07T12:00:00Z');
  let lookups = 0;
  before(async () => {
    t = await makeTestApp(kind, { clock: { now: () => new Date(nowMs) } });
    // Count the reads of keys by digest (what authentication does for a tenant key).
    const inner: Db = t.ctx.db;
    t.ctx.db = {
      ...inner,
      query: <T>(sql: Sql, params?: readonly unknown[]) => {
        const text = typeof sql === 'string' ? sql : sql.text;
        if (text.includes('FROM api_keys WHERE key_hash')) lookups++;
        return inner.query<T>(sql, params);
      },
    };
    for (const id of ['acme', 'globex']) {
      assert.equal((await t.request('POST', '/v1/tenants', { id, name: id })).statusCode, 201);
    }
  });
  after(() => t.close());

  const get = async (k: string, tenant = 'acme') =>
    (await t.request('GET', `/v1/tenants/${tenant}`, undefined, k)).statusCode;
  const newKey = async (tenant: string) => {
    const res = await t.request('POST', `/v1/tenants/${tenant}/api-keys`, {});
    assert.equal(res.statusCode, 201, res.body);
    return res.json() as { id: string; key: string };
  };

  test('a key used again within KEY_RECHECK_MS is not read again; after it, it is', async () => {
    const k = await newKey('acme');
    lookups = 0;
    assert.equal(await get(k.key), 200);
    assert.equal(await get(k.key), 200);
    assert.equal(lookups, 1);
    nowMs += KEY_RECHECK_MS;
    assert.equal(await get(k.key), 200);
    assert.equal(lookups, 2);
  });

  test('revoked through the API: refused at once', async () => {
    const k = await newKey('acme');
    assert.equal(await get(k.key), 200);
    const revoked = await t.request('DELETE', `/v1/tenants/acme/api-keys/${k.id}`);
    assert.equal(revoked.statusCode, 204);
    assert.equal(await get(k.key), 401);
  });

  test('revoked by another process: refused once KEY_RECHECK_MS has passed', async () => {
    const k = await newKey('acme');
    assert.equal(await get(k.key), 200);
    await t.testDb.db.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1', [k.id]);
    assert.equal(await get(k.key), 200, 'still kept here');
    nowMs += KEY_RECHECK_MS;
    assert.equal(await get(k.key), 401);
  });

  test('its tenant deleted through the API: refused at once', async () => {
    const k = await newKey('globex');
    assert.equal(await get(k.key, 'globex'), 200);
    assert.equal((await t.request('DELETE', '/v1/tenants/globex')).statusCode, 204);
    assert.equal(await get(k.key, 'globex'), 401);
  });

  test('an unknown key is read every time (it may have been created elsewhere a moment ago)', async () => {
    lookups = 0;
    assert.equal(await get('hk_live_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'), 401);
    assert.equal(await get('hk_live_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'), 401);
    assert.equal(lookups, 2);
  });
});
