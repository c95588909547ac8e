import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { HeraldError } from '../../src/core/errors.ts';
import { cachedValidatorCount, validateEventData } from '../../src/event-types/validate-event-data.ts';
import { getEventType } from '../../src/store/event-types.ts';
import { makeTestApp, type TestApp } from '../support/app.ts';
import { forEachStorage } from '../support/storage.ts';

const invoiceSchema = {
  type: 'object',
  properties: { invoiceId: { type: 'string' }, amount: { type: 'integer', minimum: 0 } },
  required: ['invoiceId', 'amount'],
};

forEachStorage('event types', (kind) => {
  let t: TestApp;
  let tenantKey: string;
  before(async () => {
    t = await makeTestApp(kind);
    await t.request('POST', '/v1/tenants', { id: 'acme', name: 'Acme' });
    tenantKey = (await t.request('POST', '/v1/tenants/acme/api-keys', {})).json().key;
  });
  after(() => t.close());

  const count = async () =>
    (await t.ctx.db.query<{ n: number }>('SELECT count(*)::int AS n FROM event_types'))[0]!.n;

  test('create, get, list, patch, delete', async () => {
    const created = await t.request('POST', '/v1/event-types', {
      name: 'invoice.created',
      description: 'An invoice was issued',
      schema: invoiceSchema,
      example: { invoiceId: 'inv_1', amount: 1200 },
    });
    assert.equal(created.statusCode, 201, created.body);
    const et = created.json();
    assert.equal(et.name, 'invoice.created');
    assert.equal(et.description, 'An invoice was issued');
    assert.deepEqual(et.example, { invoiceId: 'inv_1', amount: 1200 });
    // Kept as written, key order included.
    assert.equal(JSON.stringify(et.schema), JSON.stringify(invoiceSchema));
    assert.ok(et.createdAt && et.updatedAt);

    const dup = await t.request('POST', '/v1/event-types', { name: 'invoice.created' });
    assert.equal(dup.statusCode, 409);
    assert.equal(dup.json().error.code, 'EVENT_TYPE_EXISTS');

    const bare = await t.request('POST', '/v1/event-types', { name: 'CustomerCreated' });
    assert.equal(bare.statusCode, 201, bare.body);
    assert.deepEqual(
      { ...(bare.json() as object), createdAt: 0, updatedAt: 0 },
      { name: 'CustomerCreated', description: null, schema: null, example: null, createdAt: 0, updatedAt: 0 },
    );

    const got = await t.request('GET', '/v1/event-types/invoice.created');
    assert.equal(got.statusCode, 200);
    assert.deepEqual(got.json(), et);

    const list = await t.request('GET', '/v1/event-types');
    assert.deepEqual(
      list.json().data.map((x: { name: string }) => x.name),
      ['CustomerCreated', 'invoice.created'],
    );
    assert.equal(list.json().nextCursor, null);

    // PATCH: absent keeps, null clears, values replace.
    const patched = await t.request('PATCH', '/v1/event-types/invoice.created', {
      description: null,
      example: { invoiceId: 'inv_2', amount: 0 },
    });
    assert.equal(patched.statusCode, 200, patched.body);
    assert.equal(patched.json().description, null);
    assert.deepEqual(patched.json().schema, invoiceSchema);
    assert.deepEqual(patched.json().example, { invoiceId: 'inv_2', amount: 0 });
    assert.ok(patched.json().updatedAt > et.updatedAt);

    const cleared = await t.request('PATCH', '/v1/event-types/invoice.created', { schema: null });
    assert.equal(cleared.json().schema, null);
    assert.deepEqual(cleared.json().example, { invoiceId: 'inv_2', amount: 0 });

    assert.equal((await t.request('DELETE', '/v1/event-types/invoice.created')).statusCode, 204);
    for (const [method, body] of [
      ['GET', undefined],
      ['PATCH', { description: 'x' }],
      ['DELETE', undefined],
    ] as const) {
      const gone = await t.request(method, '/v1/event-types/invoice.created', body);
      assert.equal(gone.statusCode, 404, `${method} ${gone.body}`);
      assert.equal(gone.json().error.code, 'EVENT_TYPE_NOT_FOUND');
    }
    assert.equal((await t.request('DELETE', '/v1/event-types/CustomerCreated')).statusCode, 204);
    assert.equal(await count(), 0);
  });

  test('examples of any JSON shape are stored as JSON', async () => {
    for (const [name, example] of [
      ['shape.array', [1, 'two', { three: 3 }]],
      ['shape.string', 'just a string'],
      ['shape.number', 42],
      ['shape.false', false],
    ] as const) {
      const res = await t.request('POST', '/v1/event-types', { name, example });
      assert.equal(res.statusCode, 201, res.body);
      assert.deepEqual((await t.request('GET', `/v1/event-types/${name}`)).json().example, example);
      await t.request('DELETE', `/v1/event-types/${name}`);
    }
    // 1e400 parses to Infinity, which JSON cannot carry: refused rather than stored as null, as
    // every body is (src/api/json-body.ts).
    const huge = await t.request('POST', '/v1/event-types', '{"name":"shape.huge","example":{"n":[1e400]}}');
    assert.equal(huge.statusCode, 400, huge.body);
    assert.equal(huge.json().error.code, 'VALIDATION_FAILED');
    assert.match(huge.json().error.message, /1e400, too large/);
    assert.equal(await count(), 0);
  });

  test('names: the pattern, and odd names in the path', async () => {
    for (const name of [
      'invoice.created',
      'CustomerCreated',
      'ship:delivered',
      'a-b_c.d:e',
      'x'.repeat(128),
    ]) {
      const res = await t.request('POST', '/v1/event-types', { name });
      assert.equal(res.statusCode, 201, `${name}: ${res.body}`);
      const got = await t.request('GET', `/v1/event-types/${encodeURIComponent(name)}`);
      assert.equal(got.statusCode, 200, got.body);
      assert.equal(
        (await t.request('DELETE', `/v1/event-types/${encodeURIComponent(name)}`)).statusCode,
        204,
      );
    }
    for (const name of [
      '',
      'has space',
      'slash/y',
      'é',
      'x'.repeat(129),
      'x'.repeat(500_000),
      5,
      null,
      ['a'],
    ]) {
      const res = await t.request('POST', '/v1/event-types', { name });
      assert.equal(res.statusCode, 400, `${JSON.stringify(name)?.slice(0, 40)}: ${res.body}`);
      assert.equal(res.json().error.code, 'VALIDATION_FAILED');
    }
    for (const path of ['has%20space', '%00', '..', 'x'.repeat(300), '%E2%82%AC']) {
      const res = await t.request('GET', `/v1/event-types/${path}`);
      assert.ok([400, 404].includes(res.statusCode), `${path}: ${res.statusCode}`);
      assert.ok(res.json().error.code);
    }
    assert.equal(await count(), 0);
  });

  test('an invalid schema is refused with INVALID_SCHEMA and writes nothing', async () => {
    let deep: Record<string, unknown> = { type: 'string' };
    for (let i = 0; i < 200; i++) deep = { type: 'object', properties: { a: deep } };
    const bad: unknown[] = [
      { type: 'nope' },
      { properties: 5 },
      { required: 'id' },
      { $ref: 'https://evil.example/schema.json' },
      { properties: { a: { $ref: 'http://169.254.169.254/latest' } } },
      { $ref: '#/definitions/missing' },
      { type: 'string', pattern: '(' },
      { $schema: 'http://json-schema.org/draft-04/schema#' },
      { $async: true, type: 'object' },
      { description: 'x'.repeat(70 * 1024) },
      [],
      [{ type: 'object' }],
      'object',
      42,
      true,
    ];
    for (const schema of bad) {
      const res = await t.request('POST', '/v1/event-types', { name: 'bad.schema', schema });
      const label = JSON.stringify(schema).slice(0, 60);
      assert.equal(res.statusCode, 400, `${label}: ${res.body}`);
      assert.equal(res.json().error.code, 'INVALID_SCHEMA', label);
      assert.ok(res.json().error.details.length > 0, label);
    }
    // Nesting past the API's JSON depth limit is refused before the schema is even looked at.
    const tooDeep = await t.request('POST', '/v1/event-types', { name: 'bad.schema', schema: deep });
    assert.equal(tooDeep.statusCode, 400);
    assert.equal(await count(), 0);

    // The details say where.
    const res = await t.request('POST', '/v1/event-types', {
      name: 'bad.schema',
      schema: { type: 'object', properties: { a: { type: 'nope' } } },
    });
    assert.ok(res.json().error.details.some((d: { path: string }) => d.path === 'schema.properties.a.type'));

    // Newer drafts are accepted when named.
    const modern = await t.request('POST', '/v1/event-types', {
      name: 'modern',
      schema: {
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        $id: 'https://example.com/modern.json',
        type: 'array',
        prefixItems: [{ type: 'string' }],
        items: false,
      },
      example: ['only one'],
    });
    assert.equal(modern.statusCode, 201, modern.body);
    // The same $id in another type does not collide.
    const twin = await t.request('POST', '/v1/event-types', {
      name: 'modern.twin',
      schema: { $id: 'https://example.com/modern.json', type: 'string' },
      example: 'x',
    });
    assert.equal(twin.statusCode, 201, twin.body);
    await t.request('DELETE', '/v1/event-types/modern');
    await t.request('DELETE', '/v1/event-types/modern.twin');
  });

  test('an example must match the schema', async () => {
    const res = await t.request('POST', '/v1/event-types', {
      name: 'invoice.paid',
      schema: invoiceSchema,
      example: { invoiceId: 7, amount: -1 },
    });
    assert.equal(res.statusCode, 400, res.body);
    assert.equal(res.json().error.code, 'DATA_SCHEMA_MISMATCH');
    const paths = res.json().error.details.map((d: { path: string }) => d.path);
    assert.ok(paths.includes('example.invoiceId'), paths.join());
    assert.ok(paths.includes('example.amount'), paths.join());
    assert.equal(await count(), 0);

    const ok = await t.request('POST', '/v1/event-types', {
      name: 'invoice.paid',
      schema: invoiceSchema,
      example: { invoiceId: 'inv_1', amount: 5 },
    });
    assert.equal(ok.statusCode, 201, ok.body);

    // PATCH checks the result as a whole: a new schema must accept the kept example, a new example
    // must match the kept schema. Refusals leave the row as it was.
    const stored = (await t.request('GET', '/v1/event-types/invoice.paid')).json();
    const refusals: Array<[unknown, string]> = [
      [{ schema: { type: 'array' } }, 'DATA_SCHEMA_MISMATCH'],
      [{ example: { invoiceId: 'x' } }, 'DATA_SCHEMA_MISMATCH'],
      [{ schema: { type: 'nope' } }, 'INVALID_SCHEMA'],
      [{ schema: [] }, 'INVALID_SCHEMA'],
      [{ name: 'renamed' }, 'VALIDATION_FAILED'],
      [{ description: 'x'.repeat(5000) }, 'VALIDATION_FAILED'],
      [null, 'VALIDATION_FAILED'],
      [[], 'VALIDATION_FAILED'],
    ];
    for (const [body, code] of refusals) {
      const res = await t.request('PATCH', '/v1/event-types/invoice.paid', body);
      assert.equal(res.statusCode, 400, `${JSON.stringify(body)}: ${res.body}`);
      assert.equal(res.json().error.code, code, JSON.stringify(body));
    }
    assert.deepEqual((await t.request('GET', '/v1/event-types/invoice.paid')).json(), stored);

    // Both together, consistent: accepted.
    const both = await t.request('PATCH', '/v1/event-types/invoice.paid', {
      schema: { type: 'array' },
      example: [],
    });
    assert.equal(both.statusCode, 200, both.body);
    await t.request('DELETE', '/v1/event-types/invoice.paid');
  });

  test('tenant keys read the catalog but cannot write it', async () => {
    await t.request('POST', '/v1/event-types', { name: 'order.shipped', example: { id: 1 } });
    const list = await t.request('GET', '/v1/event-types', undefined, tenantKey);
    assert.equal(list.statusCode, 200, list.body);
    assert.ok(list.json().data.some((x: { name: string }) => x.name === 'order.shipped'));
    assert.equal(
      (await t.request('GET', '/v1/event-types/order.shipped', undefined, tenantKey)).statusCode,
      200,
    );

    for (const [method, url, body] of [
      ['POST', '/v1/event-types', { name: 'tenant.made' }],
      ['PATCH', '/v1/event-types/order.shipped', { description: 'mine' }],
      ['DELETE', '/v1/event-types/order.shipped', undefined],
    ] as const) {
      const res = await t.request(method, url, body, tenantKey);
      assert.equal(res.statusCode, 403, `${method} ${url}: ${res.body}`);
      assert.equal(res.json().error.code, 'FORBIDDEN');
    }
    const anonymous = await t.request('GET', '/v1/event-types', undefined, null);
    assert.equal(anonymous.statusCode, 401);
    const after = (await t.request('GET', '/v1/event-types/order.shipped')).json();
    assert.equal(after.description, null);
    assert.equal(await count(), 1);
    await t.request('DELETE', '/v1/event-types/order.shipped');
  });

  test('pagination in name order', async () => {
    const names = ['b:2', 'a.1', 'C', 'a.2', 'b-1', 'Z', 'a'];
    for (const name of names) await t.request('POST', '/v1/event-types', { name });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await t.request('GET', `/v1/event-types?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(res.statusCode, 200, res.body);
      assert.ok(res.json().data.length <= 3);
      seen.push(...res.json().data.map((x: { name: string }) => x.name));
      cursor = res.json().nextCursor;
    } while (cursor);
    // Bytewise order, the same on every storage and locale.
    assert.deepEqual(seen, [...names].sort());
    for (const bad of ['%%%', 'bm9wZSBub3Bl', Buffer.from('a b').toString('base64url')]) {
      const res = await t.request('GET', `/v1/event-types?cursor=${bad}`);
      assert.equal(res.statusCode, 400, bad);
      assert.equal(res.json().error.code, 'INVALID_CURSOR');
    }
    for (const name of names) await t.request('DELETE', `/v1/event-types/${name}`);
  });

  test('validateEventData follows schema changes', async () => {
    await t.request('POST', '/v1/event-types', { name: 'user.signed_up', schema: { type: 'object' } });
    const v1 = await getEventType(t.ctx.db, 'user.signed_up');
    validateEventData(v1, { any: 'thing' });
    assert.throws(
      () => validateEventData(v1, 'not an object'),
      (err: unknown) =>
        err instanceof HeraldError && err.code === 'DATA_SCHEMA_MISMATCH' && err.details[0]?.path === 'data',
    );
    const cached = cachedValidatorCount();
    validateEventData(v1, {});
    assert.equal(cachedValidatorCount(), cached, 'compiled once per version');

    // Two quick updates still give two versions: updatedAt moves on every update.
    await t.request('PATCH', '/v1/event-types/user.signed_up', { schema: { type: 'string' } });
    const v2 = await getEventType(t.ctx.db, 'user.signed_up');
    await t.request('PATCH', '/v1/event-types/user.signed_up', { schema: { required: ['email'] } });
    const v3 = await getEventType(t.ctx.db, 'user.signed_up');
    assert.notEqual(v2.updatedAt, v1.updatedAt);
    assert.notEqual(v3.updatedAt, v2.updatedAt);
    validateEventData(v2, 'now a string');
    assert.throws(() => validateEventData(v2, {}), HeraldError);
    assert.throws(
      () => validateEventData(v3, { name: 'x' }, 'events.2.data'),
      (err: unknown) => err instanceof HeraldError && err.details[0]?.path === 'events.2.data.email',
    );
    validateEventData({ ...v3, schema: null }, 'anything without a schema');
    await t.request('DELETE', '/v1/event-types/user.signed_up');
  });
});
