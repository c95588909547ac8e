/**
 * The framework adapters with real servers: Node's http on a loopback port, Fastify through
 * inject(). Express is not a dependency; its adapter is driven with the request/response shapes
 * express.raw() produces.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import Fastify from 'fastify';
import {
  type ExpressLikeRequest,
  expressWebhookMiddleware,
  useRawJsonBody,
  verifyExpressRequest,
  verifyFastifyRequest,
  verifyNodeRequestDetailed,
  WebhookVerificationError,
} from 'herald/verify';
import { CASES } from './vectors.ts';

const shipstream = CASES.find((c) => c.profile === 'shipstream')!;
const options = { profile: 'shipstream', secret: shipstream.secret } as const;

describe('verify adapters: node:http', () => {
  const server = createServer(async (req, res) => {
    try {
      const v = await verifyNodeRequestDetailed(req, { ...options, bodyLimit: 1000 });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(v));
    } catch (err) {
      const code = err instanceof WebhookVerificationError ? err.code : 'ERROR';
      res.writeHead(400).end(code);
    }
  });
  const listening = new Promise<string>((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`),
    ),
  );
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test('a signed request is verified from the raw body; a tampered one is refused', async () => {
    const url = await listening;
    const { body, headers } = shipstream.sign(shipstream.secret);
    const ok = await fetch(url, {
      method: 'POST',
      body,
      headers: { ...headers, 'content-type': 'application/json' },
    });
    assert.equal(ok.status, 200);
    const v = (await ok.json()) as { payload: unknown; eventType: string; id: string };
    assert.deepEqual(v.payload, JSON.parse(body.toString()));
    assert.equal(v.eventType, 'order:created');
    assert.equal(v.id, '7');

    const tampered = Buffer.from(body.toString().replace('"order_id":1', '"order_id":2'));
    const bad = await fetch(url, { method: 'POST', body: tampered, headers });
    assert.equal(bad.status, 400);
    assert.equal(await bad.text(), 'INVALID_SIGNATURE');
  });

  test('a body over the limit is refused with INVALID_BODY', async () => {
    const url = await listening;
    const { body, headers } = shipstream.sign(shipstream.secret, 0, Buffer.alloc(2000, 0x20));
    const res = await fetch(url, { method: 'POST', body, headers });
    assert.equal(res.status, 400);
    assert.equal(await res.text(), 'INVALID_BODY');
  });
});

describe('verify adapters: Fastify', () => {
  test('useRawJsonBody keeps the bytes inside its plugin only', async () => {
    const app = Fastify();
    await app.register(async (hooks) => {
      useRawJsonBody(hooks);
      hooks.post('/webhooks', async (req, reply) => {
        try {
          return { payload: verifyFastifyRequest(req, options) };
        } catch (err) {
          return reply.code(400).send({ code: (err as WebhookVerificationError).code });
        }
      });
    });
    app.post('/other', async (req) => ({ parsed: req.body }));
    const { body, headers } = shipstream.sign(shipstream.secret);
    const send = (url: string, payload: Buffer) =>
      app.inject({
        method: 'POST',
        url,
        payload,
        headers: { ...headers, 'content-type': 'application/json' },
      });

    const ok = await send('/webhooks', body);
    assert.equal(ok.statusCode, 200);
    assert.deepEqual(ok.json(), { payload: JSON.parse(body.toString()) });
    // A space after a colon: the same JSON value, other bytes, so it must not verify.
    const respaced = Buffer.from(body.toString().replace('"topic":', '"topic": '));
    const bad = await send('/webhooks', respaced);
    assert.equal(bad.statusCode, 400);
    assert.deepEqual(bad.json(), { code: 'INVALID_SIGNATURE' });
    // Routes outside the plugin still get parsed JSON.
    assert.deepEqual((await send('/other', body)).json(), { parsed: JSON.parse(body.toString()) });
    await app.close();
  });

  test('a parsed body (no raw parser) is a usage error, not a silent pass', () => {
    assert.throws(
      () => verifyFastifyRequest({ body: { topic: 'x' }, headers: {} }, options),
      (err: unknown) => err instanceof WebhookVerificationError && err.code === 'INVALID_OPTIONS',
    );
  });
});

describe('verify adapters: Express', () => {
  function run(req: ExpressLikeRequest) {
    const out: { status?: number; json?: unknown; next?: unknown[] } = {};
    const res = {
      status(code: number) {
        out.status = code;
        return {
          json(b: unknown) {
            out.json = b;
            return b;
          },
        };
      },
    };
    expressWebhookMiddleware(options)(req, res, (...args: unknown[]) => {
      out.next = args;
    });
    return out;
  }

  test('the middleware sets req.webhook on success and answers 400 with the code otherwise', () => {
    const { body, headers } = shipstream.sign(shipstream.secret);
    const req: ExpressLikeRequest = { body, headers };
    const ok = run(req);
    assert.deepEqual(ok.next, []);
    assert.deepEqual(req.webhook?.payload, JSON.parse(body.toString()));

    const bad = run({ body: Buffer.from(`${body.toString()} `), headers });
    assert.equal(bad.status, 400);
    assert.equal((bad.json as { error: { code: string } }).error.code, 'INVALID_SIGNATURE');
    assert.equal(bad.next, undefined);
  });

  test('without express.raw() the body is an object: refused with INVALID_OPTIONS', () => {
    const { body, headers } = shipstream.sign(shipstream.secret);
    const parsed = JSON.parse(body.toString());
    const out = run({ body: parsed, headers });
    assert.equal((out.json as { error: { code: string } }).error.code, 'INVALID_OPTIONS');
    assert.deepEqual(verifyExpressRequest({ body, headers }, options), parsed);
  });
});
