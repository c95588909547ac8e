/** The typed client's operational webhooks methods against the real API on a loopback port. */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { createClient, type HeraldClient } from 'herald/client';
import { makeTestApp, type TestApp } from '../support/app.ts';
import { forEachStorage } from '../support/storage.ts';

forEachStorage('client: operational endpoints', (kind) => {
  let t: TestApp;
  let herald: HeraldClient;

  before(async () => {
    t = await makeTestApp(kind);
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const port = (t.app.server.address() as AddressInfo).port;
    herald = createClient({ baseUrl: `http://127.0.0.1:${port}`, apiKey: t.adminKey });
  });
  after(() => t?.close());

  test('event types, create, list, iterate, get, update, rotate, delete', async () => {
    const types = (await herald.operationalEndpoints.eventTypes()).data.map((x) => x.name);
    assert.ok(types.includes('delivery.exhausted') && types.length === 5, String(types));

    const created = await herald.operationalEndpoints.create({
      url: 'http://127.0.0.1:9/ops',
      eventTypes: ['endpoint.*'],
    });
    assert.equal(created.tenantId, '_herald');
    assert.match(created.secret, /^whsec_/);
    assert.deepEqual(
      (await herald.operationalEndpoints.list()).data.map((e) => e.id),
      [created.id],
    );
    const all = [];
    for await (const e of herald.operationalEndpoints.iterate({ limit: 1 })) all.push(e.id);
    assert.deepEqual(all, [created.id]);
    assert.equal((await herald.operationalEndpoints.get(created.id)).url, 'http://127.0.0.1:9/ops');
    assert.equal((await herald.operationalEndpoints.update(created.id, { active: false })).active, false);
    const { secret } = await herald.operationalEndpoints.rotateSecret(created.id);
    assert.notEqual(secret, created.secret);
    // Its deliveries are the operational tenant's, read as any tenant's.
    assert.deepEqual((await herald.deliveries.list('_herald')).data, []);
    await herald.operationalEndpoints.delete(created.id);
    await assert.rejects(herald.operationalEndpoints.get(created.id), { code: 'ENDPOINT_NOT_FOUND' });
  });
});
