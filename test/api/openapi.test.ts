/**
 * The OpenAPI document as SDK generators need it (issue 17): every operation has a unique camelCase
 * operationId and documents its error responses with the one shared `Error` schema, and that schema
 * is the shape the API really answers with. A new route without them fails here. The document does
 * not depend on the storage, so one (embedded) is enough.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { ErrorCodes } from '../../src/core/errors.ts';
import { makeTestApp, type TestApp } from '../support/app.ts';

interface Media {
  schema?: { $ref?: string };
  examples?: Record<string, { value?: { error?: { code?: string } } }>;
}
interface Operation {
  operationId?: string;
  tags?: string[];
  security?: unknown[];
  parameters?: Array<{ in: string; name: string }>;
  requestBody?: { content?: Record<string, Media & { schema?: object }> };
  responses: Record<string, { description?: string; content?: Record<string, Media> }>;
}
interface Doc {
  servers?: Array<{ url: string }>;
  tags?: Array<{ name: string; description?: string }>;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, object> };
}

const ERROR_REF = '#/components/schemas/Error';

describe('the OpenAPI document', () => {
  let t: TestApp;
  let doc: Doc;
  let operations: Array<{ name: string; op: Operation }>;
  before(async () => {
    t = await makeTestApp('pglite');
    const res = await t.request('GET', '/openapi.json', undefined, null);
    assert.equal(res.statusCode, 200);
    doc = res.json() as Doc;
    operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({ name: `${method.toUpperCase()} ${path}`, op })),
    );
  });
  after(() => t.close());

  test('every operation has a unique camelCase operationId', () => {
    assert.ok(operations.length >= 30, `operations found: ${operations.length}`);
    const seen = new Map<string, string>();
    for (const { name, op } of operations) {
      assert.match(op.operationId ?? '', /^[a-z][A-Za-z0-9]*$/, `${name}: operationId ${op.operationId}`);
      const other = seen.get(op.operationId!);
      assert.equal(other, undefined, `${name} and ${other} share the operationId ${op.operationId}`);
      seen.set(op.operationId!, name);
    }
  });

  test('every error response uses the shared Error schema, with an example per code it lists', () => {
    for (const { name, op } of operations) {
      const errors = Object.entries(op.responses).filter(([status]) => Number(status) >= 400);
      assert.ok(
        errors.some(([s]) => s.startsWith('4')),
        `${name} documents no 4xx response (declare its codes in schema.errors)`,
      );
      for (const [status, response] of errors) {
        const media = response.content?.['application/json'];
        assert.equal(media?.schema?.$ref, ERROR_REF, `${name} ${status}: not the shared Error schema`);
        const examples = Object.entries(media?.examples ?? {});
        assert.ok(examples.length > 0, `${name} ${status}: no example`);
        for (const [code, example] of examples) {
          const registered = ErrorCodes[code as keyof typeof ErrorCodes];
          assert.ok(registered, `${name} ${status}: ${code} is not a registered code`);
          assert.equal(String(registered.status), status, `${name}: ${code} is a ${registered.status}`);
          assert.equal(example.value?.error?.code, code, `${name} ${status}: example ${code}`);
          assert.ok(response.description?.includes(`\`${code}\``), `${name} ${status}: ${code} described`);
        }
      }
    }
  });

  test('the refusals every route of a kind can meet are documented on it', () => {
    for (const { name, op } of operations) {
      const has = (status: number) => String(status) in op.responses;
      assert.ok(has(429), `${name}: the rate limit (429)`);
      if (op.requestBody) {
        for (const s of [400, 413, 415]) assert.ok(has(s), `${name}: a body route's ${s}`);
      }
      if (op.security === undefined) assert.ok(has(401), `${name}: a keyed route's 401`);
      if (op.parameters?.some((p) => p.in === 'path')) assert.ok(has(404), `${name}: a path's 404`);
    }
  });

  test('the Error schema is what the API really answers with', async () => {
    const validate = new Ajv({ strict: false }).compile(doc.components.schemas['Error']!);
    const keyed = (method: string, url: string, headers: Record<string, string>, payload?: string) =>
      t.app.inject({
        method: method as 'POST',
        url,
        headers: { authorization: `Bearer ${t.adminKey}`, ...headers },
        ...(payload !== undefined ? { payload } : {}),
      });
    const refusals = [
      await t.request('GET', '/v1/tenants', undefined, null),
      await t.request('GET', '/v1/tenants/nope'),
      await t.request('PUT', '/v1/tenants'),
      await t.request('GET', '/v1/no-such-route'),
      await t.request('POST', '/v1/tenants', { name: 5 }),
      await keyed('POST', '/v1/tenants', { 'content-type': 'text/plain' }, '{"name":"x"}'),
      await keyed('POST', '/v1/tenants', { 'content-type': 'application/json' }, '{'),
    ];
    for (const res of refusals) {
      assert.ok(res.statusCode >= 400, res.body);
      assert.ok(validate(res.json()), `${res.body}: ${JSON.stringify(validate.errors)}`);
    }
  });

  test('every example is valid against its schema', () => {
    const ajv = new Ajv({ strict: false });
    (addFormats as unknown as (a: Ajv) => void)(ajv);
    const isError = ajv.compile(doc.components.schemas['Error']!);
    let checked = 0;
    for (const { name, op } of operations) {
      for (const [type, media] of Object.entries(op.requestBody?.content ?? {})) {
        if (!media.examples) continue;
        const validate = ajv.compile(media.schema ?? {});
        for (const [key, example] of Object.entries(media.examples)) {
          assert.ok(
            validate(example.value),
            `${name} ${type} example ${key}: ${ajv.errorsText(validate.errors)}`,
          );
          checked++;
        }
      }
      for (const [status, response] of Object.entries(op.responses)) {
        for (const [key, example] of Object.entries(response.content?.['application/json']?.examples ?? {})) {
          if (Number(status) < 400) continue;
          assert.ok(
            isError(example.value),
            `${name} ${status} example ${key}: ${ajv.errorsText(isError.errors)}`,
          );
          checked++;
        }
      }
    }
    assert.ok(checked > 100, `examples checked: ${checked}`);
  });

  test('servers and every tag in use are declared, tags with descriptions', () => {
    assert.ok((doc.servers ?? []).length > 0, 'servers');
    const declared = new Map((doc.tags ?? []).map((tag) => [tag.name, tag.description]));
    for (const { name, op } of operations) {
      for (const tag of op.tags ?? []) {
        assert.ok(declared.get(tag), `${name}: tag ${tag} declared with a description`);
      }
    }
  });
});
