/**
 * Request header limits: too many or too large headers answer 431 HEADERS_TOO_LARGE with Herald's
 * JSON body — whether Herald's own check or Node's HTTP parser (over a real loopback socket) notices.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { makeTestApp, type TestApp } from '../support/app.ts';
import { forEachStorage } from '../support/storage.ts';

/** Sends raw bytes to 127.0.0.1:port and resolves with everything the server answered. */
function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    const chunks: Buffer[] = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
  });
}

function parse(raw: string): { status: number; headers: string; body: unknown } {
  const [head = '', body = ''] = raw.split('\r\n\r\n');
  return { status: Number(head.split(' ')[1]), headers: head, body: body ? JSON.parse(body) : undefined };
}

forEachStorage('request header limits', (kind) => {
  let t: TestApp;
  let port: number;

  before(async () => {
    t = await makeTestApp(kind, { config: { maxHeaderCount: 20, maxHeaderBytes: 2048 } });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    port = (t.app.server.address() as { port: number }).port;
  });
  after(() => t.close());

  test('at the limits a request passes', async () => {
    const headers: Record<string, string> = {};
    for (let i = 0; i < 18; i++) headers[`x-h${i}`] = 'v';
    const res = await t.app.inject({ method: 'GET', url: '/healthz', headers });
    // light-my-request adds user-agent and host: 20 in all.
    assert.equal(res.statusCode, 200, res.body);
  });

  test('too many headers: 431 HEADERS_TOO_LARGE', async () => {
    const headers: Record<string, string> = {};
    for (let i = 0; i < 30; i++) headers[`x-h${i}`] = 'v';
    const res = await t.app.inject({ method: 'GET', url: '/healthz', headers });
    assert.equal(res.statusCode, 431);
    assert.equal(res.json().error.code, 'HEADERS_TOO_LARGE');
    assert.match(res.json().error.message, /at most 20/);
  });

  test('too many header bytes: 431 HEADERS_TOO_LARGE, before authentication', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/tenants',
      headers: { 'x-big': 'a'.repeat(3000), 'content-type': 'application/json' },
      payload: JSON.stringify({ id: 'nope', name: 'n' }),
    });
    assert.equal(res.statusCode, 431);
    assert.equal(res.json().error.code, 'HEADERS_TOO_LARGE');
    assert.deepEqual(await t.ctx.db.query("SELECT id FROM tenants WHERE id = 'nope'"), []);
  });

  test('over a socket, a header block past Herald’s limit gets the JSON answer', async () => {
    const raw = await rawRequest(
      port,
      `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(4000)}\r\nConnection: close\r\n\r\n`,
    );
    const res = parse(raw);
    assert.equal(res.status, 431);
    const error = (res.body as { error: { code: string; message: string } }).error;
    assert.equal(error.code, 'HEADERS_TOO_LARGE');
    assert.match(error.message, /at most 2048/, 'Herald’s own check answered');
  });

  for (const size of [12 * 1024, 64 * 1024]) {
    test(`past Node’s own parser limit (${size} bytes), the answer is the same 431 JSON body`, async () => {
      // The parser's cap is Herald's limit + 8 KiB (10 KiB here, below Node's 16 KiB default): a
      // 12 KiB header is refused by the parser, which shows the cap was applied.
      const raw = await rawRequest(
        port,
        `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(size)}\r\n\r\n`,
      );
      const res = parse(raw);
      assert.equal(res.status, 431);
      assert.match(res.headers, /content-type: application\/json/i);
      const error = (res.body as { error: { code: string; message: string } }).error;
      assert.equal(error.code, 'HEADERS_TOO_LARGE');
      assert.doesNotMatch(error.message, /at most/, 'the parser answered, not the onRequest check');
    });
  }

  test('a request Node cannot parse gets 400 MALFORMED_REQUEST in Herald’s format', async () => {
    const res = parse(await rawRequest(port, 'NOT HTTP AT ALL\r\n\r\n'));
    assert.equal(res.status, 400);
    assert.equal((res.body as { error: { code: string } }).error.code, 'MALFORMED_REQUEST');
  });

  test('a normal request over the socket is unaffected', async () => {
    const res = parse(
      await rawRequest(port, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'),
    );
    assert.equal(res.status, 200);
  });
});
