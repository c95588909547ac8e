/**
 * The store's tenants and API keys, called directly on both storages (src/store/tenants.ts,
 * src/store/api-keys.ts, src/store/portal-sessions.ts): what each function answers and refuses,
 * without the HTTP layer in between.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { HeraldError } from '../../src/core/errors.ts';
import { hashKey } from '../../src/security/api-keys.ts';
import {
  createApiKey,
  findActiveKey,
  listApiKeys,
  revokeApiKey,
  touchKey,
} from '../../src/store/api-keys.ts';
import { endPortalSessions, portalBinding } from '../../src/store/portal-sessions.ts';
import {
  createTenant,
  deleteTenant,
  getTenant,
  listTenants,
  tenantExists,
  updateTenant,
} from '../../src/store/tenants.ts';
import { insertEndpoint, publishOne } from '../support/delivery-fixtures.ts';
import { forEachStorage, freshDb, type TestDb } from '../support/storage.ts';

const refused = (code: string) => (e: unknown) => e instanceof HeraldError && e.code === code;

forEachStorage('store: tenants and API keys', (kind) => {
  let t: TestDb;
  before(async () => {
    t = await freshDb(kind);
  });
  after(() => t.close());

  test('tenants: create, a repeat refused, get, list by id descending, patch, exists', async () => {
    const a = await createTenant(t.db, { id: 'st-a', name: 'A', metadata: { tier: 'gold' } });
    assert.equal(a.name, 'A');
    assert.deepEqual(a.metadata, { tier: 'gold' });
    await assert.rejects(
      createTenant(t.db, { id: 'st-a', name: 'again', metadata: {} }),
      refused('TENANT_EXISTS'),
    );
    await createTenant(t.db, { id: 'st-b', name: 'B', metadata: {} });
    assert.equal((await getTenant(t.db, 'st-b')).name, 'B');
    await assert.rejects(getTenant(t.db, 'st-none'), refused('TENANT_NOT_FOUND'));
    const page = await listTenants(t.db, { limit: 10 });
    assert.deepEqual(
      page.filter((x) => x.id.startsWith('st-')).map((x) => x.id),
      ['st-b', 'st-a'],
    );
    assert.deepEqual(
      (await listTenants(t.db, { before: 'st-b', limit: 10 }))
        .map((x) => x.id)
        .filter((id) => id.startsWith('st-')),
      ['st-a'],
    );
    const patched = await updateTenant(t.db, 'st-a', { name: 'A2' });
    assert.equal(patched.name, 'A2');
    assert.deepEqual(patched.metadata, { tier: 'gold' }, 'a patch without metadata keeps it');
    await assert.rejects(updateTenant(t.db, 'st-none', { name: 'x' }), refused('TENANT_NOT_FOUND'));
    assert.equal(await tenantExists(t.db, 'st-a'), true);
    assert.equal(await tenantExists(t.db, 'st-none'), false);
  });

  test('API keys: created up to the cap, found by digest while unrevoked, listed newest first, revoked once', async () => {
    await createTenant(t.db, { id: 'st-k', name: 'K', metadata: {} });
    const first = await createApiKey(t.db, { tenantId: 'st-k', name: 'ci', maxKeys: 2 });
    const second = await createApiKey(t.db, { tenantId: 'st-k', name: null, maxKeys: 2 });
    await assert.rejects(
      createApiKey(t.db, { tenantId: 'st-k', name: null, maxKeys: 2 }),
      refused('LIMIT_EXCEEDED'),
    );
    await assert.rejects(
      createApiKey(t.db, { tenantId: 'st-none', name: null, maxKeys: 2 }),
      refused('TENANT_NOT_FOUND'),
    );

    const found = await findActiveKey(t.db, hashKey(first.key));
    assert.deepEqual(found && { id: found.id, tenantId: found.tenantId }, { id: first.id, tenantId: 'st-k' });
    assert.equal(await findActiveKey(t.db, hashKey('hk_not_a_key')), undefined);

    await touchKey(t.db, first.id, new Date('2030-01-01T00:00:00Z'));
    const listed = await listApiKeys(t.db, 'st-k', { limit: 10 });
    assert.deepEqual(
      listed.map((k) => k.id),
      [second.id, first.id],
    );
    assert.equal(listed[1]!.lastUsedAt, '2030-01-01T00:00:00.000Z');
    assert.ok(!('key' in listed[0]!), 'the key itself is never read back');

    const revoked = await revokeApiKey(t.db, 'st-k', first.id);
    assert.ok(revoked.revokedAt);
    assert.equal(
      (await revokeApiKey(t.db, 'st-k', first.id)).revokedAt,
      revoked.revokedAt,
      'the first time kept',
    );
    assert.equal(
      await findActiveKey(t.db, hashKey(first.key)),
      undefined,
      'a revoked key no longer authenticates',
    );
    await createApiKey(t.db, { tenantId: 'st-k', name: null, maxKeys: 2 }); // room again
    await assert.rejects(revokeApiKey(t.db, 'st-k', 'key_none'), refused('API_KEY_NOT_FOUND'));
    await assert.rejects(revokeApiKey(t.db, 'st-none', first.id), refused('TENANT_NOT_FOUND'));
    await assert.rejects(listApiKeys(t.db, 'st-none', { limit: 10 }), refused('TENANT_NOT_FOUND'));
  });

  test('portal binding: the incarnation survives a patch, the generation moves when sessions end', async () => {
    await createTenant(t.db, { id: 'st-p', name: 'P', metadata: {} });
    const before = await portalBinding(t.db, 'st-p');
    assert.ok(before && /^\d+$/.test(before.incarnation));
    await updateTenant(t.db, 'st-p', { name: 'P2' });
    assert.deepEqual(await portalBinding(t.db, 'st-p'), before);
    assert.equal(await endPortalSessions(t.db, 'st-p'), true);
    assert.deepEqual(await portalBinding(t.db, 'st-p'), { ...before, generation: before.generation + 1 });
    assert.equal(await endPortalSessions(t.db, 'st-none'), false);
    assert.equal(await portalBinding(t.db, 'st-none'), undefined);
  });

  test('deleting a tenant removes what it owns: endpoints, their deliveries, its keys and events', async () => {
    await createTenant(t.db, { id: 'st-d', name: 'D', metadata: {} });
    const ep = await insertEndpoint(t.db, 'st-d', { url: 'https://d.example/hook' });
    await publishOne(t.db, 'st-d', ep.id);
    await createApiKey(t.db, { tenantId: 'st-d', name: null, maxKeys: 5 });
    await deleteTenant(t.db, 'st-d');
    const [left] = await t.db.query<Record<string, number>>(
      `SELECT (SELECT count(*)::int FROM endpoints WHERE tenant_id = 'st-d') AS endpoints,
              (SELECT count(*)::int FROM deliveries WHERE tenant_id = 'st-d') AS deliveries,
              (SELECT count(*)::int FROM events WHERE tenant_id = 'st-d') AS events,
              (SELECT count(*)::int FROM api_keys WHERE tenant_id = 'st-d') AS keys`,
    );
    assert.deepEqual(left, { endpoints: 0, deliveries: 0, events: 0, keys: 0 });
    await assert.rejects(deleteTenant(t.db, 'st-d'), refused('TENANT_NOT_FOUND'));
  });
});
