/**
 * Portal sessions: `POST /v1/tenants/{tid}/portal-sessions` mints a signed, expiring link whose token
 * acts as a key of that tenant only — its own routes work, another tenant answers 404, admin routes
 * 403, and an expired, tampered or forged token 401.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { hashKey } from '../../src/security/api-keys.ts';
import { portalSigningKey, signPortalToken } from '../../src/security/portal-token.ts';
import { makeTestApp, type TestApp } from '../support/app.ts';
import { manualClock } from '../support/delivery-fixtures.ts';
import { forEachStorage } from '../support/storage.ts';

forEachStorage('portal sessions', (kind) => {
  let t: TestApp;
  const clock = manualClock(new Date('2030-01-01T00:00:00Z'));

  before(async () => {
    t = await makeTestApp(kind, { clock });
    for (const id of ['acme', 'globex']) await t.request('POST', '/v1/tenants', { id, name: id });
  });
  after(() => t?.close());

  async function session(tenantId: string, body?: unknown) {
    const res = await t.request('POST', `/v1/tenants/${tenantId}/portal-sessions`, body);
    assert.equal(res.statusCode, 201, res.body);
    return res.json() as { url: string; token: string; expiresAt: string };
  }

  test('answers a portal link with the token in its fragment, expiring in an hour by default', async () => {
    const s = await session('acme');
    const url = new URL(s.url);
    assert.equal(url.pathname, '/portal');
    assert.equal(url.search, '');
    assert.equal(new URLSearchParams(url.hash.slice(1)).get('token'), s.token);
    assert.match(s.token, /^hps_[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    assert.equal(s.expiresAt, '2030-01-01T01:00:00.000Z');
    const short = await session('acme', { expiresIn: 120 });
    assert.equal(short.expiresAt, '2030-01-01T00:02:00.000Z');
  });

  test('bounds expiresIn and refuses unknown tenants and fields', async () => {
    for (const body of [{ expiresIn: 10 }, { expiresIn: 86_401 }, { expiresIn: '60' }, { ttl: 60 }]) {
      const res = await t.request('POST', '/v1/tenants/acme/portal-sessions', body);
      assert.equal(res.statusCode, 400, JSON.stringify(body));
      assert.equal(res.json().error.code, 'VALIDATION_FAILED');
    }
    const res = await t.request('POST', '/v1/tenants/nobody/portal-sessions', {});
    assert.equal(res.statusCode, 404);
    assert.equal(res.json().error.code, 'TENANT_NOT_FOUND');
  });

  test("the token reaches its tenant's routes", async () => {
    const { token } = await session('acme');
    assert.equal((await t.request('GET', '/v1/tenants/acme', undefined, token)).statusCode, 200);
    const created = await t.request(
      'POST',
      '/v1/tenants/acme/endpoints',
      { url: 'http://127.0.0.1:9/hook' },
      token,
    );
    assert.equal(created.statusCode, 201, created.body);
    const list = await t.request('GET', '/v1/tenants/acme/endpoints', undefined, token);
    assert.equal(list.json().data.length, 1);
    assert.equal((await t.request('GET', '/v1/event-types', undefined, token)).statusCode, 200);
  });

  test('another tenant answers 404 and admin routes 403', async () => {
    const { token } = await session('acme');
    for (const path of [
      '/v1/tenants/globex',
      '/v1/tenants/globex/endpoints',
      '/v1/tenants/globex/deliveries',
    ]) {
      const res = await t.request('GET', path, undefined, token);
      assert.equal(res.statusCode, 404, path);
      assert.equal(res.json().error.code, 'TENANT_NOT_FOUND');
    }
    for (const [method, path] of [
      ['GET', '/v1/tenants'],
      ['GET', '/v1/stats'],
      ['POST', '/v1/tenants/acme/portal-sessions'],
      ['POST', '/v1/tenants/globex/portal-sessions'],
      ['DELETE', '/v1/tenants/acme'],
      ['POST', '/v1/event-types'],
    ] as const) {
      const res = await t.request(method, path, method === 'POST' ? {} : undefined, token);
      assert.equal(res.statusCode, 403, `${method} ${path}: ${res.body}`);
    }
  });

  test("a session may not manage the tenant's API keys: a key it minted would outlive it (issue 16)", async () => {
    const { token } = await session('acme');
    const key = (await t.request('POST', '/v1/tenants/acme/api-keys', {})).json() as { id: string };
    const live = async () =>
      (
        await t.ctx.db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM api_keys WHERE tenant_id = 'acme' AND revoked_at IS NULL`,
        )
      )[0]!.n;
    const before = await live();
    for (const [method, path] of [
      ['POST', '/v1/tenants/acme/api-keys'],
      ['GET', '/v1/tenants/acme/api-keys'],
      ['DELETE', `/v1/tenants/acme/api-keys/${key.id}`],
    ] as const) {
      const res = await t.request(method, path, method === 'POST' ? {} : undefined, token);
      assert.equal(res.statusCode, 403, `${method} ${path}: ${res.body}`);
      assert.equal(res.json().error.code, 'FORBIDDEN');
    }
    assert.equal(await live(), before, 'nothing minted, nothing revoked');
    // A tenant key still manages them.
    const tenantKey = await t.tenantKey('acme');
    assert.equal((await t.request('GET', '/v1/tenants/acme/api-keys', undefined, tenantKey)).statusCode, 200);
  });

  test("ending the tenant's sessions ends every token minted before; new ones work (issue 16)", async () => {
    const [a, b] = [await session('acme'), await session('acme')];
    const other = await session('globex');
    assert.equal((await t.request('GET', '/v1/tenants/acme', undefined, a.token)).statusCode, 200);
    const ended = await t.request('DELETE', '/v1/tenants/acme/portal-sessions');
    assert.equal(ended.statusCode, 204, ended.body);
    for (const token of [a.token, b.token]) {
      const res = await t.request('GET', '/v1/tenants/acme', undefined, token);
      assert.equal(res.statusCode, 401);
      assert.equal(res.json().error.code, 'UNAUTHORIZED');
    }
    assert.equal(
      (await t.request('GET', '/v1/tenants/globex', undefined, other.token)).statusCode,
      200,
      'another tenant keeps its sessions',
    );
    const fresh = await session('acme');
    assert.equal((await t.request('GET', '/v1/tenants/acme', undefined, fresh.token)).statusCode, 200);
    assert.equal((await t.request('DELETE', '/v1/tenants/nope/portal-sessions')).statusCode, 404);
    const asTenant = await t.request('DELETE', '/v1/tenants/acme/portal-sessions', undefined, fresh.token);
    assert.equal(asTenant.statusCode, 403, 'only the operator ends sessions');
  });

  test('a tenant deleted and created again under the same id does not inherit its sessions (issue 16)', async () => {
    await t.request('POST', '/v1/tenants', { id: 'reborn', name: 'First customer' });
    const old = await session('reborn');
    assert.equal((await t.request('GET', '/v1/tenants/reborn', undefined, old.token)).statusCode, 200);
    assert.equal((await t.request('DELETE', '/v1/tenants/reborn')).statusCode, 204);
    await t.request('POST', '/v1/tenants', { id: 'reborn', name: 'Another customer' });
    const res = await t.request('GET', '/v1/tenants/reborn', undefined, old.token);
    assert.equal(res.statusCode, 401);
    const theirs = await session('reborn');
    assert.equal((await t.request('GET', '/v1/tenants/reborn', undefined, theirs.token)).statusCode, 200);
  });

  test('an expired token is refused with 401', async () => {
    const { token } = await session('acme', { expiresIn: 60 });
    assert.equal((await t.request('GET', '/v1/tenants/acme', undefined, token)).statusCode, 200);
    clock.advance(59_000);
    assert.equal((await t.request('GET', '/v1/tenants/acme', undefined, token)).statusCode, 200);
    clock.advance(1_000);
    const res = await t.request('GET', '/v1/tenants/acme', undefined, token);
    assert.equal(res.statusCode, 401);
    assert.equal(res.json().error.code, 'UNAUTHORIZED');
  });

  test('a tampered or forged token is refused with 401', async () => {
    const { token } = await session('acme');
    const [payload, sig] = token.slice('hps_'.length).split('.') as [string, string];
    // The same claims for another tenant, with acme's signature.
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    const otherPayload = Buffer.from(JSON.stringify({ ...claims, tid: 'globex' })).toString('base64url');
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    const candidates = [
      `hps_${otherPayload}.${sig}`,
      `hps_${payload}.${flip(sig, 0)}`,
      `hps_${payload}.${flip(sig, sig.length - 1)}`,
      `hps_${payload}.${sig}A`,
      `hps_${payload}.${sig}.x`,
      `hps_${payload}`,
      'hps_',
      // Signed with another admin key's derivation: a different Herald's token.
      signPortalToken(portalSigningKey(hashKey('hk_admin_other')), {
        tenantId: 'acme',
        incarnation: claims.inc,
        generation: claims.g,
        expiresAt: new Date('2030-01-02T00:00:00Z'),
      }),
    ];
    for (const bad of candidates) {
      const res = await t.request('GET', '/v1/tenants/acme', undefined, bad);
      assert.equal(res.statusCode, 401, bad);
    }
    // A token this Herald signed for globex is globex's, not acme's.
    const globex = await session('globex');
    assert.equal((await t.request('GET', '/v1/tenants/acme', undefined, globex.token)).statusCode, 404);
  });

  test("a session's own branding rides in its token, which still works at its largest (issue 18)", async () => {
    const branding = {
      name: 'Ledgerly — Webhooks',
      logoUrl: `https://cdn.ledgerly.example/${'l'.repeat(470)}.png`,
      accentColor: '#0a7d5a',
    };
    const s = await session('acme', { expiresIn: 600, branding });
    const payload = s.token.slice('hps_'.length).split('.')[0]!;
    assert.deepEqual(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')).b, branding);
    assert.equal((await t.request('GET', '/v1/tenants/acme', undefined, s.token)).statusCode, 200);
    const plain = await session('acme');
    const plainClaims = JSON.parse(Buffer.from(plain.token.slice(4).split('.')[0]!, 'base64url').toString());
    assert.equal(plainClaims.b, undefined, 'no branding asked for, none carried');
  });

  test('refuses branding the portal could not show, naming the field (issue 18)', async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ accentColor: 'red' }, /branding\.accentColor/],
      [{ accentColor: '#12345' }, /branding\.accentColor/],
      [{ logoUrl: 'http://cdn.example/logo.png' }, /branding\.logoUrl: must be an https/],
      [{ logoUrl: 'javascript:alert(1)' }, /branding\.logoUrl/],
      [{ logoUrl: 'not a url' }, /branding\.logoUrl/],
      [{ name: 'x'.repeat(65) }, /branding\.name/],
      [{ name: 'two\nlines' }, /branding\.name: must not contain control characters/],
      [{ name: '' }, /branding\.name/],
      [{ colour: '#000000' }, /branding/],
    ];
    for (const [branding, message] of cases) {
      const res = await t.request('POST', '/v1/tenants/acme/portal-sessions', { branding });
      assert.equal(res.statusCode, 400, JSON.stringify(branding));
      assert.equal(res.json().error.code, 'VALIDATION_FAILED');
      assert.match(res.body, message);
    }
  });
});

forEachStorage('the portal page', (kind) => {
  test('may be framed by the configured origins only, and carries the configured branding (issue 18)', async () => {
    const t = await makeTestApp(kind, {
      config: {
        portalFrameAncestors: ['https://app.ledgerly.example', 'http://127.0.0.1:3000'],
        portalName: 'Ledgerly <Webhooks>',
        portalAccentColor: '#0a7d5a',
      },
    });
    try {
      const portal = await t.request('GET', '/portal', undefined, null);
      assert.equal(portal.statusCode, 200);
      const csp = String(portal.headers['content-security-policy']);
      assert.match(csp, /frame-ancestors https:\/\/app\.ledgerly\.example http:\/\/127\.0\.0\.1:3000(;|$)/);
      assert.match(csp, /img-src 'self' data: https:/);
      assert.match(portal.body, /<title>Ledgerly &#60;Webhooks&#62;<\/title>/);
      const meta = /<meta name="herald-portal-branding" content="([^"]*)">/.exec(portal.body);
      assert.ok(meta, 'the branding is in the page');
      const decoded = meta[1]!.replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n)));
      assert.deepEqual(JSON.parse(decoded), { name: 'Ledgerly <Webhooks>', accentColor: '#0a7d5a' });
      // The dashboard is never framed.
      const ui = await t.request('GET', '/ui', undefined, null);
      assert.match(String(ui.headers['content-security-policy']), /frame-ancestors 'none'/);
      assert.doesNotMatch(String(ui.headers['content-security-policy']), /https:/);
    } finally {
      await t.close();
    }
    const plain = await makeTestApp(kind);
    try {
      const portal = await plain.request('GET', '/portal', undefined, null);
      assert.match(String(portal.headers['content-security-policy']), /frame-ancestors 'none'/);
    } finally {
      await plain.close();
    }
  });
});
