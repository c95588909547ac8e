import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { makeTestApp, type TestApp } from '../support/app.ts';
import { forEachStorage } from '../support/storage.ts';

forEachStorage('tenants', (kind) => {
  let t: TestApp;
  before(async () => {
    t = await makeTestApp(kind);
  });
  after(() => t.close());

  test('create, get, list, patch, delete', async () => {
    const created = await t.request('POST', '/v1/tenants', {
      id: 'acme',
      name: 'Acme',
      metadata: { plan: 'pro' },
    });
    assert.equal(created.statusCode, 201, created.body);
    assert.equal(created.json().id, 'acme');
    assert.deepEqual(created.json().metadata, { plan: 'pro' });

    const dup = await t.request('POST', '/v1/tenants', { id: 'acme', name: 'Other' });
    assert.equal(dup.statusCode, 409);
    assert.equal(dup.json().error.code, 'TENANT_EXISTS');

    const generated = await t.request('POST', '/v1/tenants', { name: 'No id' });
    assert.match(generated.json().id, /^ten_[0-9A-Z]{26}$/);

    const got = await t.request('GET', '/v1/tenants/acme');
    assert.equal(got.json().name, 'Acme');

    const patched = await t.request('PATCH', '/v1/tenants/acme', { name: 'Acme Inc' });
    assert.equal(patched.json().name, 'Acme Inc');
    assert.deepEqual(patched.json().metadata, { plan: 'pro' });

    const list = await t.request('GET', '/v1/tenants?limit=1');
    assert.equal(list.json().data.length, 1);
    assert.ok(list.json().nextCursor);
    const next = await t.request('GET', `/v1/tenants?limit=1&cursor=${list.json().nextCursor}`);
    assert.equal(next.json().data.length, 1);
    assert.notEqual(next.json().data[0].id, list.json().data[0].id);
    assert.equal(next.json().nextCursor, null);

    assert.equal((await t.request('DELETE', '/v1/tenants/acme')).statusCode, 204);
    const gone = await t.request('GET', '/v1/tenants/acme');
    assert.equal(gone.statusCode, 404);
    assert.equal(gone.json().error.code, 'TENANT_NOT_FOUND');
  });

  test('refuses bad input with a code and writes nothing', async () => {
    const cases: Array<[unknown, number, string]> = [
      [{ name: 5 }, 400, 'VALIDATION_FAILED'],
      [{ id: 'has space', name: 'x' }, 400, 'VALIDATION_FAILED'],
      [{ name: 'x', extra: true }, 400, 'VALIDATION_FAILED'],
      // `.` and `..` as ids: URL-normalising clients would reach other routes with them (issue 16).
      [{ id: '.', name: 'x' }, 400, 'VALIDATION_FAILED'],
      [{ id: '..', name: 'x' }, 400, 'VALIDATION_FAILED'],
      ['{"name": ', 400, 'INVALID_JSON'],
      [{ name: 'x'.repeat(2 * 1024 * 1024) }, 413, 'PAYLOAD_TOO_LARGE'],
    ];
    const before = (await t.request('GET', '/v1/tenants?limit=250')).json().data.length;
    for (const [body, status, code] of cases) {
      const res = await t.request('POST', '/v1/tenants', body);
      assert.equal(res.statusCode, status, res.body);
      assert.equal(res.json().error.code, code);
    }
    assert.equal((await t.request('GET', '/v1/tenants?limit=250')).json().data.length, before);
  });

  test('needs a key', async () => {
    const res = await t.request('GET', '/v1/tenants', undefined, null);
    assert.equal(res.statusCode, 401);
    assert.equal(res.json().error.code, 'UNAUTHORIZED');
    const wrong = await t.request('GET', '/v1/tenants', undefined, 'hk_admin_wrong');
    assert.equal(wrong.statusCode, 401);
  });
});

forEachStorage('JSON bodies', (kind) => {
  let t: TestApp;
  before(async () => {
    t = await makeTestApp(kind);
  });
  after(() => t.close());

  test('values that cannot be kept exactly are refused, the same way on every route (issue 16)', async () => {
    const tid = (await t.request('POST', '/v1/tenants', { name: 'exact' })).json().id as string;
    const bodies = [
      ['/v1/tenants', '{"name":"a\\ud800b"}'],
      ['/v1/tenants', '{"name":"x","metadata":{"k":"\\udfff"}}'],
      [`/v1/tenants/${tid}/events`, '{"type":"a.b","data":{"n":1e999999}}'],
      [`/v1/tenants/${tid}/events`, '{"type":"a.b","data":{"n":-0}}'],
      [`/v1/tenants/${tid}/events`, '{"type":"a.b","data":{"n":1e-400}}'],
      [`/v1/tenants/${tid}/events`, '{"type":"a.b","data":{"s":"\\ud83d"}}'],
    ];
    for (const [url, body] of bodies) {
      const res = await t.request('POST', url!, body);
      assert.equal(res.statusCode, 400, `${body} → ${res.body}`);
      assert.equal(res.json().error.code, 'VALIDATION_FAILED');
      assert.equal(res.json().error.details[0].path, 'body');
    }
    const events = await t.request('GET', `/v1/tenants/${tid}/events`);
    assert.deepEqual(events.json().data, [], 'nothing was stored');
    // What is kept exactly still passes: a surrogate pair, zeros, small and large numbers.
    const ok = await t.request(
      'POST',
      `/v1/tenants/${tid}/events`,
      '{"type":"a.b","data":{"e":"\\ud83d\\ude00","z":0,"f":0.0,"n":-1.5e-300,"b":1e300}}',
    );
    assert.equal(ok.statusCode, 202, ok.body);
    assert.deepEqual(ok.json().data, { e: '😀', z: 0, f: 0, n: -1.5e-300, b: 1e300 });
  });

  test('deep nesting, prototype keys and empty bodies are refused with a code', async () => {
    const deep = `{"name":"x","metadata":{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}}`;
    const cases: Array<[string, number, string]> = [
      [deep, 400, 'VALIDATION_FAILED'],
      ['{"name":"x","__proto__":{"admin":true}}', 400, 'INVALID_JSON'],
      ['', 400, 'INVALID_JSON'],
    ];
    for (const [body, status, code] of cases) {
      const res = await t.request('POST', '/v1/tenants', body);
      assert.equal(res.statusCode, status, res.body);
      assert.equal(res.json().error.code, code);
    }
    // Brackets inside strings do not count as nesting.
    const ok = await t.request('POST', '/v1/tenants', {
      name: '['.repeat(200),
      metadata: { s: '{'.repeat(500) },
    });
    assert.equal(ok.statusCode, 201, ok.body);
  });
});
