/** The typed client against the real API on a loopback port, on both storages. */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { createClient, type HeraldApiError, type HeraldClient, paginate } from 'herald/client';
import { HeraldApiError as ApiError } from '../../src/client/api-error.ts';
import { makeTestApp, type TestApp } from '../support/app.ts';
import { forEachStorage } from '../support/storage.ts';

async function apiError(p: Promise<unknown>): Promise<HeraldApiError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ApiError, `expected a HeraldApiError, got ${err}`);
    return err;
  }
  assert.fail('expected the call to fail');
}

forEachStorage('client', (kind) => {
  let t: TestApp;
  let herald: HeraldClient;
  let baseUrl: string;

  before(async () => {
    t = await makeTestApp(kind);
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    baseUrl = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    herald = createClient({ baseUrl: `${baseUrl}/`, apiKey: t.adminKey });
  });
  after(() => t?.close());

  test('health: live and ready', async () => {
    assert.deepEqual(await herald.health.live(), { status: 'ok' });
    assert.deepEqual(await herald.health.ready(), { status: 'ready' });
  });

  test('tenants: create, get, update, list, delete; errors carry status, code, message, details', async () => {
    const created = await herald.tenants.create({ id: 'acme', name: 'Acme', metadata: { plan: 'pro' } });
    assert.equal(created.id, 'acme');
    assert.equal((await herald.tenants.get('acme')).name, 'Acme');
    assert.equal((await herald.tenants.update('acme', { name: 'Acme Inc' })).name, 'Acme Inc');
    assert.ok((await herald.tenants.list()).data.some((x) => x.id === 'acme'));

    const dup = await apiError(herald.tenants.create({ id: 'acme', name: 'again' }));
    assert.equal(dup.status, 409);
    assert.equal(dup.code, 'TENANT_EXISTS');
    const bad = await apiError(herald.tenants.create({ id: 'no spaces', name: 'x' }));
    assert.equal(bad.status, 400);
    assert.equal(bad.code, 'VALIDATION_FAILED');
    assert.ok(bad.details.length > 0 && bad.details.every((d) => typeof d.message === 'string'));

    await herald.tenants.create({ id: 'gone', name: 'Gone' });
    await herald.tenants.delete('gone');
    const missing = await apiError(herald.tenants.get('gone'));
    assert.equal(missing.status, 404);
    assert.equal(missing.code, 'TENANT_NOT_FOUND');
  });

  test('a wrong key is 401 UNAUTHORIZED; an unreachable server is NETWORK_ERROR', async () => {
    const anon = createClient({ baseUrl, apiKey: 'hk_wrong' });
    const err = await apiError(anon.tenants.list());
    assert.equal(err.status, 401);
    assert.equal(err.code, 'UNAUTHORIZED');
    const nowhere = createClient({ baseUrl: 'http://127.0.0.1:1', apiKey: t.adminKey });
    const net = await apiError(nowhere.health.live());
    assert.equal(net.status, 0);
    assert.equal(net.code, 'NETWORK_ERROR');
  });

  test('api keys: a tenant key made through the client reaches only its own tenant', async () => {
    await herald.tenants.create({ id: 'keyed', name: 'Keyed' });
    const key = await herald.apiKeys.create('keyed', { name: 'ci' });
    assert.ok(key.key.length > 10);
    const asTenant = createClient({ baseUrl, apiKey: key.key });
    assert.equal((await asTenant.tenants.get('keyed')).id, 'keyed');
    assert.equal((await apiError(asTenant.tenants.get('acme'))).status, 404);
    const keys = await herald.apiKeys.list('keyed');
    assert.deepEqual(
      keys.data.map((k) => k.id),
      [key.id],
    );
    await herald.apiKeys.revoke('keyed', key.id);
    assert.equal((await apiError(asTenant.tenants.get('keyed'))).status, 401);
  });

  test('event types: create, get, update, list, delete', async () => {
    await herald.eventTypes.create({
      name: 'invoice.created',
      description: 'an invoice',
      schema: { type: 'object', required: ['n'] },
      example: { n: 1 },
    });
    assert.deepEqual((await herald.eventTypes.get('invoice.created')).example, { n: 1 });
    assert.equal((await herald.eventTypes.update('invoice.created', { description: 'x' })).description, 'x');
    assert.ok((await herald.eventTypes.list()).data.some((e) => e.name === 'invoice.created'));
    await herald.eventTypes.create({ name: 'tmp.type' });
    await herald.eventTypes.delete('tmp.type');
    assert.equal((await apiError(herald.eventTypes.get('tmp.type'))).code, 'EVENT_TYPE_NOT_FOUND');
  });

  test('endpoints: create, get, update, secret, rotate, test, recover, list by URL, delete by URL', async () => {
    await herald.tenants.create({ id: 'shop', name: 'Shop' });
    const created = await herald.endpoints.create('shop', {
      url: 'http://127.0.0.1:9/hook',
      eventTypes: ['invoice.*'],
      active: false,
    });
    assert.match(created.secret, /^whsec_/);
    assert.equal((await herald.endpoints.get('shop', created.id)).url, 'http://127.0.0.1:9/hook');
    assert.equal((await herald.endpoints.update('shop', created.id, { name: 'main' })).name, 'main');
    assert.deepEqual(await herald.endpoints.secret('shop', created.id), { secret: created.secret });
    const rotated = await herald.endpoints.rotateSecret('shop', created.id);
    assert.notEqual(rotated.secret, created.secret);
    assert.equal((await herald.endpoints.secret('shop', created.id)).secret, rotated.secret);
    const chosen = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    const given = await herald.endpoints.rotateSecret('shop', created.id, { secret: chosen });
    assert.equal(given.secret, chosen);

    const sent = await herald.endpoints.test('shop', created.id, { eventType: 'invoice.created' });
    assert.equal(sent.event.origin, 'herald.test');
    assert.deepEqual(sent.event.data, { n: 1 });
    assert.deepEqual(await herald.endpoints.recover('shop', created.id, { since: new Date(0) }), {
      recovered: 0,
    });

    const byUrl = await herald.endpoints.list('shop', { url: 'http://127.0.0.1:9/hook' });
    assert.deepEqual(
      byUrl.data.map((e) => e.id),
      [created.id],
    );
    assert.equal((byUrl.data[0] as Record<string, unknown>)['secret'], undefined);
    await herald.endpoints.deleteByUrl('shop', 'http://127.0.0.1:9/hook');
    assert.equal((await apiError(herald.endpoints.get('shop', created.id))).code, 'ENDPOINT_NOT_FOUND');

    const other = await herald.endpoints.create('shop', { url: 'http://127.0.0.1:9/other', active: false });
    await herald.endpoints.delete('shop', other.id);
    assert.equal((await herald.endpoints.list('shop')).data.length, 0);
  });

  test('events and deliveries: publish (one, batch, idempotent), list, get, retry', async () => {
    await herald.tenants.create({ id: 'pub', name: 'Pub' });
    // No dispatcher runs in this app, so deliveries stay pending and nothing is sent.
    const endpoint = await herald.endpoints.create('pub', { url: 'http://127.0.0.1:9/pub' });
    const one = await herald.events.publish('pub', { type: 'order.paid', data: { n: 1 }, id: 'evt-1' });
    assert.equal(one.id, 'evt-1');
    const again = await herald.events.publish('pub', { type: 'order.paid', data: { n: 1 }, id: 'evt-1' });
    assert.equal(again.createdAt, one.createdAt);
    const conflict = await apiError(
      herald.events.publish('pub', { type: 'order.paid', data: { n: 2 }, id: 'evt-1' }),
    );
    assert.equal(conflict.code, 'IDEMPOTENCY_CONFLICT');

    const batch = await herald.events.publishBatch(
      'pub',
      [
        { type: 'order.shipped', data: { n: 2 } },
        { type: 'order.shipped', data: { n: 3 } },
      ],
      { idempotencyKey: 'batch-1' },
    );
    assert.equal(batch.length, 2);
    const replay = await herald.events.publishBatch(
      'pub',
      [
        { type: 'order.shipped', data: { n: 2 } },
        { type: 'order.shipped', data: { n: 3 } },
      ],
      { idempotencyKey: 'batch-1' },
    );
    assert.deepEqual(
      replay.map((e) => e.id),
      batch.map((e) => e.id),
    );

    assert.deepEqual(
      (await herald.events.list('pub', { type: 'order.shipped' })).data.map((e) => e.id).sort(),
      batch.map((e) => e.id).sort(),
    );
    const detail = await herald.events.get('pub', 'evt-1');
    assert.equal(detail.deliveries.length, 1);
    assert.equal(detail.deliveries[0]!.endpointId, endpoint.id);

    const list = await herald.deliveries.list('pub', { endpointId: endpoint.id, status: 'pending' });
    assert.equal(list.data.length, 3);
    const d = await herald.deliveries.get('pub', detail.deliveries[0]!.deliveryId);
    assert.deepEqual(d.attempts, []);
    assert.equal((await herald.deliveries.retry('pub', d.id)).id, d.id);
    assert.equal((await apiError(herald.deliveries.get('pub', 'dlv_missing'))).code, 'DELIVERY_NOT_FOUND');
  });

  test('pagination: iterate and paginate follow nextCursor over every page', async () => {
    await herald.tenants.create({ id: 'paged', name: 'Paged' });
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      ids.push((await herald.events.publish('paged', { type: 'page.test', data: { i } })).id);
    }
    const first = await herald.events.list('paged', { limit: 3 });
    assert.equal(first.data.length, 3);
    assert.ok(first.nextCursor);
    const seen: string[] = [];
    for await (const e of herald.events.iterate('paged', { limit: 3 })) seen.push(e.id);
    assert.deepEqual(seen, [...ids].reverse());
    const viaHelper: string[] = [];
    for await (const e of paginate((p) => herald.events.list('paged', { ...p, limit: 2 })))
      viaHelper.push(e.id);
    assert.deepEqual(viaHelper, seen);
    const badCursor = await apiError(herald.events.list('paged', { cursor: '!!' }));
    assert.equal(badCursor.code, 'INVALID_CURSOR');
  });
});
