import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, test } from 'node:test';
import { Agent } from 'undici';
import { cancel, newCancellation, send } from '../../src/delivery/sender.ts';
import { createAddressPolicy } from '../../src/security/address-policy.ts';
import { createGuardedAgent } from '../../src/security/guarded-dispatcher.ts';
import { type Receiver, startReceiver } from '../support/delivery-fixtures.ts';

let receiver: Receiver;
const agent = new Agent({ connect: { timeout: 1000 } });
before(async () => {
  receiver = await startReceiver();
});
after(async () => {
  await receiver.close();
  await agent.close();
});

const base = () => ({
  url: receiver.url,
  headers: { 'content-type': 'application/json', 'x-extra': 'yes' },
  body: '{"a":1}',
  dispatcher: agent,
  totalTimeoutMs: 5000,
});

test('POSTs the body and headers; 2xx has no error, response headers and excerpt kept', async () => {
  receiver.handle((_req, res) => {
    res.setHeader('x-receiver', 'r1');
    res.end('thanks');
  });
  const r = await send(base());
  assert.equal(r.statusCode, 200);
  assert.equal(r.errorKind, undefined);
  assert.equal(r.excerpt, 'thanks');
  assert.equal(r.responseHeaders['x-receiver'], 'r1');
  assert.ok(r.durationMs >= 0);
  const got = receiver.requests.at(-1)!;
  assert.equal(got.method, 'POST');
  assert.equal(got.body, '{"a":1}');
  assert.equal(got.headers['x-extra'], 'yes');
});

test('reads at most the excerpt size of a large answer', async () => {
  receiver.handle((_req, res) => res.end('x'.repeat(200_000)));
  const r = await send({ ...base(), maxExcerptBytes: 65_536 });
  assert.equal(r.statusCode, 200);
  assert.equal(r.excerpt.length, 65_536);
});

test('redirects are not followed: a 3xx is an http_status failure', async () => {
  const before = receiver.requests.length;
  receiver.handle((_req, res) => {
    res.statusCode = 302;
    res.setHeader('location', '/elsewhere');
    res.end();
  });
  const r = await send(base());
  assert.equal(r.statusCode, 302);
  assert.equal(r.errorKind, 'http_status');
  assert.equal(r.errorMessage, 'HTTP 302');
  assert.equal(receiver.requests.length, before + 1);
});

test('NUL bytes in an answer are dropped (PostgreSQL text cannot hold them)', async () => {
  receiver.handle((_req, res) => {
    res.statusCode = 500;
    res.end('a\u0000b');
  });
  const r = await send(base());
  assert.equal(r.excerpt, 'ab');
});

test('a receiver that never answers times out at the total timeout', async () => {
  receiver.handle(() => {});
  const r = await send({ ...base(), totalTimeoutMs: 150 });
  assert.equal(r.statusCode, undefined);
  assert.equal(r.errorKind, 'timeout');
  assert.match(r.errorMessage!, /150 ms/);
});

test('a closed port is a connect_error', async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  const r = await send({ ...base(), url: `http://127.0.0.1:${port}/` });
  assert.equal(r.errorKind, 'connect_error');
});

test('an address refused by the SSRF guard is blocked_address', async () => {
  const guarded = new Agent({
    connect: (_opts, callback) => {
      const err = Object.assign(new Error('address 127.0.0.1 is not public'), { code: 'BLOCKED_ADDRESS' });
      callback(err, null);
    },
  });
  const r = await send({ ...base(), dispatcher: guarded });
  await guarded.close();
  assert.equal(r.errorKind, 'blocked_address');
});

test('a delivery-time refusal of a loopback address says how to allow it for development', async () => {
  // The real guarded agent under the default policy: what an attempt records is this message.
  const guarded = createGuardedAgent({
    policy: createAddressPolicy({ allowPrivateNetworks: false, allowedNetworks: [] }),
  });
  const r = await send({ ...base(), dispatcher: guarded });
  await guarded.close();
  assert.equal(r.errorKind, 'blocked_address');
  assert.match(r.errorMessage ?? '', /127\.0\.0\.1: loopback addresses are not allowed/);
  assert.match(r.errorMessage ?? '', /restart Herald with HERALD_ALLOW_PRIVATE_NETWORKS=true/);
});

test('an outside abort (drain) is reported as aborted', async () => {
  receiver.handle(() => {});
  const c = newCancellation();
  const pending = send({ ...base(), cancellation: c });
  setImmediate(() => cancel(c));
  assert.equal((await pending).errorKind, 'aborted');
});

test('the total timeout also covers waiting for a connection of a full pool', async () => {
  receiver.handle(() => {});
  const single = new Agent({ connections: 1 });
  const first = send({ ...base(), dispatcher: single, totalTimeoutMs: 400 });
  const second = send({ ...base(), dispatcher: single, totalTimeoutMs: 100 });
  // The second never got the one connection: it is over at its own timeout, not the first's.
  const r = await Promise.race([second, first.then(() => 'first finished first' as const)]);
  assert.notEqual(r, 'first finished first');
  assert.equal((r as Awaited<typeof second>).errorKind, 'timeout');
  assert.equal((await first).errorKind, 'timeout');
  await single.destroy();
});

test('a request whose cancellation was already cancelled is never sent', async () => {
  receiver.handle(() => {});
  const c = newCancellation();
  cancel(c);
  const before = receiver.requests.length;
  const late = await send({ ...base(), cancellation: c });
  assert.equal(late.errorKind, 'aborted');
  assert.equal(receiver.requests.length, before);
});
