/**
 * Rotation on the wire: while the rotated-out key is live, every standard delivery carries one
 * signature per key and verifies with both the `standardwebhooks` and the `svix` library under
 * either key; once its time is up, only the new key signs and the old one no longer verifies.
 * (test/api/rotate-secret.test.ts covers the API that starts the 24 h overlap.)
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { Agent } from 'undici';
import { createDispatcher, type DeliveryDispatcher } from '../../src/delivery/dispatcher.ts';
import {
  insertEndpoint,
  insertTenant,
  newSecret,
  publishOne,
  type Receiver,
  startReceiver,
  testSecretBox,
  waitFor,
} from '../support/delivery-fixtures.ts';
import { forEachStorage, freshDb, type TestDb } from '../support/storage.ts';

type Msg = { body: string; headers: Record<string, string> };

const LIBRARIES = {
  standardwebhooks: (secret: string, m: Msg) => new StandardWebhook(secret).verify(m.body, m.headers),
  svix: (secret: string, m: Msg) => new SvixWebhook(secret).verify(m.body, m.headers),
};

function verifiesWith(lib: keyof typeof LIBRARIES, secret: string, m: Msg): boolean {
  try {
    LIBRARIES[lib](secret, m);
    return true;
  } catch {
    return false;
  }
}

forEachStorage('standard rotation on the wire', (kind) => {
  let t: TestDb;
  let tenant: string;
  let rx: Receiver;
  let dispatcher: DeliveryDispatcher;
  const agent = new Agent();

  before(async () => {
    t = await freshDb(kind);
    tenant = await insertTenant(t.db);
    rx = await startReceiver();
    dispatcher = createDispatcher({
      db: t.db,
      secretBox: testSecretBox,
      agent,
      config: { pollIntervalMs: 50 },
    });
    await dispatcher.start();
  });
  after(async () => {
    await dispatcher.stop({ graceMs: 0 });
    await rx.close();
    await agent.close();
    await t.close();
  });

  async function deliveredWith(
    previousSecretUntil: Date,
  ): Promise<{ msg: Msg; current: string; old: string }> {
    const current = newSecret();
    const old = newSecret();
    const ep = await insertEndpoint(t.db, tenant, {
      url: rx.url,
      secret: current,
      previousSecret: old,
      previousSecretUntil,
    });
    const before = rx.requests.length;
    await publishOne(t.db, tenant, ep.id, { type: 'invoice.paid', data: { note: 'café / ünïcode' } });
    await waitFor('the delivery', () => rx.requests.length > before);
    const req = rx.requests[before]!;
    return { msg: { body: req.body, headers: req.headers as Record<string, string> }, current, old };
  }

  test('during the overlap both keys verify, with both libraries', async () => {
    const { msg, current, old } = await deliveredWith(new Date(Date.now() + 3600_000));
    assert.equal(msg.headers['webhook-signature']!.split(' ').length, 2);
    for (const lib of ['standardwebhooks', 'svix'] as const) {
      assert.ok(verifiesWith(lib, current, msg), `${lib}: new key`);
      assert.ok(verifiesWith(lib, old, msg), `${lib}: old key`);
      assert.ok(!verifiesWith(lib, newSecret(), msg), `${lib}: an unrelated key`);
    }
  });

  test('after the overlap only the new key verifies, with both libraries', async () => {
    const { msg, current, old } = await deliveredWith(new Date(Date.now() - 1000));
    assert.equal(msg.headers['webhook-signature']!.split(' ').length, 1);
    for (const lib of ['standardwebhooks', 'svix'] as const) {
      assert.ok(verifiesWith(lib, current, msg), `${lib}: new key`);
      assert.ok(!verifiesWith(lib, old, msg), `${lib}: old key`);
    }
  });
});
