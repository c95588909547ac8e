/**
 * Refusals a client meets before any route's own logic (issue 17, item 6): a wrong method on a known
 * path is 405 with `Allow`; a body that is not JSON (text/plain, or no content type at all) is 415;
 * a one-event publish that fails validation names that event's problems only; an empty body labelled
 * JSON is no body on a DELETE (or GET), and INVALID_JSON where a body is due.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { makeTestApp, type TestApp } from '../support/app.ts';
import { forEachStorage } from '../support/storage.ts';

forEachStorage('refusals', (kind) => {
  let t: TestApp;
  before(async () => {
    t = await makeTestApp(kind);
    assert.equal((await t.request('POST', '/v1/tenants', { id: 'acme', name: 'Acme' })).statusCode, 201);
  });
  after(() => t.close());

  const raw = (method: string, url: string, headers: Record<string, string>, payload?: string) =>
    t.app.inject({
      method: method as 'POST',
      url,
      headers: { authorization: `Bearer ${t.adminKey}`, ...headers },
      ...(payload !== undefined ? { payload } : {}),
    });

  test('a wrong method on a known path is 405 METHOD_NOT_ALLOWED with Allow', async () => {
    const cases: Array<[method: string, url: string, allow: string]> = [
      ['PUT', '/v1/tenants', 'GET, HEAD, POST'],
      ['POST', '/v1/tenants/acme', 'GET, HEAD, PATCH, DELETE'],
      ['DELETE', '/v1/tenants/acme/events?limit=1', 'GET, HEAD, POST'],
      ['PATCH', '/v1/tenants/acme/deliveries/dlv_x/retry', 'POST'],
      ['POST', '/healthz', 'GET, HEAD'],
    ];
    for (const [method, url, allow] of cases) {
      const res = await t.request(method, url, method === 'DELETE' ? undefined : {});
      assert.equal(res.statusCode, 405, `${method} ${url}: ${res.body}`);
      assert.equal(res.headers['allow'], allow, `${method} ${url}`);
      const { error } = res.json();
      assert.equal(error.code, 'METHOD_NOT_ALLOWED');
      assert.match(error.message, new RegExp(`^${method} is not allowed here`));
      assert.deepEqual(error.details, []);
    }
  });

  test('an unknown path is still 404 ROUTE_NOT_FOUND, without Allow', async () => {
    const res = await t.request('PUT', '/v1/nothing-here');
    assert.equal(res.statusCode, 404);
    assert.equal(res.headers['allow'], undefined);
    assert.equal(res.json().error.code, 'ROUTE_NOT_FOUND');
  });

  test('a text/plain body answers 415 as a missing content type does, and changes nothing', async () => {
    const body = JSON.stringify({ id: 'plain', name: 'Plain' });
    const missing = await raw('POST', '/v1/tenants', {}, body);
    const plain = await raw('POST', '/v1/tenants', { 'content-type': 'text/plain' }, body);
    const plainUtf8 = await raw('POST', '/v1/tenants', { 'content-type': 'text/plain; charset=utf-8' }, body);
    for (const res of [missing, plain, plainUtf8]) {
      assert.equal(res.statusCode, 415, res.body);
      assert.equal(res.json().error.code, 'UNSUPPORTED_MEDIA_TYPE');
    }
    assert.equal(plain.body, missing.body);
    assert.equal((await t.request('GET', '/v1/tenants/plain')).statusCode, 404);
    // The same body as JSON is taken.
    assert.equal(
      (await raw('POST', '/v1/tenants', { 'content-type': 'application/json' }, body)).statusCode,
      201,
    );
  });

  test('an empty body labelled JSON is no body on a DELETE, and still INVALID_JSON where a body is due', async () => {
    assert.equal(
      (await t.request('POST', '/v1/tenants', { id: 'bodiless', name: 'Bodiless' })).statusCode,
      201,
    );
    const json = { 'content-type': 'application/json' };
    const post = await raw('POST', '/v1/tenants', json, '');
    assert.equal(post.statusCode, 400, post.body);
    assert.equal(post.json().error.code, 'INVALID_JSON');
    const got = await raw('GET', '/v1/tenants/bodiless', json, '');
    assert.equal(got.statusCode, 200, got.body);
    const deleted = await raw('DELETE', '/v1/tenants/bodiless', json, '');
    assert.equal(deleted.statusCode, 204, deleted.body);
    assert.equal((await t.request('GET', '/v1/tenants/bodiless')).statusCode, 404);
  });

  test('a one-event publish that fails validation names only that event’s problems', async () => {
    const cases: Array<[body: unknown, path: string, message: string]> = [
      [{ type: 'invoice.created', data: 5 }, 'body.data', 'must be object'],
      [{ type: 'invoice.created', data: {}, extra: 1 }, 'body.extra', 'must NOT have additional properties'],
      [{ data: {} }, 'body.type', "must have required property 'type'"],
      [[], 'body', 'must be object'],
    ];
    for (const [body, path, message] of cases) {
      const res = await t.request('POST', '/v1/tenants/acme/events', body);
      assert.equal(res.statusCode, 400, res.body);
      const { error } = res.json();
      assert.equal(error.code, 'VALIDATION_FAILED');
      assert.deepEqual(error.details, [{ path, message }], res.body);
      assert.equal(error.message, `${path}: ${message}`);
      assert.doesNotMatch(res.body, /anyOf|events/, res.body);
    }
  });

  test('a batch publish that fails validation names the batch’s problems only', async () => {
    const res = await t.request('POST', '/v1/tenants/acme/events', {
      events: [{ type: 'invoice.created', data: 5 }],
    });
    assert.equal(res.statusCode, 400, res.body);
    assert.deepEqual(res.json().error.details, [{ path: 'body.events.0.data', message: 'must be object' }]);
    assert.doesNotMatch(res.body, /anyOf|'type'/, res.body);
    // Both shapes still publish.
    const one = await t.request('POST', '/v1/tenants/acme/events', { type: 'invoice.created', data: {} });
    assert.equal(one.statusCode, 202, one.body);
    const batch = await t.request('POST', '/v1/tenants/acme/events', {
      events: [{ type: 'invoice.created', data: {} }],
    });
    assert.equal(batch.statusCode, 202, batch.body);
    assert.equal(batch.json().data.length, 1);
  });
});
