/**
 * Property, over every write route (POST/PUT/PATCH/DELETE in the OpenAPI document, so new routes
 * join automatically), with random keys, ids and bodies:
 * - no 5xx;
 * - a refusal (4xx) changes no row of any table;
 * - no secret appears in any response body or log line: endpoint secrets, auth tokens, passwords and
 *   client secrets, API keys, the admin key and the encryption key. The only exception is the
 *   credential a request has just created (`secret`, `key` or `token` at the top of its answer).
 * The app logs at `trace` through pino, with the production redaction settings, into a buffer.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { buildApp } from '../../src/api/app.ts';
import type { App, AppContext } from '../../src/api/context.ts';
import { ADMIN_KEY_PREFIX, generateKey, hashKey } from '../../src/security/api-keys.ts';
import { createSecretBox, generateEncryptionKey } from '../../src/security/secret-box.ts';
import { loggerOptions } from '../../src/server/logger.ts';
import { testConfig } from '../support/app.ts';
import { forEachStorage, freshDb, type TestDb } from '../support/storage.ts';

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** A random credential-looking string, long enough never to occur by chance. */
const credential = (prefix: string) =>
  fc.uint8Array({ minLength: 18, maxLength: 18 }).map((b) => prefix + Buffer.from(b).toString('base64url'));

const loopbackUrl = fc.constantFrom('http://127.0.0.1:9/a', 'http://[::1]:9/b', 'http://127.0.0.1:9/c?x=1');
const eventType = fc.constantFrom('invoice.created', 'invoice.paid', 'order.*', '*', 'bad type!');
const auth = fc.oneof(
  fc.record({ type: fc.constant('bearer'), token: credential('tok_') }),
  fc.record({ type: fc.constant('basic'), username: fc.constant('u'), password: credential('pw_') }),
  fc.record({
    type: fc.constant('oauth2'),
    tokenUrl: fc.constant('http://127.0.0.1:9/token'),
    clientId: fc.constant('cid'),
    clientSecret: credential('cs_'),
  }),
);

