/**
 * Property: no input of any shape makes any route answer 5xx, and every refusal carries a stable
 * error code that the OpenAPI document lists for that operation and status. The routes come from
 * the OpenAPI document, so new routes are covered automatically.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { ErrorCodes } from '../../src/core/errors.ts';
import { makeTestApp, type TestApp } from '../support/app.ts';
import { forEachStorage } from '../support/storage.ts';

interface RouteInfo {
  method: string;
  path: string;
  /** The error codes the document lists for this operation, by status. */
  documented: Map<string, Set<string>>;
}

type Responses = Record<string, { content?: { 'application/json'?: { examples?: object } } }>;

function routesOf(t: TestApp): RouteInfo[] {
  const doc = t.app.swagger() as unknown as {
    paths: Record<string, Record<string, { responses: Responses }>>;
  };
  const routes: RouteInfo[] = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const documented = new Map(
        Object.entries(op.responses).map(([status, r]) => [
          status,
          new Set(Object.keys(r.content?.['application/json']?.examples ?? {})),
        ]),
      );
      routes.push({ method: method.toUpperCase(), path, documented });
    }
  }
  return routes;
}

// Answers for a request that reached no operation (junk made the path another one): the document
// states them once, for every path, not per operation.
const UNROUTED = new Set(['ROUTE_NOT_FOUND', 'METHOD_NOT_ALLOWED']);

/** Values for path parameters: real ids half of the time, junk the rest. */
const paramValue = fc.oneof(
  fc.constantFrom('acme', 'other', 'missing', '%00', '..', 'a'.repeat(300), '%E2%82%AC', 'null'),
  fc.string({ maxLength: 20 }).map(encodeURIComponent),
);

const jsonBody = fc.oneof(
  fc.anything({ maxDepth: 4, withNullPrototype: false }).map((v) => {
    try {
      return JSON.stringify(v) ?? 'null';
    } catch {
      return 'null';
    }
  }),
  fc.constantFrom(
    '',
    '{',
    '[]',
    'null',
    '"x"',
    '{"__proto__": {"x": 1}}',
    '{"constructor": {"prototype": {}}}',
  ),
  fc
    .record(
      {
        name: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
        url: fc.oneof(fc.webUrl(), fc.string(), fc.constant('http://127.0.0.1:1/')),
        type: fc.oneof(fc.string(), fc.constant('invoice.created')),
        data: fc.anything({ maxDepth: 3 }),
        eventTypes: fc.oneof(fc.array(fc.string()), fc.string()),
        headers: fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.integer())),
        profile: fc.oneof(fc.constantFrom('standard', 'shipstream', 'nope'), fc.string()),
        events: fc.array(fc.anything({ maxDepth: 2 }), { maxLength: 3 }),
        schema: fc.anything({ maxDepth: 3 }),
        since: fc.oneof(
          fc.date().map((d) => (Number.isNaN(d.getTime()) ? 'x' : d.toISOString())),
          fc.string(),
        ),
      },
      { requiredKeys: [] },
    )
    .map((o) => JSON.stringify(o)),
);

const queryString = fc
  .dictionary(
    fc.constantFrom('limit', 'cursor', 'url', 'status', 'type', 'endpointId', 'eventId'),
    fc.string(),
  )
  .map((q) => new URLSearchParams(q).toString());

forEachStorage('no input produces a 5xx', (kind) => {
  let t: TestApp;
  before(async () => {
    t = await makeTestApp(kind);
    await t.request('POST', '/v1/tenants', { id: 'acme', name: 'Acme' });
    await t.request('POST', '/v1/tenants', { id: 'other', name: 'Other' });
  });
  after(() => t.close());

  test('random requests to every route', async () => {
    const routes = routesOf(t);
    assert.ok(routes.length >= 5, 'routes found in the OpenAPI document');
    const known = new Set(Object.keys(ErrorCodes));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes),
        fc.array(paramValue, { minLength: 4, maxLength: 4 }),
        jsonBody,
        queryString,
        fc.constantFrom('application/json', 'text/plain', 'application/json; charset=utf-8'),
        async (route, params, body, qs, contentType) => {
          let i = 0;
          const url =
            route.path.replace(/\{[^}]+\}/g, () => params[i++ % params.length]!) + (qs ? `?${qs}` : '');
          const res = await t.app.inject({
            method: route.method as 'POST',
            url,
            headers: { authorization: `Bearer ${t.adminKey}`, 'content-type': contentType },
            ...(route.method === 'GET' || route.method === 'DELETE' ? {} : { payload: body }),
          });
          assert.ok(res.statusCode < 500, `${route.method} ${url} ${body} → ${res.statusCode} ${res.body}`);
          if (res.statusCode >= 400) {
            const code = (res.json() as { error?: { code?: string } }).error?.code;
            assert.ok(
              code && known.has(code),
              `${route.method} ${url} → ${res.statusCode} without a known code: ${res.body}`,
            );
            // An empty or dot path parameter makes a different path (`/v1/tenants//endpoints/` is the
            // list's, with its own codes): only the operation the request reached is held to its list.
            const reached = params
              .slice(0, (route.path.match(/\{/g) ?? []).length)
              .every((p) => p !== '' && p !== '.' && p !== '..');
            assert.ok(
              !reached || UNROUTED.has(code) || route.documented.get(String(res.statusCode))?.has(code),
              `${route.method} ${route.path} answered ${res.statusCode} ${code}, which its OpenAPI operation does not list: ${res.body}`,
            );
          }
        },
      ),
      {
        numRuns: Number(process.env['PROPERTY_RUNS'] ?? 300),
        seed: Number(process.env['PROPERTY_SEED'] ?? Date.now() % 2 ** 31),
      },
    );
  });
});
