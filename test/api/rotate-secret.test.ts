/**
 * Secret rotation, end to end: for 24 h after a rotation every delivery carries signatures from both
 * keys (each verifies with the standardwebhooks library); after that only the new key signs.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { Agent } from 'undici';
import { createDispatcher, type DeliveryDispatcher } from '../../src/delivery/dispatcher.ts';
import { makeTestApp, type TestApp } from '../support/app.ts';
import { manualClock, type Receiver, startReceiver, waitFor } from '../support/delivery-fixtures.ts';
import { forEachStorage } from '../support/storage.ts';

const HOUR = 3600_000;

forEachStorage('secret rotation', (kind) => {
  let t: TestApp;
  let rx: Receiver;
  let dispatcher: DeliveryDispatcher;
  const agent = new Agent();
  // The API's clock: rotations are stamped with it. The dispatcher signs at real time.
  const apiClock = manualClock(new Date(Date.now() - 25 * HOUR));

  before(async () => {
    t = await makeTestApp(kind, { clock: apiClock });
    rx = await startReceiver();
    dispatcher = createDispatcher({
      db: t.ctx.db,
      secretBox: t.ctx.secretBox,
      agent,
      config: { pollIntervalMs: 50 },
    });
    await dispatcher.start();
    await t.request('POST', '/v1/tenants', { id: 'acme', name: 'Acme' });
  });
  after(async () => {
    await dispatcher.stop({ graceMs: 0 });
    await rx.close();
    await agent.close();
    await t.close();
  });

  async function deliverOne(): Promise<{ body: string; headers: Record<string, string> }> {
    const before = rx.requests.length;
    const res = await t.request('POST', '/v1/tenants/acme/events', {
      type: 'invoice.paid',
      data: { n: before },
    });
    assert.equal(res.statusCode, 202, res.body);
    await waitFor('the delivery', () => rx.requests.length > before);
    const req = rx.requests[before]!;
    return { body: req.body, headers: req.headers as Record<string, string> };
  }

  const verifies = (secret: string, msg: { body: string; headers: Record<string, string> }) => {
    try {
      new Webhook(secret).verify(msg.body, msg.headers);
      return true;
    } catch {
      return false;
    }
  };

  test('both keys sign during the overlap, only the new one after it', async () => {
    const ep = await t.request('POST', '/v1/tenants/acme/endpoints', { url: rx.url });
    const first = ep.json().secret as string;
    const url = `/v1/tenants/acme/endpoints/${ep.json().id}`;

    // Rotated 25 h ago: the overlap is over, only the second key signs.
    const rotated = await t.request('POST', `${url}/rotate-secret`, {});
    assert.equal(rotated.statusCode, 200, rotated.body);
    const second = rotated.json().secret as string;
    assert.match(second, /^whsec_/);
    assert.notEqual(second, first);
    assert.equal((await t.request('GET', `${url}/secret`)).json().secret, second);
    const late = await deliverOne();
    assert.equal(late.headers['webhook-signature']!.split(' ').length, 1);
    assert.ok(verifies(second, late));
    assert.ok(!verifies(first, late));

    // Rotated now, to a chosen secret: both the second and the third key verify.
    apiClock.advance(25 * HOUR);
    const third = 'whsec_' + Buffer.alloc(32, 7).toString('base64');
    const again = await t.request('POST', `${url}/rotate-secret`, { secret: third });
    assert.equal(again.json().secret, third);
    const overlap = await deliverOne();
    assert.equal(overlap.headers['webhook-signature']!.split(' ').length, 2);
    assert.ok(verifies(third, overlap));
    assert.ok(verifies(second, overlap));
    assert.ok(!verifies(first, overlap));
  });

  test('a bad secret is refused and changes nothing', async () => {
    const ep = await t.request('POST', '/v1/tenants/acme/endpoints', { url: rx.url });
    const url = `/v1/tenants/acme/endpoints/${ep.json().id}`;
    const res = await t.request('POST', `${url}/rotate-secret`, { secret: 'short' });
    assert.equal(res.statusCode, 400);
    assert.equal((await t.request('GET', `${url}/secret`)).json().secret, ep.json().secret);
    const missing = await t.request('POST', '/v1/tenants/acme/endpoints/ep_missing/rotate-secret', {});
    assert.equal(missing.json().error.code, 'ENDPOINT_NOT_FOUND');
  });
});
