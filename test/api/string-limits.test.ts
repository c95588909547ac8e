/**
 * String-length and size limits of the request schemas: every caller-chosen string has a bound, and
 * one past it answers 400 VALIDATION_FAILED naming the field, with nothing written.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { makeTestApp, type TestApp } from '../support/app.ts';
import { forEachStorage } from '../support/storage.ts';

const TABLES = ['tenants', 'api_keys', 'event_types', 'endpoints', 'events'];

async function counts(t: TestApp): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of TABLES) {
    out[table] = (await t.ctx.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`))[0]!.n;
  }
  return out;
}

const s = (n: number) => 'a'.repeat(n);
const url = 'http://127.0.0.1:9/hook';

forEachStorage('string limits', (kind) => {
  let t: TestApp;
  before(async () => {
    t = await makeTestApp(kind);
    assert.equal((await t.request('POST', '/v1/tenants', { id: 'acme', name: 'Acme' })).statusCode, 201);
  });
  after(() => t.close());

  const E = '/v1/tenants/acme/endpoints';
  const P = '/v1/tenants/acme/events';
  // [what, method, path, body at the limit, body one past it, the field named]
  const cases: Array<[string, string, string, unknown, unknown, string]> = [
    ['tenant name', 'POST', '/v1/tenants', { name: s(256) }, { name: s(257) }, 'body.name'],
    ['tenant id', 'POST', '/v1/tenants', { id: s(64), name: 'x' }, { id: s(65), name: 'x' }, 'body.id'],
    [
      'metadata value',
      'POST',
      '/v1/tenants',
      { name: 'm', metadata: { k: s(2048) } },
      { name: 'm', metadata: { k: s(2049) } },
      'body.metadata.k',
    ],
    [
      'metadata key',
      'POST',
      '/v1/tenants',
      { name: 'm', metadata: { [s(256)]: 1 } },
      { name: 'm', metadata: { [s(257)]: 1 } },
      'body.metadata',
    ],
    [
      'metadata keys',
      'POST',
      '/v1/tenants',
      { name: 'm', metadata: Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`k${i}`, i])) },
      { name: 'm', metadata: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, i])) },
      'body.metadata',
    ],
    [
      'metadata nested value',
      'POST',
      '/v1/tenants',
      { name: 'm', metadata: { a: 'x', b: 1, c: true, d: null } },
      { name: 'm', metadata: { a: { b: 'x' } } },
      'body.metadata.a',
    ],
    ['api key name', 'POST', '/v1/tenants/acme/api-keys', { name: s(256) }, { name: s(257) }, 'body.name'],
    [
      'event type name',
      'POST',
      '/v1/event-types',
      { name: `a.${s(126)}` },
      { name: `a.${s(127)}` },
      'body.name',
    ],
    [
      'event type description',
      'POST',
      '/v1/event-types',
      { name: 'd.x', description: s(4096) },
      { name: 'd.y', description: s(4097) },
      'body.description',
    ],
    ['endpoint name', 'POST', E, { url, name: s(256) }, { url, name: s(257) }, 'body.name'],
    [
      'endpoint description',
      'POST',
      E,
      { url, description: s(4096) },
      { url, description: s(4097) },
      'body.description',
    ],
    ['endpoint url', 'POST', E, { url: `${url}?${s(2000)}` }, { url: `${url}?${s(2049)}` }, 'body.url'],
    [
      'ignored origin',
      'POST',
      E,
      { url, ignoreOrigins: [s(128)] },
      { url, ignoreOrigins: [s(129)] },
      'body.ignoreOrigins.0',
    ],
    [
      'event type pattern',
      'POST',
      E,
      { url, eventTypes: [s(128)] },
      { url, eventTypes: [s(129)] },
      'body.eventTypes',
    ],
    ['endpoint secret', 'POST', E, { url, secret: s(256) }, { url, secret: s(257) }, 'body.secret'],
    [
      'event origin',
      'POST',
      P,
      { type: 'o.x', data: {}, origin: s(128) },
      { type: 'o.x', data: {}, origin: s(129) },
      'body.origin',
    ],
    [
      'event id',
      'POST',
      P,
      { type: 'o.x', data: {}, id: s(64) },
      { type: 'o.x', data: {}, id: s(65) },
      'body.id',
    ],
    [
      'event type of an event',
      'POST',
      P,
      { type: `o.${s(126)}`, data: {} },
      { type: `o.${s(127)}`, data: {} },
      'body.type',
    ],
  ];

  for (const [what, method, path, ok, tooLong, field] of cases) {
    test(`${what}: at the limit accepted, one past it 400 naming ${field}`, async () => {
      const before = await counts(t);
      const refused = await t.request(method, path, tooLong);
      assert.equal(refused.statusCode, 400, refused.body);
      const error = refused.json().error;
      assert.equal(error.code, 'VALIDATION_FAILED');
      // A union (nullable fields, the publish body) may report the failing branch's path.
      assert.ok(
        error.details.some((d: { path: string }) => d.path.startsWith(field) || field.startsWith(d.path)),
        JSON.stringify(error.details),
      );
      assert.deepEqual(await counts(t), before, 'nothing written');
      const accepted = await t.request(method, path, ok);
      assert.ok(accepted.statusCode < 300, `${accepted.statusCode} ${accepted.body}`);
    });
  }

  test('an Idempotency-Key longer than 255 characters is refused', async () => {
    const before = await counts(t);
    const res = await t.app.inject({
      method: 'POST',
      url: P,
      headers: {
        authorization: `Bearer ${t.adminKey}`,
        'content-type': 'application/json',
        'idempotency-key': s(256),
      },
      payload: JSON.stringify({ type: 'o.x', data: {} }),
    });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().error.code, 'VALIDATION_FAILED');
    assert.deepEqual(await counts(t), before);
  });

  test('names people read refuse control characters (issue 16): tenant, endpoint and API key names', async () => {
    const before = await counts(t);
    for (const bad of ['evil\u001b]0;pwned\u0007', 'line\nbreak', 'del\u007f', 'c1\u009b31m']) {
      for (const [path, body] of [
        ['/v1/tenants', { name: bad }],
        [E, { url, name: bad }],
        ['/v1/tenants/acme/api-keys', { name: bad }],
      ] as const) {
        const res = await t.request('POST', path, body);
        assert.equal(res.statusCode, 400, `${path} ${JSON.stringify(bad)}: ${res.body}`);
        assert.equal(res.json().error.code, 'VALIDATION_FAILED');
      }
    }
    assert.deepEqual(await counts(t), before, 'nothing written');
    // Anything printable stays allowed, non-Latin scripts and emoji included.
    const ok = await t.request('POST', '/v1/tenants', { name: 'Café — 東京 🚚' });
    assert.equal(ok.statusCode, 201, ok.body);
  });
});
