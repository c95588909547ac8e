/**
 * GET /v1/profiles: each wire format as its profile object declares it (src/profiles/profile.ts),
 * and endpoint validation reading the same declarations.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { PROFILES } from '../../src/profiles/index.ts';
import { PROFILE_NAMES } from '../../src/profiles/profile-names.ts';
import { makeTestApp, type TestApp } from '../support/app.ts';

let t: TestApp;
before(async () => {
  t = await makeTestApp('pglite');
  await t.request('POST', '/v1/tenants', { id: 'acme', name: 'Acme' });
});
after(() => t.close());

test('every profile is listed with its label, headers, options, required auth and batching', async () => {
  const res = await t.request('GET', '/v1/profiles');
  assert.equal(res.statusCode, 200, res.body);
  const { data } = res.json() as { data: Array<Record<string, unknown>> };
  assert.deepEqual(
    data.map((p) => p['name']),
    [...PROFILE_NAMES],
  );
  const byName = new Map(data.map((p) => [p['name'], p]));
  assert.deepEqual(byName.get('standard'), {
    name: 'standard',
    label: 'Standard Webhooks (default)',
    ownedHeaders: [...PROFILES.standard.ownedHeaders],
    options: [],
    requiredAuth: null,
    batched: false,
    retrySchedule: null,
    timeouts: null,
  });
  const courier = byName.get('courier-invoice')!;
  assert.equal(courier['batched'], true);
  assert.deepEqual(courier['options'], [
    {
      name: 'accountNumber',
      required: true,
      description: "the receiver's account number, signed into X-CI-AUTH",
    },
  ]);
  assert.deepEqual(byName.get('corrigopro')!['requiredAuth'], ['bearer', 'oauth2']);
  assert.deepEqual(byName.get('shipstream')!['timeouts'], { connectMs: 3000, totalMs: 5000 });
  assert.ok(Array.isArray(byName.get('shipstream')!['retrySchedule']));
});

test('any key may read it (a tenant key too); no key may not', async () => {
  const tenantKey = await t.tenantKey('acme');
  assert.equal((await t.request('GET', '/v1/profiles', undefined, tenantKey)).statusCode, 200);
  assert.equal((await t.request('GET', '/v1/profiles', undefined, null)).statusCode, 401);
});

test("validation reads the profile's declarations: its options, its owned headers, its required auth", async () => {
  const create = (body: Record<string, unknown>) =>
    t.request('POST', '/v1/tenants/acme/endpoints', { url: 'https://example.com/hook', ...body });
  const missing = await create({ profile: 'courier-invoice' });
  assert.equal(missing.statusCode, 400);
  assert.equal(missing.json().error.details[0].path, 'profileOptions.accountNumber');
  const unknown = await create({
    profile: 'courier-invoice',
    profileOptions: { accountNumber: 'A-1', x: 1 },
  });
  assert.match(
    unknown.json().error.message,
    /profileOptions\.x: is not an option of the courier-invoice profile \(known: accountNumber\)/,
  );
  const owned = await create({ profile: 'altoviz', headers: { 'X-Signature': 'forged' } });
  assert.equal(owned.statusCode, 400);
  assert.equal(owned.json().error.code, 'INVALID_HEADERS');
  const noAuth = await create({ profile: 'corrigopro' });
  assert.equal(noAuth.statusCode, 400);
  assert.match(noAuth.json().error.message, /needs auth of type bearer or oauth2/);
});
