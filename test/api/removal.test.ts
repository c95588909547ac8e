/**
 * Deleting an endpoint or a tenant takes its deliveries and their attempts with it (done by the
 * deleting transaction, src/store/endpoint-removal.ts, not by foreign keys), and nothing else.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { makeTestApp, type TestApp } from '../support/app.ts';
import { insertAttempts } from '../support/attempt-fixtures.ts';
import { forEachStorage } from '../support/storage.ts';

forEachStorage('deleting endpoints and tenants', (kind) => {
  let t: TestApp;
  before(async () => {
    t = await makeTestApp(kind);
  });
  after(() => t.close());

  /** A tenant with two endpoints, each with two delivered-once events. */
  async function setUp(tenant: string): Promise<string[]> {
    await t.request('POST', '/v1/tenants', { id: tenant, name: tenant });
    const ids: string[] = [];
    for (const path of ['a', 'b']) {
      const res = await t.request('POST', `/v1/tenants/${tenant}/endpoints`, {
        url: `https://${tenant}.example/${path}`,
      });
      ids.push(res.json().id);
    }
    const published = await t.request('POST', `/v1/tenants/${tenant}/events`, {
      events: [1, 2].map((n) => ({ type: 'invoice.paid', data: { n } })),
    });
    assert.equal(published.statusCode, 202, published.body);
    const deliveries = await t.ctx.db.query<{ id: string; endpoint_id: string }>(
      'SELECT id, endpoint_id FROM deliveries WHERE tenant_id = $1',
      [tenant],
    );
    assert.equal(deliveries.length, 4);
    for (const d of deliveries) {
      await insertAttempts(t.ctx.db, { tenantId: tenant, endpointId: d.endpoint_id, deliveryId: d.id }, [
        { at: new Date(), durationMs: 5, statusCode: 500 },
      ]);
    }
    return ids;
  }

  async function counts(where: string, param: string): Promise<{ deliveries: number; attempts: number }> {
    const [d] = await t.ctx.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM deliveries WHERE ${where} = $1`,
      [param],
    );
    const [a] = await t.ctx.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM attempts WHERE ${where} = $1`,
      [param],
    );
    return { deliveries: d!.n, attempts: a!.n };
  }

  test('an endpoint goes with its deliveries and attempts; its sibling and other tenants keep theirs', async () => {
    const [gone, kept] = await setUp('rm-endpoint');
    const [other] = await setUp('rm-endpoint-other');
    const res = await t.request('DELETE', `/v1/tenants/rm-endpoint/endpoints/${gone}`);
    assert.equal(res.statusCode, 204);
    assert.deepEqual(await counts('endpoint_id', gone!), { deliveries: 0, attempts: 0 });
    assert.deepEqual(await counts('endpoint_id', kept!), { deliveries: 2, attempts: 2 });
    assert.deepEqual(await counts('endpoint_id', other!), { deliveries: 2, attempts: 2 });
  });

  test('deleting by URL removes the traffic of every endpoint it deletes', async () => {
    const [a, b] = await setUp('rm-by-url');
    const url = encodeURIComponent('https://rm-by-url.example/a');
    assert.equal((await t.request('DELETE', `/v1/tenants/rm-by-url/endpoints?url=${url}`)).statusCode, 204);
    assert.deepEqual(await counts('endpoint_id', a!), { deliveries: 0, attempts: 0 });
    assert.deepEqual(await counts('endpoint_id', b!), { deliveries: 2, attempts: 2 });
  });

  test('a tenant goes with all its traffic; other tenants keep theirs', async () => {
    await setUp('rm-tenant');
    await setUp('rm-tenant-other');
    assert.equal((await t.request('DELETE', '/v1/tenants/rm-tenant')).statusCode, 204);
    assert.deepEqual(await counts('tenant_id', 'rm-tenant'), { deliveries: 0, attempts: 0 });
    assert.deepEqual(await counts('tenant_id', 'rm-tenant-other'), { deliveries: 4, attempts: 4 });
    const again = await t.request('DELETE', '/v1/tenants/rm-tenant');
    assert.equal(again.json().error.code, 'TENANT_NOT_FOUND');
  });
});