const endpointBody = fc.record(
  {
    url: loopbackUrl,
    name: fc.string({ maxLength: 8 }),
    secret: credential('whsec_'),
    auth,
    eventTypes: fc.array(eventType, { maxLength: 2 }),
    profile: fc.constantFrom('standard', 'standard', 'shipstream', 'corrigopro', 'nope'),
    // Extra headers are shown in answers by design (credentials go in `auth`): not secrets here.
    headers: fc.dictionary(
      fc.constantFrom('x-a', 'x-team', 'authorization', 'bad name'),
      fc.string({ maxLength: 8 }),
      {
        maxKeys: 2,
      },
    ),
    active: fc.boolean(),
  },
  { requiredKeys: ['url'] },
);
const endpointPatch = endpointBody.map(({ secret: _secret, ...rest }) => rest);
const tenantBody = fc.record(
  {
    id: fc.constantFrom('acme', 'other', 't1', 't2', 'bad id!'),
    name: fc.string({ minLength: 1, maxLength: 8 }),
  },
  { requiredKeys: ['name'] },
);
const eventBody = fc.record(
  {
    type: eventType,
    data: fc.dictionary(fc.string({ maxLength: 4 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
    id: fc.constantFrom('e1', 'e2', 'e3'),
    origin: fc.constantFrom('app', 'herald.test'),
  },
  { requiredKeys: ['type', 'data'] },
);
const eventTypeBody = fc.record(
  { name: eventType, description: fc.string({ maxLength: 8 }), example: fc.constant({ n: 1 }) },
  { requiredKeys: [] },
);
const junk = fc.jsonValue({ maxDepth: 3 });

/** Mostly a body shaped for the route, sometimes any body at all. */
function bodyFor(method: string, path: string): fc.Arbitrary<unknown> {
  let shaped: fc.Arbitrary<unknown> = fc.constant({});
  if (/\/tenants$/.test(path)) shaped = tenantBody;
  else if (/\/tenants\/\{tenantId\}$/.test(path)) shaped = tenantBody.map(({ id: _id, ...rest }) => rest);
  else if (path.endsWith('/api-keys'))
    shaped = fc.record({ name: fc.string({ maxLength: 8 }) }, { requiredKeys: [] });
  else if (path.includes('/event-types')) shaped = eventTypeBody;
  else if (path.endsWith('/events'))
    shaped = fc.oneof(eventBody, fc.record({ events: fc.array(eventBody, { maxLength: 3 }) }));
  else if (path.endsWith('/endpoints')) shaped = endpointBody;
  else if (path.endsWith('/{endpointId}')) shaped = endpointPatch;
  else if (path.endsWith('/rotate-secret'))
    shaped = fc.record({ secret: credential('whsec_') }, { requiredKeys: [] });
  else if (path.endsWith('/test'))
    shaped = fc.record({ eventType, data: fc.constant({ n: 1 }) }, { requiredKeys: ['eventType'] });
  else if (path.endsWith('/recover'))
    shaped = fc.record({ since: fc.constantFrom('2020-01-01T00:00:00Z', 'yesterday') });
  void method;
  const any = fc.oneof(endpointBody, tenantBody, eventBody, eventTypeBody, junk);
  return fc.oneof({ weight: 4, arbitrary: shaped }, { weight: 1, arbitrary: any });
}

/** Every string in `value` (request bodies), to find the secrets a request carries. */
function stringsOf(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) stringsOf(v, out);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) stringsOf(v, out);
  return out;
}

const SECRET_LOOKING = /^(whsec_|tok_|pw_|cs_|hk_)/;

interface Harness {
  app: App;
  ctx: AppContext;
  testDb: TestDb;
  adminKey: string;
  encryptionKey: string;
  logLines: string[];
}

async function harness(kind: 'pglite' | 'postgres'): Promise<Harness> {
  const testDb = await freshDb(kind);
  const adminKey = generateKey(ADMIN_KEY_PREFIX);
  const encryptionKey = generateEncryptionKey();
  const logLines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  const ctx: AppContext = {
    db: testDb.db,
    config: testConfig({ apiRateLimit: 0 }),
    adminKeyHash: hashKey(adminKey),
    secretBox: createSecretBox(encryptionKey),
    clock: { now: () => new Date() },
  };
  const app = await buildApp(ctx, { logger: { ...loggerOptions('trace'), stream } });
  await app.ready();
  return { app, ctx, testDb, adminKey, encryptionKey, logLines };
}

/** Every row of every table, as one comparable string (last_used_at is bookkeeping of reads). */
async function snapshot(h: Harness): Promise<string> {
  const tables = await h.ctx.db.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables
      WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`,
  );
  const parts: string[] = [];
  for (const { table_name } of tables) {
    const rows = await h.ctx.db.query<Record<string, unknown>>(`SELECT * FROM "${table_name}"`);
    const lines = rows.map(({ last_used_at: _ignored, ...rest }) => JSON.stringify(rest)).sort();
    parts.push(`${table_name}:${lines.join('\n')}`);
  }
  return parts.join('\n\n');
}

forEachStorage('write routes: no 5xx, no change on refusal, no secret leaked', (kind) => {
  let h: Harness;
  const secrets = new Set<string>();
  const tenantKeys: Record<string, string> = {};
  const ids: Record<string, string[]> = {};

  async function refreshIds(): Promise<void> {
    const q = async (sql: string) => (await h.ctx.db.query<{ id: string }>(sql)).map((r) => r.id);
    ids['tenantId'] = ['acme', 'other', ...(await q('SELECT id FROM tenants ORDER BY id LIMIT 5'))];
    ids['endpointId'] = await q('SELECT id FROM endpoints ORDER BY id DESC LIMIT 5');
    ids['eventId'] = await q('SELECT id FROM events ORDER BY id DESC LIMIT 5');
    ids['deliveryId'] = await q('SELECT id FROM deliveries ORDER BY id DESC LIMIT 5');
    ids['keyId'] = await q('SELECT id FROM api_keys ORDER BY id DESC LIMIT 5');
    ids['name'] = await q('SELECT name AS id FROM event_types ORDER BY name LIMIT 5');
  }

  before(async () => {
    h = await harness(kind);
    secrets.add(h.adminKey).add(h.encryptionKey);
    const admin = { authorization: `Bearer ${h.adminKey}`, 'content-type': 'application/json' };
    const post = async (url: string, payload: unknown) => {
      const res = await h.app.inject({
        method: 'POST',
        url,
        headers: admin,
        payload: JSON.stringify(payload),
      });
      assert.ok(res.statusCode < 300, `${url} ${res.statusCode} ${res.body}`);
      return res.json();
    };
    for (const id of ['acme', 'other']) {
      await post('/v1/tenants', { id, name: id });
      tenantKeys[id] = (await post(`/v1/tenants/${id}/api-keys`, {})).key;
      secrets.add(tenantKeys[id]!);
      const token = `tok_${randomBytes(12).toString('hex')}`;
      const ep = await post(`/v1/tenants/${id}/endpoints`, {
        url: 'http://127.0.0.1:9/seed',
        auth: { type: 'bearer', token },
      });
      secrets.add(ep.secret).add(token);
    }
    await post('/v1/event-types', { name: 'invoice.created', example: { n: 1 } });
    await post('/v1/tenants/acme/events', { type: 'invoice.created', data: { n: 1 } });
    await refreshIds();
  });
  after(async () => {
    await h.app.close();
    await h.testDb.close();
  });

  test('random write requests', async () => {
    const doc = h.app.swagger() as { paths: Record<string, Record<string, unknown>> };
    const routes = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops)
        .map((m) => ({ method: m.toUpperCase(), path }))
        .filter((r) => WRITE_METHODS.has(r.method)),
    );
    assert.ok(routes.length >= 15, `write routes found: ${routes.length}`);

    await fc.assert(
      fc.asyncProperty(
        fc
          .constantFrom(...routes)
          .chain((route) => fc.tuple(fc.constant(route), bodyFor(route.method, route.path))),
        fc.oneof(
          { weight: 6, arbitrary: fc.constant('admin') },
          { weight: 3, arbitrary: fc.constant('acme') },
          { weight: 1, arbitrary: fc.constantFrom('other', 'none', 'wrong') },
        ),
        fc.array(fc.nat(), { minLength: 6, maxLength: 6 }),
        fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
        async ([route, payload], who, picks, junkParam) => {
          let n = 0;
          const url = route.path.replace(/\{([^}]+)\}/g, (_m, name: string) => {
            const pool = ids[name] ?? [];
            const pick = picks[n++ % picks.length]!;
            if (junkParam || pool.length === 0) return ['missing', '%00', 'a'.repeat(250)][pick % 3]!;
            return encodeURIComponent(pool[pick % pool.length]!);
          });
          const key =
            who === 'admin'
              ? h.adminKey
              : who === 'none'
                ? undefined
                : who === 'wrong'
                  ? 'hk_live_not-a-real-key'
                  : tenantKeys[who];
          const text = JSON.stringify(payload) ?? 'null';
          const carried = stringsOf(payload).filter((s) => SECRET_LOOKING.test(s));

          const before = await snapshot(h);
          h.logLines.length = 0;
          const res = await h.app.inject({
            method: route.method as 'POST',
            url,
            headers: {
              'content-type': 'application/json',
              ...(key ? { authorization: `Bearer ${key}` } : {}),
            },
            ...(route.method === 'DELETE' ? {} : { payload: text }),
          });
          const what = `${route.method} ${url} as ${who} ${text} → ${res.statusCode} ${res.body}`;
          assert.ok(res.statusCode < 500, what);

          // The credential this request created may be in its answer (a portal link also carries
          // its token in the URL); no other secret may, and no log line may show any.
          const created: string[] = [];
          if (res.statusCode < 300 && res.body.startsWith('{')) {
            const parsed = res.json() as Record<string, unknown>;
            for (const field of ['secret', 'key', 'token']) {
              const v = parsed[field];
              if (typeof v === 'string') {
                assert.ok(!secrets.has(v), `${what}: answered an existing secret in ${field}`);
                created.push(v);
              }
            }
          }
          const logs = h.logLines.join('');
          for (const s of [...secrets, ...carried, ...created]) {
            if (!created.includes(s)) assert.ok(!res.body.includes(s), `${what}: the answer shows a secret`);
            assert.ok(!logs.includes(s), `${what}: a log line shows a secret: ${logs}`);
          }

          if (res.statusCode >= 400) {
            assert.equal(await snapshot(h), before, `${what}: a refusal changed rows`);
          } else {
            // Whatever credentials the request carried or got are stored now: they are secrets.
            for (const s of [...carried, ...created]) secrets.add(s);
            await refreshIds();
          }
        },
      ),
      {
        numRuns: Number(process.env['PROPERTY_RUNS'] ?? 150),
        seed: Number(process.env['PROPERTY_SEED'] ?? Date.now() % 2 ** 31),
      },
    );
  });
});
