import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { makeTestApp, type TestApp } from '../support/app.ts';
import { forEachStorage } from '../support/storage.ts';

forEachStorage('ops routes', (kind) => {
  let t: TestApp;
  before(async () => {
    t = await makeTestApp(kind);
  });
  after(() => t.close());

  test('healthz and readyz need no key', async () => {
    assert.equal((await t.request('GET', '/healthz', undefined, null)).json().status, 'ok');
    assert.equal((await t.request('GET', '/readyz', undefined, null)).json().status, 'ready');
  });

  test('openapi.json documents the routes, and /docs serves the UI', async () => {
    const doc = (await t.request('GET', '/openapi.json', undefined, null)).json();
    assert.equal(doc.openapi, '3.1.0');
    assert.ok(doc.paths['/v1/tenants'].post);
    assert.ok(doc.paths['/v1/tenants/{tenantId}'].get);
    const docs = await t.app.inject({ method: 'GET', url: '/docs/' });
    assert.equal(docs.statusCode, 200);
    assert.match(docs.headers['content-type'] as string, /text\/html/);
  });

  test('/docs is served with a content security policy that forbids framing it (issue 16)', async () => {
    for (const url of ['/docs/', '/docs/static/swagger-initializer.js', '/docs/json']) {
      const res = await t.app.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 200, url);
      const csp = res.headers['content-security-policy'] as string;
      assert.match(csp, /frame-ancestors 'none'/, url);
      assert.match(csp, /default-src 'self'/, url);
      assert.doesNotMatch(csp, /upgrade-insecure-requests|validator\.swagger\.io/, url);
    }
  });

  test('GET / leads to the dashboard, without a key', async () => {
    const res = await t.request('GET', '/', undefined, null);
    assert.equal(res.statusCode, 302);
    assert.equal(res.headers.location, '/ui');
  });

  test('an unknown route is a 404 with a code', async () => {
    const res = await t.request('GET', '/v1/nope', undefined, null);
    assert.equal(res.statusCode, 404);
    assert.equal(res.json().error.code, 'ROUTE_NOT_FOUND');
  });

  test('readyz answers 503 when the database is gone', async () => {
    const other = await makeTestApp(kind);
    await other.testDb.db.close();
    const res = await other.request('GET', '/readyz', undefined, null);
    assert.equal(res.statusCode, 503);
    assert.equal(res.json().error.code, 'SERVICE_UNAVAILABLE');
    await other.app.close();
    if (kind === 'postgres') await other.testDb.close().catch(() => {});
  });
});
