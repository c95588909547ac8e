import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { makeTestApp, type TestApp } from '../support/app.ts';
import { forEachStorage } from '../support/storage.ts';

const STANDARD_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

/** Every endpoint row of a tenant, as stored: what "nothing was written" is checked against. */
async function rowsOf(t: TestApp, tenantId: string): Promise<string> {
  const rows = await t.ctx.db.query('SELECT * FROM endpoints WHERE tenant_id = $1 ORDER BY id', [tenantId]);
  return JSON.stringify(rows);
}

forEachStorage('endpoints', (kind) => {
  let t: TestApp;
  let keyA: string;
  let keyB: string;
  const base = (tid: string) => `/v1/tenants/${tid}/endpoints`;

  before(async () => {
    t = await makeTestApp(kind);
    for (const id of ['acme', 'other', 'valid', 'limits']) {
      const res = await t.request('POST', '/v1/tenants', { id, name: id });
      assert.equal(res.statusCode, 201, res.body);
    }
    keyA = await t.tenantKey('acme');
    keyB = await t.tenantKey('other');
  });
  after(() => t.close());

  test('create with every field and read it back', async () => {
    const body = {
      url: 'https://example.com/hooks/herald',
      name: 'Invoices',
      description: 'All invoice events',
      eventTypes: ['invoice.*', 'customer.created'],
      active: false,
      secret: STANDARD_SECRET,
      headers: { 'X-Tenant': 'acme', 'x-trace': 'a b\tc' },
      profile: 'standard',
      profileOptions: {},
      auth: { type: 'bearer', token: 'tok_secret_123' },
      retrySchedule: [10, 60],
      timeouts: { connectMs: 1000, totalMs: 5000 },
      rateLimit: { perSecond: 20 },
      ordering: 'fifo',
      filter: { 'data.amount': { $gte: 100 } },
      ignoreOrigins: ['import', 'import', 'sync'],
      metadata: { team: 'billing', n: 1 },
      forwardTraceparent: true,
    };
    const created = await t.request('POST', base('acme'), body);
    assert.equal(created.statusCode, 201, created.body);
    const ep = created.json();
    assert.match(ep.id, /^ep_[0-9A-Z]{26}$/);
    assert.equal(ep.secret, STANDARD_SECRET);
    const expected = {
      id: ep.id,
      tenantId: 'acme',
      url: 'https://example.com/hooks/herald',
      name: 'Invoices',
      description: 'All invoice events',
      eventTypes: ['invoice.*', 'customer.created'],
      active: false,
      headers: { 'X-Tenant': 'acme', 'x-trace': 'a b\tc' },
      profile: 'standard',
      profileOptions: {},
      auth: { type: 'bearer' },
      signatureScheme: 'hmac-sha256',
      publicKey: null,
      retrySchedule: [10, 60],
      timeouts: { connectMs: 1000, totalMs: 5000 },
      rateLimit: { perSecond: 20 },
      ordering: 'fifo',
      filter: { 'data.amount': { $gte: 100 } },
      ignoreOrigins: ['import', 'sync'],
      metadata: { team: 'billing', n: 1 },
      forwardTraceparent: true,
      disabledReason: null,
      disabledAt: null,
      health: {
        circuit: 'closed',
        circuitReason: null,
        circuitOpenedAt: null,
        circuitUntil: null,
        consecutiveFailures: 0,
        concurrencyLimit: 8,
      },
      createdAt: ep.createdAt,
      updatedAt: ep.updatedAt,
    };
    assert.deepEqual(ep, { ...expected, secret: STANDARD_SECRET });
    assert.ok(!Number.isNaN(Date.parse(ep.createdAt)));

    const got = await t.request('GET', `${base('acme')}/${ep.id}`);
    assert.equal(got.statusCode, 200, got.body);
    assert.deepEqual(got.json(), expected);
    assert.ok(!got.body.includes('tok_secret_123'));

    // Secrets and auth are sealed at rest.
    const [row] = await t.ctx.db.query<{ secret_enc: string; auth_enc: string; auth_type: string }>(
      'SELECT secret_enc, auth_enc, auth_type FROM endpoints WHERE id = $1',
      [ep.id],
    );
    assert.ok(row);
    assert.ok(!row.secret_enc.includes(STANDARD_SECRET));
    assert.ok(!row.secret_enc.includes(STANDARD_SECRET.slice(6)));
    assert.ok(!row.auth_enc.includes('tok_secret_123'));
    assert.equal(row.auth_type, 'bearer');
    assert.equal(t.ctx.secretBox.open(row.secret_enc), STANDARD_SECRET);
    assert.deepEqual(JSON.parse(t.ctx.secretBox.open(row.auth_enc)), {
      type: 'bearer',
      token: 'tok_secret_123',
    });
  });

  test('defaults, a generated secret and GET …/secret', async () => {
    const created = await t.request('POST', base('acme'), { url: 'https://example.com/defaults' });
    assert.equal(created.statusCode, 201, created.body);
    const ep = created.json();
    assert.match(ep.secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
    assert.equal(Buffer.from(ep.secret.slice(6), 'base64').length, 32);
    assert.equal(ep.active, true);
    assert.deepEqual(ep.eventTypes, ['*']);
    assert.equal(ep.profile, 'standard');
    assert.equal(ep.ordering, 'none');
    for (const field of ['name', 'description', 'auth', 'retrySchedule', 'timeouts', 'rateLimit', 'filter']) {
      assert.equal(ep[field], null, field);
    }
    assert.deepEqual([ep.headers, ep.profileOptions, ep.metadata, ep.ignoreOrigins], [{}, {}, {}, []]);

    const secret = await t.request('GET', `${base('acme')}/${ep.id}/secret`);
    assert.equal(secret.statusCode, 200, secret.body);
    assert.deepEqual(secret.json(), { secret: ep.secret });

    const second = await t.request('POST', base('acme'), { url: 'https://example.com/defaults' });
    assert.notEqual(second.json().secret, ep.secret);

    const [row] = await t.ctx.db.query<{ secret_enc: string }>(
      'SELECT secret_enc FROM endpoints WHERE id = $1',
      [ep.id],
    );
    assert.ok(row && !row.secret_enc.includes(ep.secret.slice(6, 30)));
  });

  test('eventTypes as a comma-separated string, and the URL normalised', async () => {
    const res = await t.request('POST', base('acme'), {
      url: 'HTTPS://Example.COM:443/a/../shipstream',
      eventTypes: ' order.created, shipment:delivered ,,order.created',
    });
    assert.equal(res.statusCode, 201, res.body);
    assert.deepEqual(res.json().eventTypes, ['order.created', 'shipment:delivered']);
    assert.equal(res.json().url, 'https://example.com/shipstream');
    const all = await t.request('POST', base('acme'), {
      url: 'https://example.com/all',
      eventTypes: ['a.*', '*'],
    });
    assert.deepEqual(all.json().eventTypes, ['*']);
  });

  test('list, ?url= and pagination; no secrets in lists', async () => {
    const tid = 'valid';
    const ids: string[] = [];
    for (const url of ['https://a.example/1', 'https://a.example/2', 'https://a.example/1']) {
      const res = await t.request('POST', base(tid), {
        url,
        auth: { type: 'basic', username: 'u', password: 'pw-1' },
      });
      assert.equal(res.statusCode, 201, res.body);
      ids.push(res.json().id);
    }
    const list = await t.request('GET', base(tid));
    assert.equal(list.statusCode, 200, list.body);
    assert.deepEqual(
      list.json().data.map((e: { id: string }) => e.id),
      [...ids].reverse(),
    );
    assert.equal(list.json().nextCursor, null);
    for (const e of list.json().data) {
      assert.equal('secret' in e, false);
      assert.deepEqual(e.auth, { type: 'basic', username: 'u' });
    }
    assert.ok(!list.body.includes('whsec_'));
    assert.ok(!list.body.includes('pw-1'));

    const byUrl = await t.request('GET', `${base(tid)}?url=${encodeURIComponent('https://a.example/1')}`);
    assert.deepEqual(
      byUrl.json().data.map((e: { id: string }) => e.id),
      [ids[2], ids[0]],
    );
    const none = await t.request('GET', `${base(tid)}?url=${encodeURIComponent('https://nowhere.example/')}`);
    assert.deepEqual(none.json(), { data: [], nextCursor: null });

    const p1 = await t.request('GET', `${base(tid)}?limit=2`);
    assert.equal(p1.json().data.length, 2);
    assert.ok(p1.json().nextCursor);
    const p2 = await t.request('GET', `${base(tid)}?limit=2&cursor=${p1.json().nextCursor}`);
    assert.deepEqual(
      p2.json().data.map((e: { id: string }) => e.id),
      [ids[0]],
    );
    assert.equal(p2.json().nextCursor, null);

    const badCursor = await t.request('GET', `${base(tid)}?cursor=%%%`);
    assert.equal(badCursor.statusCode, 400);
    assert.equal(badCursor.json().error.code, 'INVALID_CURSOR');
    const missing = await t.request('GET', base('no-such-tenant'));
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().error.code, 'TENANT_NOT_FOUND');
  });

  test('patch every field, null clears, active re-enables a disabled endpoint', async () => {
    const ep = (
      await t.request('POST', base('acme'), {
        url: 'https://example.com/patch',
        name: 'before',
        auth: { type: 'bearer', token: 't1' },
        filter: { type: 'invoice.paid' },
      })
    ).json();
    const patch = {
      url: 'https://example.com/patched',
      name: 'after',
      description: 'd',
      eventTypes: 'invoice.paid',
      active: false,
      headers: { 'X-One': '1' },
      profile: 'courier-invoice',
      profileOptions: { accountNumber: 'ACC-42' },
      auth: {
        type: 'oauth2',
        tokenUrl: 'https://auth.example/token',
        clientId: 'cid',
        clientSecret: 'cs',
        scope: 'hooks',
      },
      retrySchedule: [1],
      timeouts: { connectMs: 100, totalMs: 200 },
      rateLimit: { perSecond: 5 },
      ordering: 'fifo',
      filter: null,
      ignoreOrigins: ['x'],
      metadata: { v: 2 },
    };
    const res = await t.request('PATCH', `${base('acme')}/${ep.id}`, patch);
    assert.equal(res.statusCode, 200, res.body);
    const p = res.json();
    assert.equal(p.url, patch.url);
    assert.equal(p.name, 'after');
    assert.equal(p.description, 'd');
    assert.deepEqual(p.eventTypes, ['invoice.paid']);
    assert.equal(p.active, false);
    assert.deepEqual(p.headers, { 'X-One': '1' });
    assert.equal(p.profile, 'courier-invoice');
    assert.deepEqual(p.profileOptions, { accountNumber: 'ACC-42' });
    assert.deepEqual(p.auth, {
      type: 'oauth2',
      tokenUrl: 'https://auth.example/token',
      clientId: 'cid',
      scope: 'hooks',
    });
    assert.deepEqual([p.retrySchedule, p.timeouts, p.rateLimit], [[1], patch.timeouts, patch.rateLimit]);
    assert.equal(p.ordering, 'fifo');
    assert.equal(p.filter, null);
    assert.deepEqual([p.ignoreOrigins, p.metadata], [['x'], { v: 2 }]);
    assert.ok(p.updatedAt >= ep.updatedAt);
    assert.ok(!res.body.includes('"cs"'));

    const cleared = await t.request('PATCH', `${base('acme')}/${ep.id}`, {
      name: null,
      description: null,
      eventTypes: null,
      auth: null,
      retrySchedule: null,
      timeouts: null,
      rateLimit: null,
    });
    assert.equal(cleared.statusCode, 200, cleared.body);
    const c = cleared.json();
    assert.deepEqual(
      [c.name, c.description, c.eventTypes, c.auth, c.retrySchedule, c.timeouts, c.rateLimit],
      [null, null, ['*'], null, null, null, null],
    );
    const [row] = await t.ctx.db.query<{ auth_enc: string | null; auth_type: string | null }>(
      'SELECT auth_enc, auth_type FROM endpoints WHERE id = $1',
      [ep.id],
    );
    assert.deepEqual(row, { auth_enc: null, auth_type: null });

    const empty = await t.request('PATCH', `${base('acme')}/${ep.id}`, {});
    assert.equal(empty.statusCode, 200);
    assert.deepEqual(empty.json(), c);

    // As the auto-disable job leaves it.
    await t.ctx.db.query(
      `UPDATE endpoints SET active = false, disabled_reason = 'failing continuously for more than 5d',
         disabled_at = now(), failing_since = now() - interval '6 days' WHERE id = $1`,
      [ep.id],
    );
    const disabled = (await t.request('GET', `${base('acme')}/${ep.id}`)).json();
    assert.equal(disabled.disabledReason, 'failing continuously for more than 5d');
    assert.ok(disabled.disabledAt);
    const enabled = await t.request('PATCH', `${base('acme')}/${ep.id}`, { active: true });
    assert.equal(enabled.statusCode, 200, enabled.body);
    assert.deepEqual(
      [enabled.json().active, enabled.json().disabledReason, enabled.json().disabledAt],
      [true, null, null],
    );
    const [state] = await t.ctx.db.query<{ failing_since: Date | null }>(
      'SELECT failing_since FROM endpoints WHERE id = $1',
      [ep.id],
    );
    assert.equal(state?.failing_since, null);

    // active: true on an endpoint that is active keeps its failure clock running.
    await t.ctx.db.query(`UPDATE endpoints SET failing_since = now() WHERE id = $1`, [ep.id]);
    await t.request('PATCH', `${base('acme')}/${ep.id}`, { active: true });
    const [still] = await t.ctx.db.query<{ failing_since: Date | null }>(
      'SELECT failing_since FROM endpoints WHERE id = $1',
      [ep.id],
    );
    assert.ok(still?.failing_since);
  });

  test('delete one, and delete by URL', async () => {
    const mk = async (url: string) => (await t.request('POST', base('acme'), { url })).json().id as string;
    const one = await mk('https://del.example/one');
    assert.equal((await t.request('DELETE', `${base('acme')}/${one}`)).statusCode, 204);
    const gone = await t.request('GET', `${base('acme')}/${one}`);
    assert.equal(gone.statusCode, 404);
    assert.equal(gone.json().error.code, 'ENDPOINT_NOT_FOUND');
    const again = await t.request('DELETE', `${base('acme')}/${one}`);
    assert.equal(again.json().error.code, 'ENDPOINT_NOT_FOUND');

    const a = await mk('https://del.example/shared');
    const b = await mk('https://del.example/shared');
    const keep = await mk('https://del.example/keep');
    const otherTenants = (
      await t.request('POST', base('other'), { url: 'https://del.example/shared' })
    ).json().id;
    const res = await t.request(
      'DELETE',
      `${base('acme')}?url=${encodeURIComponent('HTTPS://DEL.example/shared')}`,
    );
    assert.equal(res.statusCode, 204, res.body);
    for (const id of [a, b]) assert.equal((await t.request('GET', `${base('acme')}/${id}`)).statusCode, 404);
    assert.equal((await t.request('GET', `${base('acme')}/${keep}`)).statusCode, 200);
    assert.equal((await t.request('GET', `${base('other')}/${otherTenants}`)).statusCode, 200);

    const none = await t.request(
      'DELETE',
      `${base('acme')}?url=${encodeURIComponent('https://del.example/shared')}`,
    );
    assert.equal(none.statusCode, 404);
    assert.equal(none.json().error.code, 'ENDPOINT_NOT_FOUND');
    const noUrl = await t.request('DELETE', base('acme'));
    assert.equal(noUrl.statusCode, 400);
    assert.equal(noUrl.json().error.code, 'VALIDATION_FAILED');
    assert.equal((await t.request('GET', `${base('acme')}/${keep}`)).statusCode, 200);
  });

  test('creating refuses bad input with its code and writes nothing', async () => {
    const url = 'https://example.com/hook';
    const deep = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;
    const manyHeaders = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`x-h${i}`, 'v']));
    const cases: Array<[string, unknown, string, string?]> = [
      ['no url', {}, 'VALIDATION_FAILED'],
      ['url null', { url: null }, 'VALIDATION_FAILED'],
      ['url number', { url: 5 }, 'VALIDATION_FAILED'],
      ['ftp', { url: 'ftp://example.com/x' }, 'INVALID_URL'],
      ['javascript', { url: 'javascript:alert(1)' }, 'INVALID_URL'],
      ['relative', { url: '/hooks' }, 'INVALID_URL'],
      ['unparseable', { url: 'http://exa mple.com' }, 'INVALID_URL'],
      ['newline', { url: 'http://exa\nmple.com/' }, 'INVALID_URL'],
      ['credentials', { url: 'https://user:pass@example.com/' }, 'INVALID_URL'],
      ['url > 2048 bytes', { url: `https://example.com/${'é'.repeat(1100)}` }, 'INVALID_URL'],
      ['url > 2048 chars', { url: `https://example.com/${'a'.repeat(2100)}` }, 'VALIDATION_FAILED'],
      ['name empty', { url, name: '' }, 'VALIDATION_FAILED'],
      ['name long', { url, name: 'n'.repeat(257) }, 'VALIDATION_FAILED'],
      ['name NUL', { url, name: 'a\u0000b' }, 'VALIDATION_FAILED'],
      ['eventTypes []', { url, eventTypes: [] }, 'VALIDATION_FAILED'],
      ['eventTypes ""', { url, eventTypes: ' , ' }, 'VALIDATION_FAILED'],
      ['eventTypes space', { url, eventTypes: ['invoice created'] }, 'VALIDATION_FAILED'],
      ['eventTypes inner *', { url, eventTypes: ['in*voice'] }, 'VALIDATION_FAILED'],
      ['eventTypes string space', { url, eventTypes: 'a,b c' }, 'VALIDATION_FAILED'],
      ['eventTypes number', { url, eventTypes: [5] }, 'VALIDATION_FAILED'],
      ['eventTypes object', { url, eventTypes: {} }, 'VALIDATION_FAILED'],
      ['eventTypes too long', { url, eventTypes: ['a'.repeat(129)] }, 'VALIDATION_FAILED'],
      ['eventTypes unicode', { url, eventTypes: ['facture.créée'] }, 'VALIDATION_FAILED'],
      ['active string', { url, active: 'true' }, 'VALIDATION_FAILED'],
      ['secret short', { url, secret: 'short' }, 'VALIDATION_FAILED'],
      ['secret long', { url, secret: 's'.repeat(257) }, 'VALIDATION_FAILED'],
      ['secret space', { url, profile: 'altoviz', secret: 'has a space' }, 'VALIDATION_FAILED'],
      ['secret not base64', { url, secret: 'not-base64-at-all!' }, 'VALIDATION_FAILED'],
      ['secret key too short', { url, secret: 'whsec_AAAAAAAA' }, 'VALIDATION_FAILED'],
      ['headers CRLF', { url, headers: { 'X-A': 'a\r\nInjected: 1' } }, 'INVALID_HEADERS', 'headers.X-A'],
      ['headers NUL', { url, headers: { 'X-A': 'a\u0000' } }, 'INVALID_HEADERS', 'headers.X-A'],
      ['headers bad name', { url, headers: { 'bad name': 'x' } }, 'INVALID_HEADERS', 'headers.bad name'],
      ['headers CR name', { url, headers: { 'X-A\r\n': 'x' } }, 'INVALID_HEADERS'],
      ['headers empty name', { url, headers: { '': 'x' } }, 'INVALID_HEADERS'],
      [
        'headers owned',
        { url, headers: { 'Webhook-Signature': 'v1,x' } },
        'INVALID_HEADERS',
        'headers.Webhook-Signature',
      ],
      ['headers herald-', { url, headers: { 'herald-x': 'x' } }, 'INVALID_HEADERS'],
      ['headers framing', { url, headers: { 'Content-Length': '5' } }, 'INVALID_HEADERS'],
      ['headers host', { url, headers: { Host: 'evil' } }, 'INVALID_HEADERS'],
      // Headers the HTTP client refuses or owns: accepted, they failed every attempt (issue 16).
      ['headers expect', { url, headers: { Expect: '100-continue' } }, 'INVALID_HEADERS', 'headers.Expect'],
      ['headers upgrade', { url, headers: { Upgrade: 'websocket' } }, 'INVALID_HEADERS', 'headers.Upgrade'],
      ['headers keep-alive', { url, headers: { 'Keep-Alive': 'timeout=5' } }, 'INVALID_HEADERS'],
      ['headers te', { url, headers: { TE: 'trailers' } }, 'INVALID_HEADERS'],
      [
        'headers profile-owned',
        { url, profile: 'altoviz', headers: { 'X-Signature': 'x' } },
        'INVALID_HEADERS',
        'headers.X-Signature',
      ],
      [
        'headers auth clash',
        { url, auth: { type: 'bearer', token: 't' }, headers: { Authorization: 'x' } },
        'INVALID_HEADERS',
      ],
      ['headers twice', { url, headers: { 'x-a': '1', 'X-A': '2' } }, 'INVALID_HEADERS'],
      ['headers > 50', { url, headers: manyHeaders }, 'INVALID_HEADERS'],
      ['headers value long', { url, headers: { 'x-a': 'v'.repeat(4097) } }, 'INVALID_HEADERS'],
      ['headers value unicode', { url, headers: { 'x-a': '€' } }, 'INVALID_HEADERS'],
      ['headers number', { url, headers: { 'x-a': 1 } }, 'VALIDATION_FAILED'],
      ['headers array', { url, headers: ['x'] }, 'VALIDATION_FAILED'],
      ['headers null', { url, headers: null }, 'VALIDATION_FAILED'],
      ['profile unknown', { url, profile: 'nope' }, 'UNKNOWN_PROFILE'],
      ['profile number', { url, profile: 1 }, 'VALIDATION_FAILED'],
      ['courier without account', { url, profile: 'courier-invoice' }, 'VALIDATION_FAILED'],
      [
        'courier account number',
        { url, profile: 'courier-invoice', profileOptions: { accountNumber: 5 } },
        'VALIDATION_FAILED',
      ],
      ['unknown option', { url, profileOptions: { accountNumber: 'x' } }, 'VALIDATION_FAILED'],
      ['profileOptions array', { url, profileOptions: [] }, 'VALIDATION_FAILED'],
      ['corrigopro without auth', { url, profile: 'corrigopro' }, 'VALIDATION_FAILED'],
      [
        'corrigopro basic auth',
        { url, profile: 'corrigopro', auth: { type: 'basic', username: 'u', password: 'p' } },
        'VALIDATION_FAILED',
      ],
      ['auth no token', { url, auth: { type: 'bearer' } }, 'VALIDATION_FAILED'],
      ['auth unknown type', { url, auth: { type: 'digest', token: 'x' } }, 'VALIDATION_FAILED'],
      ['auth extra', { url, auth: { type: 'bearer', token: 'x', extra: 1 } }, 'VALIDATION_FAILED'],
      ['auth token newline', { url, auth: { type: 'bearer', token: 'a\nb' } }, 'VALIDATION_FAILED'],
      [
        'auth basic colon',
        { url, auth: { type: 'basic', username: 'a:b', password: 'p' } },
        'VALIDATION_FAILED',
      ],
      [
        'auth oauth2 tokenUrl',
        { url, auth: { type: 'oauth2', tokenUrl: 'ftp://x/token', clientId: 'c', clientSecret: 's' } },
        'INVALID_URL',
        'auth.tokenUrl',
      ],
      [
        'auth oauth2 missing',
        { url, auth: { type: 'oauth2', tokenUrl: 'https://x/token' } },
        'VALIDATION_FAILED',
      ],
      ['auth string', { url, auth: 'Bearer x' }, 'VALIDATION_FAILED'],
      ['retry negative', { url, retrySchedule: [-1] }, 'VALIDATION_FAILED'],
      ['retry too long a delay', { url, retrySchedule: [604801] }, 'VALIDATION_FAILED'],
      ['retry fraction', { url, retrySchedule: [1.5] }, 'VALIDATION_FAILED'],
      ['retry string', { url, retrySchedule: ['5'] }, 'VALIDATION_FAILED'],
      ['retry > 100', { url, retrySchedule: Array.from({ length: 101 }, () => 1) }, 'VALIDATION_FAILED'],
      ['timeouts zero', { url, timeouts: { connectMs: 0, totalMs: 5 } }, 'VALIDATION_FAILED'],
      [
        'timeouts over 60 s',
        { url, timeouts: { connectMs: 1, totalMs: 60_001 } },
        'VALIDATION_FAILED',
        'body.timeouts.totalMs',
      ],
      [
        'timeouts once allowed',
        { url, timeouts: { connectMs: 1, totalMs: 300_000 } },
        'VALIDATION_FAILED',
        'body.timeouts.totalMs',
      ],
      ['timeouts partial', { url, timeouts: { connectMs: 100 } }, 'VALIDATION_FAILED'],
      [
        'timeouts connect > total',
        { url, timeouts: { connectMs: 5000, totalMs: 1000 } },
        'VALIDATION_FAILED',
      ],
      ['rateLimit zero', { url, rateLimit: { perSecond: 0 } }, 'VALIDATION_FAILED'],
      ['rateLimit number', { url, rateLimit: 5 }, 'VALIDATION_FAILED'],
      ['ordering', { url, ordering: 'lifo' }, 'VALIDATION_FAILED'],
      ['filter bad path', { url, filter: { nope: 1 } }, 'INVALID_FILTER'],
      ['filter bad operator', { url, filter: { 'data.a': { $regex: 'x' } } }, 'INVALID_FILTER'],
      ['filter array', { url, filter: [] }, 'VALIDATION_FAILED'],
      ['filter string', { url, filter: 'x' }, 'VALIDATION_FAILED'],
      ['ignoreOrigins long', { url, ignoreOrigins: ['o'.repeat(129)] }, 'VALIDATION_FAILED'],
      [
        'ignoreOrigins many',
        { url, ignoreOrigins: Array.from({ length: 51 }, (_, i) => `o${i}`) },
        'VALIDATION_FAILED',
      ],
      ['ignoreOrigins string', { url, ignoreOrigins: 'x' }, 'VALIDATION_FAILED'],
      ['metadata array', { url, metadata: [] }, 'VALIDATION_FAILED'],
      ['metadata NUL', { url, metadata: { a: '\u0000' } }, 'VALIDATION_FAILED'],
      ['unknown field', { url, colour: 'blue' }, 'VALIDATION_FAILED'],
      ['metadata deep', `{"url":"${url}","metadata":${deep(100_000)}}`, 'VALIDATION_FAILED'],
      ['filter deep', `{"url":"${url}","filter":{"data.a":${deep(100_000)}}}`, 'VALIDATION_FAILED'],
      ['profileOptions deep', `{"url":"${url}","profileOptions":{"x":${deep(40)}}}`, 'VALIDATION_FAILED'],
      ['body null', 'null', 'VALIDATION_FAILED'],
      ['body array', '[]', 'VALIDATION_FAILED'],
      ['body string', '"x"', 'VALIDATION_FAILED'],
      ['bad JSON', '{"url": ', 'INVALID_JSON'],
    ];
    const before = await rowsOf(t, 'valid');
    for (const [label, body, code, path] of cases) {
      const res = await t.request('POST', base('valid'), body);
      assert.equal(res.statusCode, 400, `${label}: ${res.body}`);
      const error = res.json().error;
      assert.equal(error.code, code, `${label}: ${res.body}`);
      if (path)
        assert.ok(
          error.details.some((d: { path?: string }) => d.path === path),
          `${label}: ${res.body}`,
        );
    }
    assert.equal(await rowsOf(t, 'valid'), before);

    const noTenant = await t.request('POST', base('no-such-tenant'), { url });
    assert.equal(noTenant.statusCode, 404);
    assert.equal(noTenant.json().error.code, 'TENANT_NOT_FOUND');
  });

  test('an attempt may take at most 60 s: totalMs 60,000 is taken, 60,001 refused on create and patch', async () => {
    assert.equal((await t.request('POST', '/v1/tenants', { id: 'budget', name: 'budget' })).statusCode, 201);
    const url = 'https://example.com/hooks/budget';
    const res = await t.request('POST', base('budget'), {
      url,
      timeouts: { connectMs: 60_000, totalMs: 60_000 },
    });
    assert.equal(res.statusCode, 201, res.body);
    assert.deepEqual(res.json().timeouts, { connectMs: 60_000, totalMs: 60_000 });
    const id = res.json().id;
    const over = await t.request('PATCH', `${base('budget')}/${id}`, {
      timeouts: { connectMs: 1_000, totalMs: 60_001 },
    });
    assert.equal(over.statusCode, 400, over.body);
    assert.equal(over.json().error.code, 'VALIDATION_FAILED');
    assert.ok(over.json().error.details.some((d: { path?: string }) => d.path === 'body.timeouts.totalMs'));
    const stored = await t.request('GET', `${base('budget')}/${id}`);
    assert.deepEqual(stored.json().timeouts, { connectMs: 60_000, totalMs: 60_000 }, 'unchanged');
    // The API documents the limit.
    const text = (await t.request('GET', '/openapi.json')).body;
    assert.ok(text.includes('at most 60000 ms') && !text.includes('300000'), 'openapi.json shows 60 s');
  });

  test('profiles: courier needs its account number, corrigopro its bearer token', async () => {
    const courier = await t.request('POST', base('acme'), {
      url: 'https://courier.example/hook',
      profile: 'courier-invoice',
      secret: 'my private api key',
      profileOptions: { accountNumber: 'A-1001' },
    });
    // A space is not printable-without-spaces: refused, even for courier.
    assert.equal(courier.statusCode, 400);
    const ok = await t.request('POST', base('acme'), {
      url: 'https://courier.example/hook',
      profile: 'courier-invoice',
      secret: 'my-private-api-key',
      profileOptions: { accountNumber: 'A-1001' },
      headers: { 'X-Signature': 'allowed-here' },
    });
    assert.equal(ok.statusCode, 201, ok.body);
    assert.equal(ok.json().secret, 'my-private-api-key');
    const corrigo = await t.request('POST', base('acme'), {
      url: 'https://corrigo.example/hook',
      profile: 'corrigopro',
      auth: { type: 'bearer', token: 'H4sIAAAEAG2MQQr' },
    });
    assert.equal(corrigo.statusCode, 201, corrigo.body);
    assert.deepEqual(corrigo.json().auth, { type: 'bearer' });
  });

  test('patching refuses bad input with its code and changes nothing', async () => {
    const courier = (
      await t.request('POST', base('valid'), {
        url: 'https://courier.example/p',
        profile: 'courier-invoice',
        secret: 'not-base64-key!',
        profileOptions: { accountNumber: 'A-1' },
        headers: { 'X-Signature': 'x' },
      })
    ).json();
    const std = (
      await t.request('POST', base('valid'), {
        url: 'https://std.example/p',
        auth: { type: 'bearer', token: 't' },
      })
    ).json();
    const cases: Array<[string, string, unknown, string]> = [
      ['secret', std.id, { secret: STANDARD_SECRET }, 'VALIDATION_FAILED'],
      ['url', std.id, { url: 'ftp://x/' }, 'INVALID_URL'],
      ['url null', std.id, { url: null }, 'VALIDATION_FAILED'],
      ['header', std.id, { headers: { 'webhook-id': 'x' } }, 'INVALID_HEADERS'],
      ['header vs auth', std.id, { headers: { authorization: 'x' } }, 'INVALID_HEADERS'],
      ['profile unknown', std.id, { profile: 'nope' }, 'UNKNOWN_PROFILE'],
      ['courier without account', std.id, { profile: 'courier-invoice' }, 'VALIDATION_FAILED'],
      [
        'corrigopro basic',
        std.id,
        { profile: 'corrigopro', auth: { type: 'basic', username: 'u', password: 'p' } },
        'VALIDATION_FAILED',
      ],
      ['owned by the new profile', courier.id, { profile: 'altoviz', profileOptions: {} }, 'INVALID_HEADERS'],
      [
        'options of the old profile',
        courier.id,
        { profile: 'invoiceahoy', headers: {} },
        'VALIDATION_FAILED',
      ],
      [
        'secret unfit for standard',
        courier.id,
        { profile: 'standard', profileOptions: {}, headers: {} },
        'VALIDATION_FAILED',
      ],
      ['drop required option', courier.id, { profileOptions: {} }, 'VALIDATION_FAILED'],
      ['filter', std.id, { filter: { $where: 'x' } }, 'INVALID_FILTER'],
      ['active null', std.id, { active: null }, 'VALIDATION_FAILED'],
      ['eventTypes', std.id, { eventTypes: ['a b'] }, 'VALIDATION_FAILED'],
      ['unknown field', std.id, { id: 'ep_x' }, 'VALIDATION_FAILED'],
      ['body array', std.id, '[]', 'VALIDATION_FAILED'],
    ];
    const before = await rowsOf(t, 'valid');
    for (const [label, id, body, code] of cases) {
      const res = await t.request('PATCH', `${base('valid')}/${id}`, body);
      assert.equal(res.statusCode, 400, `${label}: ${res.body}`);
      assert.equal(res.json().error.code, code, `${label}: ${res.body}`);
    }
    assert.equal(await rowsOf(t, 'valid'), before);

    const missing = await t.request('PATCH', `${base('valid')}/ep_missing`, { name: 'x' });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().error.code, 'ENDPOINT_NOT_FOUND');
  });

  test('a tenant may have at most maxEndpointsPerTenant endpoints', async () => {
    const saved = t.ctx.config.maxEndpointsPerTenant;
    t.ctx.config.maxEndpointsPerTenant = 2;
    try {
      for (let i = 0; i < 2; i++) {
        const ok = await t.request('POST', base('limits'), { url: `https://limit.example/${i}` });
        assert.equal(ok.statusCode, 201, ok.body);
      }
      const before = await rowsOf(t, 'limits');
      const over = await t.request('POST', base('limits'), { url: 'https://limit.example/3' });
      assert.equal(over.statusCode, 422, over.body);
      assert.equal(over.json().error.code, 'LIMIT_EXCEEDED');
      assert.equal(await rowsOf(t, 'limits'), before);
    } finally {
      t.ctx.config.maxEndpointsPerTenant = saved;
    }
  });

  test("a tenant key reaches its own endpoints and never another tenant's", async () => {
    const own = await t.request('POST', base('acme'), { url: 'https://acme.example/own' }, keyA);
    assert.equal(own.statusCode, 201, own.body);
    const id = own.json().id;
    assert.equal((await t.request('GET', `${base('acme')}/${id}/secret`, undefined, keyA)).statusCode, 200);
    assert.equal((await t.request('GET', base('acme'), undefined, keyA)).statusCode, 200);

    const before = await rowsOf(t, 'acme');
    const attempts: Array<[string, string, unknown, string]> = [
      // Through B's own tenant path: the endpoint is not B's, so it does not exist.
      ['GET', `${base('other')}/${id}`, undefined, 'ENDPOINT_NOT_FOUND'],
      ['GET', `${base('other')}/${id}/secret`, undefined, 'ENDPOINT_NOT_FOUND'],
      ['PATCH', `${base('other')}/${id}`, { name: 'hijacked', active: false }, 'ENDPOINT_NOT_FOUND'],
      ['DELETE', `${base('other')}/${id}`, undefined, 'ENDPOINT_NOT_FOUND'],
      [
        'DELETE',
        `${base('other')}?url=${encodeURIComponent('https://acme.example/own')}`,
        undefined,
        'ENDPOINT_NOT_FOUND',
      ],
      // Through A's path: the whole tenant is invisible to B.
      ['GET', `${base('acme')}/${id}`, undefined, 'TENANT_NOT_FOUND'],
      ['GET', `${base('acme')}/${id}/secret`, undefined, 'TENANT_NOT_FOUND'],
      ['GET', base('acme'), undefined, 'TENANT_NOT_FOUND'],
      ['PATCH', `${base('acme')}/${id}`, { name: 'hijacked' }, 'TENANT_NOT_FOUND'],
      ['DELETE', `${base('acme')}/${id}`, undefined, 'TENANT_NOT_FOUND'],
      [
        'DELETE',
        `${base('acme')}?url=${encodeURIComponent('https://acme.example/own')}`,
        undefined,
        'TENANT_NOT_FOUND',
      ],
      ['POST', base('acme'), { url: 'https://evil.example/' }, 'TENANT_NOT_FOUND'],
    ];
    for (const [method, url, body, code] of attempts) {
      const res = await t.request(method, url, body, keyB);
      assert.equal(res.statusCode, 404, `${method} ${url}: ${res.body}`);
      assert.equal(res.json().error.code, code, `${method} ${url}: ${res.body}`);
      assert.ok(!res.body.includes('whsec_'));
    }
    assert.equal(await rowsOf(t, 'acme'), before);
    const list = await t.request('GET', base('other'), undefined, keyB);
    assert.ok(list.json().data.every((e: { tenantId: string }) => e.tenantId === 'other'));
  });
});
