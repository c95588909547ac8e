import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { hashKey } from '../../src/security/api-keys.ts';
import { makeTestApp, type TestApp } from '../support/app.ts';
import { forEachStorage } from '../support/storage.ts';

forEachStorage('tenant API keys', (kind) => {
  let t: TestApp;
  before(async () => {
    t = await makeTestApp(kind);
    for (const id of ['acme', 'globex']) {
      const res = await t.request('POST', '/v1/tenants', { id, name: id });
      assert.equal(res.statusCode, 201, res.body);
    }
  });
  after(() => t.close());

  const viaXApiKey = (url: string, key: string) =>
    t.app.inject({ method: 'GET', url, headers: { 'x-api-key': key } });

  test('create, use, list, revoke', async () => {
    const created = await t.request('POST', '/v1/tenants/acme/api-keys', { name: 'ci' });
    assert.equal(created.statusCode, 201, created.body);
    const k = created.json();
    assert.deepEqual(Object.keys(k).sort(), ['createdAt', 'id', 'key', 'name', 'prefix', 'tenantId']);
    assert.match(k.id, /^key_[0-9A-Z]{26}$/);
    assert.equal(k.tenantId, 'acme');
    assert.equal(k.name, 'ci');
    assert.match(k.key, /^hk_live_[A-Za-z0-9_-]{32}$/);
    assert.equal(k.prefix, k.key.slice(0, 12));

    // The key reaches its own tenant, as a bearer token and as x-api-key.
    const own = await t.request('GET', '/v1/tenants/acme', undefined, k.key);
    assert.equal(own.statusCode, 200, own.body);
    assert.equal(own.json().id, 'acme');
    const ownX = await viaXApiKey('/v1/tenants/acme', k.key);
    assert.equal(ownX.statusCode, 200, ownX.body);

    // Another tenant does not exist for it; admin-only routes are forbidden.
    const other = await t.request('GET', '/v1/tenants/globex', undefined, k.key);
    assert.equal(other.statusCode, 404);
    assert.equal(other.json().error.code, 'TENANT_NOT_FOUND');
    const otherX = await viaXApiKey('/v1/tenants/globex/api-keys', k.key);
    assert.equal(otherX.statusCode, 404);
    assert.equal(otherX.json().error.code, 'TENANT_NOT_FOUND');
    const all = await t.request('GET', '/v1/tenants', undefined, k.key);
    assert.equal(all.statusCode, 403);
    assert.equal(all.json().error.code, 'FORBIDDEN');
    const patch = await t.request('PATCH', '/v1/tenants/acme', { name: 'mine now' }, k.key);
    assert.equal(patch.statusCode, 403);

    // The list shows prefix and lastUsedAt, never the key or its hash.
    const list = await t.request('GET', '/v1/tenants/acme/api-keys', undefined, k.key);
    assert.equal(list.statusCode, 200, list.body);
    assert.equal(list.json().data.length, 1);
    const listed = list.json().data[0];
    assert.deepEqual(Object.keys(listed).sort(), [
      'createdAt',
      'id',
      'lastUsedAt',
      'name',
      'prefix',
      'revokedAt',
      'tenantId',
    ]);
    assert.equal(listed.prefix, k.prefix);
    assert.ok(listed.lastUsedAt, 'lastUsedAt is set after use');
    assert.equal(listed.revokedAt, null);
    assert.ok(!list.body.includes(k.key));
    assert.ok(!list.body.includes(hashKey(k.key)));

    // The stored row has the hash, not the key.
    const [row] = await t.ctx.db.query<Record<string, unknown>>('SELECT * FROM api_keys WHERE id = $1', [
      k.id,
    ]);
    assert.equal(row!['key_hash'], hashKey(k.key));
    assert.ok(!JSON.stringify(row).includes(k.key));

    // A key may create a sibling key for its own tenant, not for another.
    const sibling = await t.request('POST', '/v1/tenants/acme/api-keys', {}, k.key);
    assert.equal(sibling.statusCode, 201, sibling.body);
    assert.equal(sibling.json().name, null);
    const foreign = await t.request('POST', '/v1/tenants/globex/api-keys', {}, k.key);
    assert.equal(foreign.statusCode, 404);
    assert.equal(foreign.json().error.code, 'TENANT_NOT_FOUND');

    // Revoke: 204, then the key answers 401; the list shows when.
    const revoked = await t.request(
      'DELETE',
      `/v1/tenants/acme/api-keys/${k.id}`,
      undefined,
      sibling.json().key,
    );
    assert.equal(revoked.statusCode, 204, revoked.body);
    for (const res of [
      await t.request('GET', '/v1/tenants/acme', undefined, k.key),
      await viaXApiKey('/v1/tenants/acme', k.key),
    ]) {
      assert.equal(res.statusCode, 401);
      assert.equal(res.json().error.code, 'UNAUTHORIZED');
    }
    const after = (await t.request('GET', '/v1/tenants/acme/api-keys')).json().data;
    assert.equal(after.length, 2);
    assert.ok(after.find((x: { id: string }) => x.id === k.id).revokedAt);
    assert.equal(after.find((x: { id: string }) => x.id === sibling.json().id).revokedAt, null);

    // Revoking again is harmless; the sibling still works.
    assert.equal((await t.request('DELETE', `/v1/tenants/acme/api-keys/${k.id}`)).statusCode, 204);
    assert.equal((await t.request('GET', '/v1/tenants/acme', undefined, sibling.json().key)).statusCode, 200);
  });

  test('a body is optional on create', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/tenants/globex/api-keys',
      headers: { authorization: `Bearer ${t.adminKey}` },
    });
    assert.equal(res.statusCode, 201, res.body);
    assert.equal(res.json().name, null);
  });

  test('not found: tenant, key, or a key of another tenant', async () => {
    const noTenant = await t.request('POST', '/v1/tenants/nobody/api-keys', { name: 'x' });
    assert.equal(noTenant.statusCode, 404);
    assert.equal(noTenant.json().error.code, 'TENANT_NOT_FOUND');
    const noTenantList = await t.request('GET', '/v1/tenants/nobody/api-keys');
    assert.equal(noTenantList.statusCode, 404);
    assert.equal(noTenantList.json().error.code, 'TENANT_NOT_FOUND');

    const noKey = await t.request('DELETE', '/v1/tenants/acme/api-keys/key_missing');
    assert.equal(noKey.statusCode, 404);
    assert.equal(noKey.json().error.code, 'API_KEY_NOT_FOUND');

    // A key id of globex named under acme is not acme's key: untouched.
    const globexKey = (await t.request('POST', '/v1/tenants/globex/api-keys', {})).json();
    const crossed = await t.request('DELETE', `/v1/tenants/acme/api-keys/${globexKey.id}`);
    assert.equal(crossed.statusCode, 404);
    assert.equal(crossed.json().error.code, 'API_KEY_NOT_FOUND');
    assert.equal((await t.request('GET', '/v1/tenants/globex', undefined, globexKey.key)).statusCode, 200);
  });

  test('bad input is refused and writes nothing', async () => {
    const count = async () =>
      (await t.ctx.db.query<{ n: number }>('SELECT count(*)::int AS n FROM api_keys'))[0]!.n;
    const before = await count();
    const cases: Array<[unknown, string]> = [
      [{ name: 5 }, 'VALIDATION_FAILED'],
      [{ name: '' }, 'VALIDATION_FAILED'],
      [{ name: 'x'.repeat(257) }, 'VALIDATION_FAILED'],
      [{ key: 'hk_live_chosen' }, 'VALIDATION_FAILED'],
      [[], 'VALIDATION_FAILED'],
      ['null', 'VALIDATION_FAILED'],
      ['{"name":', 'INVALID_JSON'],
      [{ name: 'nul\u0000' }, 'VALIDATION_FAILED'],
    ];
    for (const [body, code] of cases) {
      const res = await t.request('POST', '/v1/tenants/acme/api-keys', body);
      assert.equal(res.statusCode, 400, `${JSON.stringify(body)} → ${res.body}`);
      assert.equal(res.json().error.code, code, JSON.stringify(body));
    }
    assert.equal(await count(), before);
  });

  test('pagination', async () => {
    for (let i = 0; i < 3; i++) await t.request('POST', '/v1/tenants/globex/api-keys', { name: `k${i}` });
    const seen = new Set<string>();
    let cursor: string | null = null;
    do {
      const res = await t.request(
        'GET',
        `/v1/tenants/globex/api-keys?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      assert.equal(res.statusCode, 200, res.body);
      for (const k of res.json().data) seen.add(k.id);
      cursor = res.json().nextCursor;
    } while (cursor);
    const total = await t.ctx.db.query("SELECT id FROM api_keys WHERE tenant_id = 'globex'");
    assert.equal(seen.size, total.length);
    const bad = await t.request('GET', '/v1/tenants/globex/api-keys?cursor=%%%');
    assert.equal(bad.statusCode, 400);
  });

  test('deleting the tenant removes its keys', async () => {
    await t.request('POST', '/v1/tenants', { id: 'initech', name: 'Initech' });
    const k = (await t.request('POST', '/v1/tenants/initech/api-keys', {})).json();
    assert.equal((await t.request('DELETE', '/v1/tenants/initech')).statusCode, 204);
    assert.equal((await t.request('GET', '/v1/tenants/initech', undefined, k.key)).statusCode, 401);
  });
});
