/**
 * `/v1/operational-endpoints` and the operational tenant `_herald` (src/api/routes/operational-endpoints.ts,
 * src/api/operational-tenant-guard.ts): admin only, the body and checks of any endpoint plus the
 * standard profile and Herald's own event types; the tenant's routes readable, its other writes
 * refused; its id reserved and left out of the tenant list.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { OPERATIONAL_EVENT_TYPE_NAMES } from '../../src/event-types/operational-event-types.ts';
import { makeTestApp, type TestApp } from '../support/app.ts';
import { forEachStorage } from '../support/storage.ts';

const BASE = '/v1/operational-endpoints';
const HERALD = '/v1/tenants/_herald';

/** Every row the refusals below must leave alone (not the version creates and deletes move). */
async function snapshot(t: TestApp): Promise<string> {
  const parts = [await t.ctx.db.query('SELECT id, name, metadata, updated_at FROM tenants ORDER BY id')];
  for (const table of ['endpoints', 'api_keys', 'events', 'deliveries']) {
    parts.push(await t.ctx.db.query(`SELECT * FROM ${table} ORDER BY 1, 2`));
  }
  return JSON.stringify(parts);
}

forEachStorage('operational endpoints', (kind) => {
  let t: TestApp;
  let tenantKey: string;

  before(async () => {
    t = await makeTestApp(kind, { config: { allowPrivateNetworks: false } });
    assert.equal((await t.request('POST', '/v1/tenants', { id: 'acme', name: 'Acme' })).statusCode, 201);
    tenantKey = await t.tenantKey('acme');
  });
  after(() => t.close());

  test('create, list, get, patch, rotate and delete, as endpoints of _herald', async () => {
    const created = await t.request('POST', BASE, {
      url: 'https://ops.example.com/herald',
      name: 'Pager',
      eventTypes: ['endpoint.*', 'delivery.exhausted'],
      headers: { 'x-team': 'sre' },
      auth: { type: 'bearer', token: 'tok_ops' },
    });
    assert.equal(created.statusCode, 201, created.body);
    const ep = created.json();
    assert.equal(ep.tenantId, '_herald');
    assert.equal(ep.profile, 'standard');
    assert.match(ep.secret, /^whsec_/);
    assert.deepEqual(ep.eventTypes, ['endpoint.*', 'delivery.exhausted']);
    assert.deepEqual(ep.auth, { type: 'bearer' });

    const list = (await t.request('GET', BASE)).json();
    assert.deepEqual(
      list.data.map((e: { id: string }) => e.id),
      [ep.id],
    );
    assert.equal(list.nextCursor, null);
    assert.equal((await t.request('GET', `${BASE}/${ep.id}`)).json().name, 'Pager');
    // The tenant routes read it too: the dashboard's endpoint, delivery and event pages.
    assert.equal((await t.request('GET', `${HERALD}/endpoints/${ep.id}`)).json().url, ep.url);
    assert.equal((await t.request('GET', `${HERALD}/endpoints/${ep.id}/secret`)).json().secret, ep.secret);

    const paused = await t.request('PATCH', `${BASE}/${ep.id}`, { active: false, eventTypes: '*' });
    assert.equal(paused.statusCode, 200, paused.body);
    assert.equal(paused.json().active, false);
    assert.deepEqual(paused.json().eventTypes, ['*']);

    const rotated = await t.request('POST', `${BASE}/${ep.id}/rotate-secret`, {});
    assert.equal(rotated.statusCode, 200, rotated.body);
    assert.notEqual(rotated.json().secret, ep.secret);

    assert.equal((await t.request('DELETE', `${BASE}/${ep.id}`)).statusCode, 204);
    const gone = await t.request('GET', `${BASE}/${ep.id}`);
    assert.equal(gone.statusCode, 404);
    assert.equal(gone.json().error.code, 'ENDPOINT_NOT_FOUND');
  });

  test("another tenant's endpoint is not an operational one", async () => {
    const acme = (
      await t.request('POST', '/v1/tenants/acme/endpoints', { url: 'https://a.example.com/' })
    ).json();
    for (const [method, url] of [
      ['GET', `${BASE}/${acme.id}`],
      ['PATCH', `${BASE}/${acme.id}`],
      ['DELETE', `${BASE}/${acme.id}`],
    ] as const) {
      const res = await t.request(method, url, method === 'PATCH' ? { active: false } : undefined);
      assert.equal(res.statusCode, 404, `${method} ${url}`);
      assert.equal(res.json().error.code, 'ENDPOINT_NOT_FOUND');
    }
    assert.equal((await t.request('GET', `/v1/tenants/acme/endpoints/${acme.id}`)).json().active, true);
  });

  test("the event types: Herald's own five, with schemas and examples", async () => {
    const res = await t.request('GET', '/v1/operational-event-types');
    assert.equal(res.statusCode, 200);
    const types = res.json().data as Array<{ name: string; schema: object; example: object }>;
    assert.deepEqual(
      types.map((x) => x.name),
      [...OPERATIONAL_EVENT_TYPE_NAMES],
    );
    for (const x of types) assert.ok(Object.keys(x.example).length > 0 && 'properties' in x.schema);
    // Not in the operator's catalog, which every tenant's portal shows.
    assert.deepEqual((await t.request('GET', '/v1/event-types')).json().data, []);
  });

  test('admin key only: a tenant key is 403, no key 401', async () => {
    for (const [method, url] of [
      ['GET', BASE],
      ['POST', BASE],
      ['GET', `${BASE}/ep_x`],
      ['PATCH', `${BASE}/ep_x`],
      ['DELETE', `${BASE}/ep_x`],
      ['POST', `${BASE}/ep_x/rotate-secret`],
      ['GET', '/v1/operational-event-types'],
    ] as const) {
      const body = method === 'POST' || method === 'PATCH' ? { url: 'https://ops.example.com/' } : undefined;
      const asTenant = await t.request(method, url, body, tenantKey);
      assert.equal(asTenant.statusCode, 403, `${method} ${url}`);
      assert.equal(asTenant.json().error.code, 'FORBIDDEN');
      const anonymous = await t.request(method, url, body, null);
      assert.equal(anonymous.statusCode, 401, `${method} ${url}`);
      assert.equal(anonymous.json().error.code, 'UNAUTHORIZED');
    }
    // Nor can a tenant key reach _herald's tenant routes.
    const read = await t.request('GET', `${HERALD}/deliveries`, undefined, tenantKey);
    assert.equal(read.json().error.code, 'TENANT_NOT_FOUND');
  });

  test('refusals: what any endpoint refuses, another profile, event types none matches; nothing written', async () => {
    const before = await snapshot(t);
    const cases: Array<[unknown, number, string, string?]> = [
      [{ url: 'ftp://ops.example.com/' }, 400, 'INVALID_URL'],
      // The SSRF policy applies as to any endpoint (private networks are not allowed here).
      [{ url: 'http://127.0.0.1:9/hook' }, 400, 'BLOCKED_ADDRESS'],
      [{ url: 'https://ops.example.com/', headers: { 'webhook-id': 'x' } }, 400, 'INVALID_HEADERS'],
      [{ url: 'https://ops.example.com/', profile: 'shipstream' }, 400, 'VALIDATION_FAILED', 'profile'],
      [{ url: 'https://ops.example.com/', profile: 'nope' }, 400, 'VALIDATION_FAILED', 'profile'],
      [
        { url: 'https://ops.example.com/', eventTypes: ['endpoint.disabled', 'invoice.created'] },
        400,
        'VALIDATION_FAILED',
        'eventTypes.1',
      ],
      [{ url: 'https://ops.example.com/', eventTypes: 'message.*' }, 400, 'VALIDATION_FAILED', 'eventTypes'],
      [
        { url: 'https://ops.example.com/', eventTypes: ['bad type!'] },
        400,
        'VALIDATION_FAILED',
        'eventTypes.0',
      ],
      [{ url: 'https://ops.example.com/', color: 'red' }, 400, 'VALIDATION_FAILED'],
    ];
    for (const [body, status, code, path] of cases) {
      const res = await t.request('POST', BASE, body);
      assert.equal(res.statusCode, status, `${JSON.stringify(body)}: ${res.body}`);
      assert.equal(res.json().error.code, code, res.body);
      if (path) assert.equal(res.json().error.details[0].path, path, res.body);
    }
    const ep = (await t.request('POST', BASE, { url: 'https://ops.example.com/' })).json();
    const mid = await snapshot(t);
    for (const [body, code] of [
      [{ profile: 'altoviz' }, 'VALIDATION_FAILED'],
      [{ eventTypes: ['invoice.*'] }, 'VALIDATION_FAILED'],
      [{ url: 'http://10.0.0.1/' }, 'BLOCKED_ADDRESS'],
      [{ secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }, 'VALIDATION_FAILED'],
    ] as const) {
      const res = await t.request('PATCH', `${BASE}/${ep.id}`, body);
      assert.equal(res.json().error?.code, code, res.body);
    }
    assert.equal(await snapshot(t), mid, 'a refused update changed nothing');
    assert.equal((await t.request('DELETE', `${BASE}/${ep.id}`)).statusCode, 204);
    assert.equal(await snapshot(t), before);
  });

  test('_herald: reserved id, not listed, and written only through /v1/operational-endpoints', async () => {
    const taken = await t.request('POST', '/v1/tenants', { id: '_herald', name: 'Mine' });
    assert.equal(taken.statusCode, 400);
    assert.equal(taken.json().error.code, 'TENANT_ID_RESERVED');
    const tenants = (await t.request('GET', '/v1/tenants')).json().data.map((x: { id: string }) => x.id);
    assert.ok(!tenants.includes('_herald') && tenants.includes('acme'), String(tenants));
    assert.equal((await t.request('GET', HERALD)).json().id, '_herald');

    const ep = (await t.request('POST', BASE, { url: 'https://ops.example.com/' })).json();
    const before = await snapshot(t);
    for (const [method, url, body] of [
      ['POST', `${HERALD}/endpoints`, { url: 'https://x.example.com/' }],
      ['PATCH', `${HERALD}/endpoints/${ep.id}`, { profile: 'shipstream' }],
      ['DELETE', `${HERALD}/endpoints/${ep.id}`, undefined],
      ['DELETE', `${HERALD}/endpoints?url=${encodeURIComponent(ep.url)}`, undefined],
      ['POST', `${HERALD}/endpoints/${ep.id}/rotate-secret`, {}],
      ['POST', `${HERALD}/endpoints/${ep.id}/test`, { eventType: 'endpoint.disabled', data: {} }],
      ['POST', `${HERALD}/events`, { type: 'endpoint.disabled', data: { forged: true } }],
      ['POST', `${HERALD}/api-keys`, {}],
      ['POST', `${HERALD}/portal-sessions`, {}],
      ['DELETE', `${HERALD}/portal-sessions`, undefined],
      ['PATCH', HERALD, { name: 'x' }],
      ['DELETE', HERALD, undefined],
    ] as const) {
      const res = await t.request(method, url, body);
      assert.equal(res.statusCode, 403, `${method} ${url}: ${res.body}`);
      assert.equal(res.json().error.code, 'FORBIDDEN');
      assert.match(res.json().error.message, /operational-endpoints/);
    }
    assert.equal(await snapshot(t), before, 'nothing written');
    // Sending again is allowed: a retry of no such delivery is simply not found.
    const retry = await t.request('POST', `${HERALD}/deliveries/dlv_nope/retry`);
    assert.equal(retry.json().error.code, 'DELIVERY_NOT_FOUND');
    const recover = await t.request('POST', `${HERALD}/endpoints/${ep.id}/recover`, {
      since: '2030-01-01T00:00:00Z',
      dryRun: true,
    });
    assert.equal(recover.statusCode, 200, recover.body);
    assert.equal(recover.json().wouldRecover, 0);
    await t.request('DELETE', `${BASE}/${ep.id}`);
  });

  test("the OpenAPI document lists the routes and the 403 on _herald's writes", async () => {
    const doc = (await t.request('GET', '/openapi.json')).json();
    const ops = doc.paths['/v1/operational-endpoints'];
    assert.equal(ops.post.operationId, 'createOperationalEndpoint');
    assert.ok(ops.post.responses['403'], 'the admin-only 403');
    assert.ok(doc.paths['/v1/operational-endpoints/{endpointId}/rotate-secret'].post);
    const publish = doc.paths['/v1/tenants/{tenantId}/events'].post.responses['403'];
    assert.ok(publish?.content['application/json'].examples.FORBIDDEN, 'publishing lists FORBIDDEN');
    assert.equal(
      doc.paths['/v1/tenants/{tenantId}/deliveries/{deliveryId}/retry'].post.responses['403'],
      undefined,
    );
    assert.ok(
      doc.paths['/v1/tenants'].post.responses['400'].content['application/json'].examples.TENANT_ID_RESERVED,
    );
  });
});
