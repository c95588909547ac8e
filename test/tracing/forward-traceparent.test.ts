/**
 * The endpoint option `forwardTraceparent`: created, read, changed like any endpoint option, open to
 * every profile, refused beside an own `traceparent`/`tracestate` header (either way round), and a
 * change of it makes publishing's kept candidates stale (migration 016's trigger).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { PROFILE_NAMES } from '../../src/profiles/profile-names.ts';
import { makeTestApp, type TestApp } from '../support/app.ts';
import { forEachStorage } from '../support/storage.ts';

forEachStorage('endpoint option forwardTraceparent', (kind) => {
  let t: TestApp;
  const base = '/v1/tenants/acme/endpoints';

  before(async () => {
    t = await makeTestApp(kind);
    assert.equal((await t.request('POST', '/v1/tenants', { id: 'acme', name: 'Acme' })).statusCode, 201);
  });
  after(() => t.close());

  async function rows(): Promise<string> {
    return JSON.stringify(
      await t.ctx.db.query(`SELECT * FROM endpoints WHERE tenant_id = 'acme' ORDER BY id`),
    );
  }

  test('false by default; set on create, changed by PATCH, shown by GET and lists', async () => {
    const plain = await t.request('POST', base, { url: 'https://example.com/plain' });
    assert.equal(plain.statusCode, 201, plain.body);
    assert.equal(plain.json().forwardTraceparent, false);

    const on = await t.request('POST', base, { url: 'https://example.com/on', forwardTraceparent: true });
    assert.equal(on.statusCode, 201, on.body);
    assert.equal(on.json().forwardTraceparent, true);
    assert.equal((await t.request('GET', `${base}/${on.json().id}`)).json().forwardTraceparent, true);

    const patched = await t.request('PATCH', `${base}/${plain.json().id}`, { forwardTraceparent: true });
    assert.equal(patched.statusCode, 200, patched.body);
    assert.equal(patched.json().forwardTraceparent, true);
    // Another field's PATCH leaves it alone.
    const renamed = await t.request('PATCH', `${base}/${plain.json().id}`, { name: 'renamed' });
    assert.equal(renamed.json().forwardTraceparent, true);
    const off = await t.request('PATCH', `${base}/${plain.json().id}`, { forwardTraceparent: false });
    assert.equal(off.json().forwardTraceparent, false);

    const list = await t.request('GET', base);
    const byId = new Map(list.json().data.map((e: { id: string; forwardTraceparent: boolean }) => [e.id, e]));
    assert.equal((byId.get(on.json().id) as { forwardTraceparent: boolean }).forwardTraceparent, true);
    assert.equal((byId.get(plain.json().id) as { forwardTraceparent: boolean }).forwardTraceparent, false);
  });

  test('not a boolean: 400 VALIDATION_FAILED naming the field, nothing written', async () => {
    const before = await rows();
    for (const value of ['yes', 1, null]) {
      const res = await t.request('POST', base, {
        url: 'https://example.com/bad',
        forwardTraceparent: value,
      });
      assert.equal(res.statusCode, 400, res.body);
      assert.equal(res.json().error.code, 'VALIDATION_FAILED');
      assert.match(res.body, /forwardTraceparent/);
    }
    const ep = (await t.request('POST', base, { url: 'https://example.com/ok' })).json();
    const res = await t.request('PATCH', `${base}/${ep.id}`, { forwardTraceparent: 'true' });
    assert.equal(res.statusCode, 400, res.body);
    assert.equal(res.json().error.code, 'VALIDATION_FAILED');
    await t.request('DELETE', `${base}/${ep.id}`);
    assert.equal(await rows(), before);
  });

  test('with an own traceparent or tracestate header: 400 INVALID_HEADERS, either way round', async () => {
    const before = await rows();
    const created = await t.request('POST', base, {
      url: 'https://example.com/both',
      forwardTraceparent: true,
      headers: { 'X-Team': 'a', Traceparent: '00-x', tracestate: 'a=b' },
    });
    assert.equal(created.statusCode, 400, created.body);
    assert.equal(created.json().error.code, 'INVALID_HEADERS');
    assert.deepEqual(
      created.json().error.details.map((d: { path: string }) => d.path),
      ['headers.Traceparent', 'headers.tracestate'],
    );
    assert.equal(await rows(), before);

    // Without forwarding the header is the endpoint's own business.
    const own = await t.request('POST', base, {
      url: 'https://example.com/own',
      headers: { traceparent: 'fixed' },
    });
    assert.equal(own.statusCode, 201, own.body);
    const id = own.json().id;
    const turnOn = await t.request('PATCH', `${base}/${id}`, { forwardTraceparent: true });
    assert.equal(turnOn.statusCode, 400, turnOn.body);
    assert.equal(turnOn.json().error.code, 'INVALID_HEADERS');
    assert.equal((await t.request('GET', `${base}/${id}`)).json().forwardTraceparent, false);

    const both = await t.request('PATCH', `${base}/${id}`, { forwardTraceparent: true, headers: {} });
    assert.equal(both.statusCode, 200, both.body);
    const addHeader = await t.request('PATCH', `${base}/${id}`, { headers: { TraceState: 'x=y' } });
    assert.equal(addHeader.statusCode, 400, addHeader.body);
    assert.equal(addHeader.json().error.code, 'INVALID_HEADERS');
    assert.match(addHeader.json().error.message, /headers\.TraceState: is sent by forwardTraceparent/);
  });

  test('open to every profile: none signs or owns these headers', async () => {
    for (const profile of PROFILE_NAMES) {
      const res = await t.request('POST', base, {
        url: `https://example.com/${profile}`,
        profile,
        forwardTraceparent: true,
        ...(profile === 'courier-invoice' ? { profileOptions: { accountNumber: 'A-1' } } : {}),
        ...(profile === 'corrigopro' ? { auth: { type: 'bearer', token: 'tok' } } : {}),
      });
      assert.equal(res.statusCode, 201, `${profile}: ${res.body}`);
      assert.equal(res.json().forwardTraceparent, true);
    }
  });

  test("turning it on or off moves the tenant's endpoints version (kept candidates go stale)", async () => {
    const ep = (await t.request('POST', base, { url: 'https://example.com/version' })).json();
    const version = async () =>
      (
        await t.ctx.db.query<{ v: string }>(
          `SELECT endpoints_version::text AS v FROM tenants WHERE id = 'acme'`,
        )
      )[0]!.v;
    const v0 = await version();
    await t.request('PATCH', `${base}/${ep.id}`, { forwardTraceparent: true });
    const v1 = await version();
    assert.notEqual(v1, v0);
    await t.request('PATCH', `${base}/${ep.id}`, { forwardTraceparent: true });
    assert.equal(await version(), v1, 'unchanged: no bump');
  });
});
