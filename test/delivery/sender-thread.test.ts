/**
 * The sender thread (src/delivery/sender-thread.ts): requests made on a thread of their own answer
 * as `send` does in place, its agents keep the address policy, timeouts and cancellation reach
 * the thread, a thread that ends unasked fails what is out, and an idle one never holds the process.
 * Traffic goes to loopback only.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, afterEach, before, test } from 'node:test';
import type { Worker } from 'node:worker_threads';
import { cancel, newCancellation } from '../../src/delivery/sender.ts';
import { type SenderThread, startSenderThread, startSenderWorker } from '../../src/delivery/sender-thread.ts';
import { type Receiver, startReceiver, waitFor } from '../support/delivery-fixtures.ts';

const LOOPBACK = { allowPrivateNetworks: true, allowedNetworks: [] };
const base = { connectTimeoutMs: null, totalTimeoutMs: 5_000 };

let sender: SenderThread;
let rx: Receiver;
before(async () => {
  sender = await startSenderThread({ policy: LOOPBACK, connections: 64, keepAliveTimeoutMs: 5_000 });
});
after(() => sender.close());
afterEach(() => rx?.close());

test('a request made on the thread answers with status, headers and excerpt, and sends what it was given', async () => {
  rx = await startReceiver((_req, res) => {
    res.writeHead(201, { 'x-seen': 'yes' });
    res.end('created');
  });
  const r = await sender.send({
    ...base,
    url: `${rx.url}?q=1`,
    headers: { 'content-type': 'application/json', 'webhook-id': 'msg_1' },
    body: '{"a":1}',
  });
  assert.equal(r.statusCode, 201);
  assert.equal(r.errorKind, undefined);
  assert.equal(r.excerpt, 'created');
  assert.equal(r.responseHeaders['x-seen'], 'yes');
  assert.equal(rx.requests.length, 1);
  assert.equal(rx.requests[0]!.url, '/hook?q=1');
  assert.equal(rx.requests[0]!.headers['webhook-id'], 'msg_1');
  assert.equal(rx.requests[0]!.body, '{"a":1}');
});

test('many requests started at once each get their own answer', async () => {
  rx = await startReceiver((req, res) => {
    res.writeHead(req.body.endsWith('7}') ? 500 : 200);
    res.end(req.body);
  });
  const results = await Promise.all(
    Array.from({ length: 60 }, (_, i) =>
      sender.send({ ...base, url: rx.url, headers: {}, body: JSON.stringify({ n: i }) }),
    ),
  );
  results.forEach((r, i) => {
    assert.equal(r.excerpt, JSON.stringify({ n: i }));
    assert.equal(r.statusCode, String(i).endsWith('7') ? 500 : 200);
    assert.equal(r.errorKind, String(i).endsWith('7') ? 'http_status' : undefined);
  });
  assert.equal(rx.requests.length, 60);
});

test("the thread's agents keep the address policy: loopback refused unless an allowed network", async () => {
  rx = await startReceiver();
  const strict = await startSenderThread({
    policy: { allowPrivateNetworks: false, allowedNetworks: [] },
    connections: 4,
    keepAliveTimeoutMs: 1_000,
  });
  const allowed = await startSenderThread({
    policy: { allowPrivateNetworks: false, allowedNetworks: ['127.0.0.1/32'] },
    connections: 4,
    keepAliveTimeoutMs: 1_000,
  });
  try {
    const refused = await strict.send({ ...base, url: rx.url, headers: {}, body: '{}' });
    assert.equal(refused.errorKind, 'blocked_address');
    assert.equal(rx.requests.length, 0);
    const through = await allowed.send({ ...base, url: rx.url, headers: {}, body: '{}' });
    assert.equal(through.statusCode, 200);
    assert.equal(rx.requests.length, 1);
  } finally {
    await strict.close();
    await allowed.close();
  }
});

test('the total timeout ends a request the receiver never answers', async () => {
  rx = await startReceiver(() => {});
  const r = await sender.send({ ...base, totalTimeoutMs: 200, url: rx.url, headers: {}, body: '{}' });
  assert.equal(r.errorKind, 'timeout');
  assert.equal(r.statusCode, undefined);
});

test('a cancelled request answers aborted: out on the thread, or before it was sent', async () => {
  rx = await startReceiver(() => {});
  const c = newCancellation();
  const out = sender.send({ ...base, url: rx.url, headers: {}, body: '{}', cancellation: c });
  await waitFor('the request to arrive', () => rx.requests.length === 1);
  cancel(c);
  assert.equal((await out).errorKind, 'aborted');

  const early = newCancellation();
  cancel(early);
  const r = await sender.send({ ...base, url: rx.url, headers: {}, body: '{}', cancellation: early });
  assert.equal(r.errorKind, 'aborted');
  assert.equal(rx.requests.length, 1, 'nothing was sent for the request cancelled before it went');
});

test('a thread that ends unasked fails what is out and what comes after, and says so once', async () => {
  rx = await startReceiver(() => {});
  let worker: Worker | undefined;
  const lost: Error[] = [];
  const s = await startSenderThread(
    { policy: LOOPBACK, connections: 4, keepAliveTimeoutMs: 1_000 },
    {
      onLost: (err) => lost.push(err),
      startThread: (o) => {
        worker = startSenderWorker(o);
        return worker;
      },
    },
  );
  const out = s.send({ ...base, url: rx.url, headers: {}, body: '{}' });
  await waitFor('the request to arrive', () => rx.requests.length === 1);
  await worker!.terminate();
  const r = await out;
  assert.equal(r.errorKind, 'network_error');
  assert.match(r.errorMessage ?? '', /sender thread ended/);
  const later = await s.send({ ...base, url: rx.url, headers: {}, body: '{}' });
  assert.equal(later.errorKind, 'network_error');
  assert.equal(lost.length, 1);
  await s.close();
});

/** Runs `code` (ES module, top-level await) in a child process; its exit status and output. */
function runChild(code: string) {
  const module = new URL('../../src/delivery/sender-thread.ts', import.meta.url).href;
  const prelude = `
    import { createServer } from 'node:http';
    const server = createServer((_req, res) => res.end('ok')).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const { startSenderThread } = await import(${JSON.stringify(module)});
    const s = await startSenderThread({ policy: { allowPrivateNetworks: true, allowedNetworks: [] }, connections: 2, keepAliveTimeoutMs: 60_000 });
    const r = await s.send({ url: 'http://127.0.0.1:' + server.address().port + '/', headers: {}, body: '{}', connectTimeoutMs: null, totalTimeoutMs: 5000 });
    server.closeAllConnections();
    server.close();`;
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', prelude + code], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(run.signal, null, 'the process was still running after 30 s');
  assert.equal(run.status, 0, run.stderr);
  return run.stdout;
}

test('an idle sender thread never holds the process open', () => {
  // Started, a request made, never closed: the process ends by itself.
  assert.match(runChild(`console.log('done', r.statusCode);`), /done 200/);
});

test('closing waits for the thread even in a process with nothing else to do', () => {
  // The code after `close()` runs: the process did not end while close() waited on the thread.
  assert.match(runChild(`await s.close(); console.log('closed', r.statusCode);`), /closed 200/);
});
