/**
 * GET …/deliveries/{id}/body (issue 18): the body a delivery carried, rebuilt from its events through
 * its endpoint's profile, compared byte for byte with what a real dispatcher sent to a loopback
 * receiver; and each case where it cannot be exact says so.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Agent } from 'undici';
import { createDispatcher, type DeliveryDispatcher } from '../../src/delivery/dispatcher.ts';
import { makeTestApp, type TestApp } from '../support/app.ts';
import {
  insertDelivery,
  insertEvent,
  type Receiver,
  startReceiver,
  waitFor,
} from '../support/delivery-fixtures.ts';
import { forEachStorage } from '../support/storage.ts';

interface BodyJson {
  body: string | null;
  contentType: string | null;
  exact: boolean;
  attemptNumber: number | null;
  notes: string[];
}

// Key order, non-ASCII text, U+2028 and a float: what a re-encoding would change.
const DATA = { zeta: 1, alpha: { b: 2, a: 1 }, clé: 'déjà vu\u2028', amount: 12.5 };

forEachStorage('delivery body', (kind) => {
  let t: TestApp;
  let rx: Receiver;
  let dispatcher: DeliveryDispatcher;
  const agent = new Agent();

  before(async () => {
    t = await makeTestApp(kind);
    rx = await startReceiver();
    dispatcher = createDispatcher({
      db: t.ctx.db,
      secretBox: t.ctx.secretBox,
      agent,
      config: { pollIntervalMs: 50 },
    });
    await dispatcher.start();
    assert.equal((await t.request('POST', '/v1/tenants', { id: 'acme', name: 'Acme' })).statusCode, 201);
  });
  after(async () => {
    await dispatcher.stop({ graceMs: 0 });
    await rx.close();
    await agent.close();
    await t.close();
  });

  const endpoint = async (path: string, fields: Record<string, unknown>) => {
    const res = await t.request('POST', '/v1/tenants/acme/endpoints', {
      url: `${rx.url}/${path}`,
      ...fields,
    });
    assert.equal(res.statusCode, 201, res.body);
    return res.json().id as string;
  };
  const deliveriesOf = async (eventId: string) =>
    (await t.request('GET', `/v1/tenants/acme/events/${eventId}`)).json().deliveries as Array<{
      deliveryId: string;
      endpointId: string;
      status: string;
    }>;
  const bodyOf = async (deliveryId: string) => {
    const res = await t.request('GET', `/v1/tenants/acme/deliveries/${deliveryId}/body`);
    assert.equal(res.statusCode, 200, res.body);
    return res.json() as BodyJson;
  };

  test('exactly the bytes sent, for every profile; the one that stamps the time of sending says it is not exact', async () => {
    const eps = {
      standard: await endpoint('standard', { eventTypes: ['body.*'] }),
      shipstream: await endpoint('shipstream', { eventTypes: ['body.*'], profile: 'shipstream' }),
      invoiceahoy: await endpoint('invoiceahoy', { eventTypes: ['body.*'], profile: 'invoiceahoy' }),
      altoviz: await endpoint('altoviz', { eventTypes: ['body.*'], profile: 'altoviz' }),
      corrigopro: await endpoint('corrigopro', {
        eventTypes: ['body.*'],
        profile: 'corrigopro',
        auth: { type: 'bearer', token: 'tok' },
        profileOptions: { apiVersion: '2.0' },
      }),
      // Batched: its one delivery holds both events of the call.
      courier: await endpoint('courier', {
        eventTypes: ['body.*', 'other.*'],
        profile: 'courier-invoice',
        profileOptions: { accountNumber: 'A-1' },
      }),
    };
    const published = await t.request('POST', '/v1/tenants/acme/events', {
      events: [
        { type: 'body.sent', data: DATA, occurredAt: '2024-05-01T08:00:00.123Z' },
        { type: 'other.x', data: { n: 2 } },
      ],
    });
    assert.equal(published.statusCode, 202, published.body);
    const eventId = published.json().data[0].id as string;
    const list = await waitFor('every delivery of the event to succeed', async () => {
      const ds = await deliveriesOf(eventId);
      return ds.length === 6 && ds.every((d) => d.status === 'succeeded') && ds;
    });
    for (const [name, endpointId] of Object.entries(eps)) {
      const d = list.find((x) => x.endpointId === endpointId)!;
      const got = await bodyOf(d.deliveryId);
      const sent = rx.requests.filter((r) => r.url === `/hook/${name}`);
      assert.equal(sent.length, 1, name);
      assert.equal(got.attemptNumber, 1, name);
      assert.equal(got.contentType, sent[0]!.headers['content-type'], name);
      if (name === 'courier') {
        // The call's two events, with the time of sending stamped in, to the second.
        assert.equal(got.exact, false);
        assert.match(got.notes.join(' '), /Courier Invoice format puts the time of sending into the body/);
        const stamp = (b: string) => JSON.parse(b).timestamp as number;
        const { timestamp: _a, ...rebuilt } = JSON.parse(got.body!);
        const { timestamp: _b, ...wire } = JSON.parse(sent[0]!.body);
        assert.deepEqual(rebuilt, wire);
        assert.ok(stamp(sent[0]!.body) - stamp(got.body!) <= 1 && stamp(sent[0]!.body) >= stamp(got.body!));
      } else {
        assert.equal(got.body, sent[0]!.body, `${name}: the bytes sent`);
        assert.deepEqual(got.notes, [], name);
        assert.equal(got.exact, true, name);
      }
    }
  });

  test('not sent yet, endpoint changed since, payload purged, and 404s', async () => {
    // A delivery not due for years: no attempt yet.
    const idle = await endpoint('idle', { eventTypes: ['idle.*'] });
    const createdAt = new Date('2024-06-01T12:00:00.250Z');
    const eventId = await insertEvent(t.ctx.db, 'acme', { type: 'idle.x', data: { a: 1 }, createdAt });
    const pending = await insertDelivery(t.ctx.db, {
      tenantId: 'acme',
      endpointId: idle,
      eventIds: [eventId],
      eventType: 'idle.x',
      nextAttemptAt: new Date('2100-01-01T00:00:00Z'),
    });
    const waiting = await bodyOf(pending.id);
    assert.equal(waiting.exact, true);
    assert.equal(waiting.attemptNumber, null);
    assert.deepEqual(waiting.notes, ['Not sent yet: this is the body its first attempt will carry.']);
    assert.equal(
      waiting.body,
      JSON.stringify({ type: 'idle.x', timestamp: createdAt.toISOString(), data: { a: 1 } }),
    );

    // Sent, then the endpoint edited: its profile may have been another when it was sent.
    const live = await endpoint('edited', { eventTypes: ['edit.*'] });
    const sent = (
      await t.request('POST', '/v1/tenants/acme/events', { type: 'edit.x', data: { b: 2 } })
    ).json();
    const done = await waitFor('the delivery', async () => {
      const [d] = await deliveriesOf(sent.id);
      return d?.status === 'succeeded' && d;
    });
    assert.equal((await bodyOf(done.deliveryId)).exact, true);
    const patched = await t.request('PATCH', `/v1/tenants/acme/endpoints/${live}`, { profile: 'altoviz' });
    assert.equal(patched.statusCode, 200, patched.body);
    const changed = await bodyOf(done.deliveryId);
    assert.equal(changed.exact, false);
    assert.match(changed.notes.join(' '), /endpoint was changed after this delivery was first sent/);
    assert.equal(changed.body, JSON.stringify({ id: live, type: 'edit.x', data: { b: 2 } }));

    // The retention job cleared the payload: nothing to show, and it says why.
    await t.ctx.db.query('UPDATE events SET data = NULL WHERE tenant_id = $1 AND id = $2', ['acme', eventId]);
    const purged = await bodyOf(pending.id);
    assert.deepEqual(purged, {
      body: null,
      contentType: null,
      exact: false,
      attemptNumber: null,
      notes: [`The payload of event ${eventId} was purged after the retention period.`],
    });

    await t.request('POST', '/v1/tenants', { id: 'globex', name: 'Globex' });
    const globexKey = await t.tenantKey('globex');
    for (const [url, key, code] of [
      ['/v1/tenants/acme/deliveries/dlv_missing/body', undefined, 'DELIVERY_NOT_FOUND'],
      [`/v1/tenants/globex/deliveries/${done.deliveryId}/body`, undefined, 'DELIVERY_NOT_FOUND'],
      [`/v1/tenants/acme/deliveries/${done.deliveryId}/body`, globexKey, 'TENANT_NOT_FOUND'],
      [`/v1/tenants/nobody/deliveries/${done.deliveryId}/body`, undefined, 'TENANT_NOT_FOUND'],
    ] as const) {
      const res = await t.request('GET', url, undefined, key);
      assert.equal(res.statusCode, 404, `${url}: ${res.body}`);
      assert.equal(res.json().error.code, code, url);
    }
  });
});
