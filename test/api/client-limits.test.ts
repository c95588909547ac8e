/**
 * A client cannot hold the API's sockets indefinitely (src/api/client-limits.ts, issue 16): a body
 * declared and never sent, headers never finished, an idle connection — each is answered 408 in
 * Herald's format or closed. Over real loopback sockets, with the limits shortened.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { makeTestApp, type TestApp } from '../support/app.ts';

let t: TestApp;
let port: number;

before(async () => {
  t = await makeTestApp('pglite', {
    clientLimits: { headersMs: 300, requestMs: 400, keepAliveMs: 300, socketIdleMs: 2_000, checkEveryMs: 50 },
  });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  port = (t.app.server.address() as { port: number }).port;
});
after(() => t.close());

/** Opens a socket, writes `text`, and resolves with all it received once the server closed it. */
function heldOpen(text: string): Promise<{ answer: string; socket: Socket }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    const chunks: Buffer[] = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => resolve({ answer: Buffer.concat(chunks).toString('latin1'), socket }));
  });
}

test('a body declared and never sent: 408 REQUEST_TIMEOUT, connection closed', async () => {
  const { answer } = await heldOpen(
    `POST /v1/tenants HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${t.adminKey}\r\n` +
      'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"id":',
  );
  assert.match(answer, /^HTTP\/1\.1 408 /);
  assert.match(answer, /"code":"REQUEST_TIMEOUT"/);
  // Herald's own operational tenant is there from the start (migration 015).
  const [tenants] = await t.ctx.db.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM tenants WHERE id <> '_herald'",
  );
  assert.equal(tenants!.n, 0, 'nothing written');
});

test('headers never finished: 408, connection closed', async () => {
  const { answer } = await heldOpen('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ');
  assert.match(answer, /^HTTP\/1\.1 408 /);
});

test('an idle kept-alive connection is closed after a request', async () => {
  const { answer } = await heldOpen('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.match(answer, /^HTTP\/1\.1 200 /, 'answered, then closed when idle');
});

test('over the connection cap, a new connection is closed unanswered', async () => {
  const capped = await makeTestApp('pglite', { clientLimits: { maxConnections: 1 } });
  try {
    await capped.app.listen({ port: 0, host: '127.0.0.1' });
    const cappedPort = (capped.app.server.address() as { port: number }).port;
    const first = connect(cappedPort, '127.0.0.1');
    await new Promise((resolve) => first.once('connect', resolve));
    const second = await new Promise<string>((resolve) => {
      const s = connect(cappedPort, '127.0.0.1', () => s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'));
      const chunks: Buffer[] = [];
      s.on('data', (c) => chunks.push(c));
      s.on('error', () => {});
      s.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    });
    assert.equal(second, '', 'refused without an answer');
    first.destroy();
    assert.equal(t.app.server.maxConnections, 10_000, 'the default');
  } finally {
    await capped.close();
  }
});
