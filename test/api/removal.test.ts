/**
 * Deleting an endpoint or a tenant takes its deliveries and their attempts with it (done by the
 * deleting transaction, src/store/endpoint-removal.ts, not by foreign keys), a tenant its events
 * (src/store/tenants.ts), and nothing else.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Db } from '../../src/db/db.ts';
import { publishEvents } from '../../src/publish/publish-events.ts';
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

  const eventsOf = async (tenant: string) =>
    (
      await t.ctx.db.query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE tenant_id = $1', [
        tenant,
      ])
    )[0]!.n;

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
    // Its events too (no foreign key cascades them: migration 022).
    assert.equal(await eventsOf('rm-tenant'), 0);
    assert.equal(await eventsOf('rm-tenant-other'), 2);
    const again = await t.request('DELETE', '/v1/tenants/rm-tenant');
    assert.equal(again.json().error.code, 'TENANT_NOT_FOUND');
  });
});

// Two connections: PostgreSQL only.
test('a publish that commits while its tenant is being deleted leaves no event behind', async (ctx) => {
  const t = await makeTestApp('postgres').catch(() => undefined);
  if (!t) return ctx.skip('PostgreSQL not reachable');
  try {
    await t.request('POST', '/v1/tenants', { id: 'rm-race', name: 'Race' });
    // A publish's statement, in an open transaction: it holds the tenant row's key-share lock.
    const publishing = await t.ctx.db.transaction(async (tx) => {
      await publishEvents(tx as Db, 'rm-race', [{ type: 'invoice.paid', data: { n: 1 } }]);
      // The deletion starts, and waits for this transaction.
      const deleting = t.request('DELETE', '/v1/tenants/rm-race');
      const waits = await Promise.race([
        deleting.then(() => false),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 200)),
      ]);
      return { deleting, waits };
    });
    assert.equal((await publishing.deleting).statusCode, 204);
    assert.ok(publishing.waits, 'the deletion waited for the publish');
    const left = await t.ctx.db.query("SELECT 1 FROM events WHERE tenant_id = 'rm-race'");
    assert.equal(left.length, 0);
    // And a publish after it finds no tenant.
    const late = await t.request('POST', '/v1/tenants/rm-race/events', { type: 'invoice.paid', data: {} });
    assert.equal(late.json().error.code, 'TENANT_NOT_FOUND');
  } finally {
    await t.close();
  }
});
