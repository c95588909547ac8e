/**
 * Ed25519 endpoints through the API, on both storages: created with `signatureScheme: "ed25519"`
 * (or a caller's `whsk_` key), they answer their `whpk_` public key where an HMAC endpoint answers
 * its secret and never the secret key, which is stored sealed; a delivery to a loopback receiver
 * verifies with the verify library and the public key; a rotation keeps the old key signing for
 * the overlap (also from HMAC to Ed25519). Refusals are 400s naming the field.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { verifyWebhook } from 'herald/verify';
import { Agent } from 'undici';
import { createDispatcher, type DeliveryDispatcher } from '../../src/delivery/dispatcher.ts';
import { ed25519PublicKey } from '../../src/profiles/ed25519-keys.ts';
import { makeTestApp, type TestApp } from '../support/app.ts';
import { manualClock, type Receiver, startReceiver, waitFor } from '../support/delivery-fixtures.ts';
import { forEachStorage } from '../support/storage.ts';

const HOUR = 3600_000;
type Msg = { body: string; headers: Record<string, string> };

forEachStorage('ed25519 endpoints', (kind) => {
  let t: TestApp;
  let rx: Receiver;
  let dispatcher: DeliveryDispatcher;
  const agent = new Agent();
  // The API's clock stamps rotations; the dispatcher signs at real time.
  const apiClock = manualClock(new Date());

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

  /** Publishes one event to the tenant and answers the request the receiver got for it. */
  async function deliverOne(): Promise<Msg> {
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

  const verifies = (key: string, msg: Msg) => {
    try {
      verifyWebhook({ profile: 'standard', secret: key, ...msg });
      return true;
    } catch {
      return false;
    }
  };

  async function storedRow(id: string) {
    const [row] = await t.ctx.db.query<{ secret_enc: string; public_key: string | null }>(
      'SELECT secret_enc, public_key FROM endpoints WHERE id = $1',
      [id],
    );
    return row!;
  }

  test('created with signatureScheme ed25519: the whpk_ key everywhere, the secret key nowhere, a delivery verifies', async () => {
    const res = await t.request('POST', '/v1/tenants/acme/endpoints', {
      url: rx.url,
      signatureScheme: 'ed25519',
    });
    assert.equal(res.statusCode, 201, res.body);
    const created = res.json();
    assert.match(created.secret, /^whpk_[A-Za-z0-9+/]{43}=$/);
    assert.equal(created.signatureScheme, 'ed25519');
    assert.equal(created.publicKey, created.secret);
    const url = `/v1/tenants/acme/endpoints/${created.id}`;

    const got = await t.request('GET', url);
    assert.equal(got.json().publicKey, created.secret);
    assert.equal(got.json().signatureScheme, 'ed25519');
    assert.equal((await t.request('GET', `${url}/secret`)).json().secret, created.secret);
    const list = await t.request('GET', '/v1/tenants/acme/endpoints');
    for (const body of [res.body, got.body, list.body]) assert.doesNotMatch(body, /whsk_/);

    // Sealed at rest; the public key beside it, in the clear, is the secret key's.
    const row = await storedRow(created.id);
    assert.match(row.secret_enc, /^v1:/);
    const secretKey = t.ctx.secretBox.open(row.secret_enc);
    assert.match(secretKey, /^whsk_/);
    assert.equal(row.public_key, created.secret);
    assert.equal(ed25519PublicKey(secretKey), created.secret);

    const msg = await deliverOne();
    assert.match(msg.headers['webhook-signature']!, /^v1a,\S+$/);
    assert.ok(verifies(created.secret, msg));
    assert.ok(!verifies(created.secret, { ...msg, body: msg.body.replace('invoice.paid', 'invoice.void') }));
    await t.request('DELETE', url);
  });

  test('a caller’s whsk_ key: the answer is its public key; rotation keeps Ed25519 and both keys sign for 24 h', async () => {
    const own = 'whsk_VEVTVFNJR05JTkdLRVlET05PVFVTRVRISVNGT1JBTlk=';
    const res = await t.request('POST', '/v1/tenants/acme/endpoints', { url: rx.url, secret: own });
    assert.equal(res.statusCode, 201, res.body);
    const first = res.json().secret as string;
    assert.equal(first, ed25519PublicKey(own));
    const url = `/v1/tenants/acme/endpoints/${res.json().id}`;

    const rotated = await t.request('POST', `${url}/rotate-secret`, {});
    assert.equal(rotated.statusCode, 200, rotated.body);
    const second = rotated.json().secret as string;
    assert.match(second, /^whpk_/, 'a rotation without a scheme keeps the endpoint’s');
    assert.notEqual(second, first);
    assert.equal((await t.request('GET', url)).json().publicKey, second);
    assert.equal((await t.request('GET', `${url}/secret`)).json().secret, second);

    const overlap = await deliverOne();
    assert.equal(overlap.headers['webhook-signature']!.split(' ').length, 2);
    assert.ok(verifies(first, overlap));
    assert.ok(verifies(second, overlap));

    // Once the overlap is over, only the new key signs.
    apiClock.advance(-25 * HOUR);
    const third = (await t.request('POST', `${url}/rotate-secret`, {})).json().secret as string;
    apiClock.advance(25 * HOUR);
    const late = await deliverOne();
    assert.equal(late.headers['webhook-signature']!.split(' ').length, 1);
    assert.ok(verifies(third, late));
    assert.ok(!verifies(second, late));
    await t.request('DELETE', url);
  });

  test('rotating an HMAC endpoint to Ed25519: v1 and v1a for the overlap, each verified by its key', async () => {
    const res = await t.request('POST', '/v1/tenants/acme/endpoints', { url: rx.url });
    const hmac = res.json().secret as string;
    assert.equal(res.json().signatureScheme, 'hmac-sha256');
    assert.equal(res.json().publicKey, null);
    const url = `/v1/tenants/acme/endpoints/${res.json().id}`;
    const rotated = await t.request('POST', `${url}/rotate-secret`, { signatureScheme: 'ed25519' });
    assert.equal(rotated.statusCode, 200, rotated.body);
    const whpk = rotated.json().secret as string;
    assert.match(whpk, /^whpk_/);
    assert.equal((await t.request('GET', url)).json().signatureScheme, 'ed25519');

    const msg = await deliverOne();
    const versions = msg.headers['webhook-signature']!.split(' ').map((e) => e.split(',')[0]);
    assert.deepEqual(versions, ['v1a', 'v1']);
    assert.ok(verifies(hmac, msg));
    assert.ok(verifies(whpk, msg));

    // And back: the scheme is the new key's.
    const back = await t.request('POST', `${url}/rotate-secret`, { signatureScheme: 'hmac-sha256' });
    assert.match(back.json().secret, /^whsec_/);
    const after = await t.request('GET', url);
    assert.equal(after.json().signatureScheme, 'hmac-sha256');
    assert.equal(after.json().publicKey, null);
    assert.equal((await storedRow(res.json().id)).public_key, null);
    await t.request('DELETE', url);
  });

  test('refusals: 400 naming the field, nothing created or changed', async () => {
    const refused = async (method: string, path: string, body: unknown, field: string) => {
      const res = await t.request(method, path, body);
      assert.equal(res.statusCode, 400, `${JSON.stringify(body)}: ${res.body}`);
      const error = res.json().error;
      assert.ok(
        error.details?.some((d: { path?: string }) => d.path === field) || error.message.includes(field),
        `${JSON.stringify(body)}: ${res.body}`,
      );
      assert.doesNotMatch(res.body, /whsk_[A-Za-z0-9+/]{20}/, 'no key echoed');
    };
    const eps = '/v1/tenants/acme/endpoints';
    const seed = `whsk_${Buffer.alloc(32, 3).toString('base64')}`;
    await refused('POST', eps, { url: rx.url, secret: 'whsk_c2hvcnQ=' }, 'secret');
    await refused(
      'POST',
      eps,
      { url: rx.url, secret: seed, signatureScheme: 'hmac-sha256' },
      'signatureScheme',
    );
    await refused(
      'POST',
      eps,
      { url: rx.url, secret: `whsec_${Buffer.alloc(32, 3).toString('base64')}`, signatureScheme: 'ed25519' },
      'signatureScheme',
    );
    await refused('POST', eps, { url: rx.url, signatureScheme: 'rsa' }, 'signatureScheme');
    await refused(
      'POST',
      eps,
      { url: rx.url, profile: 'invoiceahoy', signatureScheme: 'ed25519' },
      'signatureScheme',
    );
    await refused('POST', eps, { url: rx.url, profile: 'invoiceahoy', secret: seed }, 'secret');
    assert.deepEqual((await t.request('GET', eps)).json().data, []);

    const ep = (await t.request('POST', eps, { url: rx.url, signatureScheme: 'ed25519' })).json();
    const url = `${eps}/${ep.id}`;
    await refused('PATCH', url, { profile: 'invoiceahoy' }, 'profile');
    await refused('PATCH', url, { signatureScheme: 'hmac-sha256' }, 'signatureScheme');
    await refused('POST', `${url}/rotate-secret`, { secret: 'whpk_abc' }, 'secret');
    const after = (await t.request('GET', url)).json();
    assert.equal(after.profile, 'standard');
    assert.equal(after.publicKey, ep.secret);
    await t.request('DELETE', url);
  });
});
