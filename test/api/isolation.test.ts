/**
 * Tenant isolation matrix: every route, called with another tenant's key on tenant A's resources,
 * answers 404 (tenant-scoped routes) or 403 (admin-only routes), and A's rows are unchanged.
 * Routes come from the OpenAPI document, so new routes join the matrix automatically.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { makeTestApp, type TestApp } from '../support/app.ts';
import { forEachStorage } from '../support/storage.ts';

const TENANT_TABLES = ['endpoints', 'events', 'deliveries', 'api_keys', 'idempotency_keys'];

async function snapshot(t: TestApp, tenantId: string): Promise<string> {
  const parts: unknown[] = await t.ctx.db.query('SELECT * FROM tenants WHERE id = $1', [tenantId]);
  for (const table of TENANT_TABLES) {
    const rows = await t.ctx.db.query<Record<string, unknown>>(
      `SELECT * FROM ${table} WHERE tenant_id = $1 ORDER BY 1, 2`,
      [tenantId],
    );
    // last_used_at is bookkeeping of the *other* key's use, not tenant A's state.
    parts.push(rows.map(({ last_used_at: _ignored, ...rest }) => rest));
  }
  return JSON.stringify(parts);
}

forEachStorage('tenant isolation', (kind) => {
  let t: TestApp;
  let keyB: string;
  let portalB: string;
  const ids: Record<string, string> = {
    tenantId: 'tenant-a',
    keyId: 'key_tenant-a',
    name: 'invoice.created',
  };

  before(async () => {
    t = await makeTestApp(kind);
    for (const id of ['tenant-a', 'tenant-b']) await t.request('POST', '/v1/tenants', { id, name: id });
    await t.tenantKey('tenant-a');
    keyB = await t.tenantKey('tenant-b');
    portalB = (await t.request('POST', '/v1/tenants/tenant-b/portal-sessions', {})).json().token;
    await t.request('POST', '/v1/event-types', { name: 'invoice.created', example: { n: 1 } });
    const ep = await t.request('POST', '/v1/tenants/tenant-a/endpoints', { url: 'http://127.0.0.1:9/hook' });
    if (ep.statusCode === 201) ids['endpointId'] = ep.json().id;
    const ev = await t.request('POST', '/v1/tenants/tenant-a/events', {
      type: 'invoice.created',
      data: { n: 1 },
    });
    if (ev.statusCode === 202) {
      ids['eventId'] = ev.json().id;
      const dl = await t.request('GET', '/v1/tenants/tenant-a/deliveries');
      const first = dl.json().data?.[0];
      if (first) ids['deliveryId'] = first.id;
    }
  });
  after(() => t.close());

  // B's tenant key, and B's portal session token (which must act exactly like it).
  for (const [credential, keyOfB] of [
    ['key', () => keyB],
    ['portal session', () => portalB],
  ] as const)
    test(`another tenant's ${credential} reaches none of tenant A's routes`, async () => {
      const doc = t.app.swagger() as { paths: Record<string, Record<string, unknown>> };
      const before = await snapshot(t, 'tenant-a');
      let checked = 0;
      for (const [path, ops] of Object.entries(doc.paths)) {
        if (!path.startsWith('/v1/')) continue;
        for (const method of Object.keys(ops).map((m) => m.toUpperCase())) {
          const url = path.replace(/\{([^}]+)\}/g, (_m, name: string) =>
            encodeURIComponent(ids[name] ?? 'x'),
          );
          const body = method === 'GET' || method === 'DELETE' ? undefined : {};
          const res = await t.request(method, url, body, keyOfB());
          const scoped = path.startsWith('/v1/tenants/{tenantId}');
          // Global reads every key may make: the event-type catalog and the profiles.
          const catalogRead =
            (path.startsWith('/v1/event-types') || path === '/v1/profiles') && method === 'GET';
          if (scoped) {
            // 404 as if A did not exist; admin-only routes under a tenant (PATCH/DELETE tenant) say 403
            // whichever tenant is named, so neither answer tells B anything about A.
            assert.ok(
              [403, 404].includes(res.statusCode),
              `${method} ${url} → ${res.statusCode} ${res.body}`,
            );
          } else if (!catalogRead) {
            assert.equal(res.statusCode, 403, `${method} ${url} → ${res.statusCode} ${res.body}`);
          }
          checked++;
        }
      }
      assert.ok(checked >= 5);
      assert.equal(await snapshot(t, 'tenant-a'), before, "tenant A's rows changed");
    });

  test('a tenant key works on its own tenant', async () => {
    const res = await t.request('GET', '/v1/tenants/tenant-b', undefined, keyB);
    assert.equal(res.statusCode, 200);
    const viaPortal = await t.request('GET', '/v1/tenants/tenant-b', undefined, portalB);
    assert.equal(viaPortal.statusCode, 200);
  });
});
