/**
 * Every wire-format profile end to end: endpoints set up and events published through the HTTP API,
 * the real dispatcher sending to loopback receivers written the way each product's document tells
 * its customers to verify (PHP under `php -S` for Courier Invoice and ShipStream).
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, test } from 'node:test';
import { Agent } from 'undici';
import { createDispatcher, type DeliveryDispatcher } from '../../src/delivery/dispatcher.ts';
import { startPhpReceiver } from '../profiles/php/php.ts';
import { makeTestApp, type TestApp } from '../support/app.ts';
import { type Receiver, startReceiver, waitFor } from '../support/delivery-fixtures.ts';
import { forEachStorage } from '../support/storage.ts';

forEachStorage('profile deliveries', (kind) => {
  let t: TestApp;
  let dispatcher: DeliveryDispatcher;
  const agent = new Agent();
  const closers: Array<() => Promise<void>> = [];
  let tenantN = 0;

  before(async () => {
    t = await makeTestApp(kind);
    dispatcher = createDispatcher({
      db: t.ctx.db,
      secretBox: t.ctx.secretBox,
      agent,
      config: { pollIntervalMs: 50 },
    });
    await dispatcher.start();
  });
  after(async () => {
    await dispatcher.stop({ graceMs: 0 });
    for (const close of closers.reverse()) await close();
    await agent.close();
    await t.close();
  });

  async function tenant(): Promise<string> {
    const id = `t${++tenantN}`;
    const res = await t.request('POST', '/v1/tenants', { id, name: id });
    assert.equal(res.statusCode, 201, res.body);
    return id;
  }

  async function endpoint(
    tid: string,
    body: Record<string, unknown>,
  ): Promise<{ id: string; secret: string }> {
    const res = await t.request('POST', `/v1/tenants/${tid}/endpoints`, body);
    assert.equal(res.statusCode, 201, res.body);
    return res.json();
  }

  async function publish(tid: string, body: unknown): Promise<string[]> {
    const res = await t.request('POST', `/v1/tenants/${tid}/events`, body);
    assert.equal(res.statusCode, 202, res.body);
    const json = res.json();
    const events = Array.isArray(json.data) ? json.data : [json];
    return events.map((e: { id: string }) => e.id);
  }

  async function deliveries(tid: string, endpointId: string) {
    const res = await t.request('GET', `/v1/tenants/${tid}/deliveries?endpointId=${endpointId}`);
    return res.json().data as Array<{ id: string; status: string; sequence: number; attempts?: unknown }>;
  }

  async function receiver(handler?: Parameters<typeof startReceiver>[0]): Promise<Receiver> {
    const r = await startReceiver(handler);
    closers.push(() => r.close());
    return r;
  }

  test('courier-invoice: a publish call with three events is ONE request, verified by the PHP receiver', async () => {
    const key = 'ci_private_key_e2e';
    const php = await startPhpReceiver('courier-invoice-receiver.php', {
      CI_PRIVATE_KEY: key,
      CI_ACCOUNT_NUMBER: 'A-1001',
    });
    closers.push(() => php.close());
    const tid = await tenant();
    const ep = await endpoint(tid, {
      url: php.url,
      profile: 'courier-invoice',
      profileOptions: { accountNumber: 'A-1001' },
      secret: key,
      retrySchedule: [],
    });
    await publish(tid, {
      events: [
        { type: 'ticket.oncall.received', data: { ticketNumber: 'T-1', url: 'https://c.test/t/1' } },
        { type: 'ticket.oncall.dispatch', data: { ticketNumber: 'T-2', driver: 'José' } },
        { type: 'ticket.contract.transfer', data: { ticketNumber: 'T-3', note: 'a/b é' } },
      ],
    });
    await waitFor('delivered', async () => (await deliveries(tid, ep.id))[0]?.status === 'succeeded');
    assert.deepEqual(php.verdicts(), [
      {
        verified: true,
        sameBytes: true,
        types: ['ticket.oncall.received', 'ticket.oncall.dispatch', 'ticket.contract.transfer'],
      },
    ]);
    assert.equal((await deliveries(tid, ep.id)).length, 1);
  });

  test('shipstream: message_id is the delivery sequence, the PHP receiver verifies every payload', async () => {
    const php = await startPhpReceiver('shipstream-receiver.php', { SHIPSTREAM_SECRET_KEY: 'ss_secret_e2e' });
    closers.push(() => php.close());
    const tid = await tenant();
    const ep = await endpoint(tid, { url: php.url, profile: 'shipstream', secret: 'ss_secret_e2e' });
    for (let i = 0; i < 3; i++) await publish(tid, { type: 'order:created', data: { order_id: 100 + i } });
    await waitFor('three verified', () => php.verdicts().length === 3);
    const sequences = (await deliveries(tid, ep.id)).map((d) => d.sequence).sort();
    assert.deepEqual(sequences, [1, 2, 3]);
    const verdicts = php.verdicts<{ verified: boolean; topic: string; message_id: number }>();
    assert.ok(verdicts.every((v) => v.verified && v.topic === 'order:created'));
    assert.deepEqual(verdicts.map((v) => v.message_id).sort(), sequences);
  });

  test('invoiceahoy: the document Node snippet verifies x-ia-signature', async () => {
    const secret = 'ia_secret_e2e';
    const verified: boolean[] = [];
    const r = await receiver((req, res) => {
      const hash = createHmac('sha256', secret).update(req.body).digest('hex');
      verified.push(hash === req.headers['x-ia-signature']);
      res.end();
    });
    const tid = await tenant();
    await endpoint(tid, { url: r.url, profile: 'invoiceahoy', secret });
    const [id] = await publish(tid, { type: 'invoice.created', data: { id: 'WAz8eIbvDR60rouK' } });
    await waitFor('received', () => r.requests.length === 1);
    assert.deepEqual(verified, [true]);
    assert.deepEqual(JSON.parse(r.requests[0]!.body), {
      id,
      type: 'invoice.created',
      payload: { id: 'WAz8eIbvDR60rouK' },
    });
  });

  test('altoviz: {"id": endpoint id, …} and X-SIGNATURE verify with the endpoint secret', async () => {
    const r = await receiver();
    const tid = await tenant();
    const ep = await endpoint(tid, { url: r.url, profile: 'altoviz' });
    await publish(tid, { type: 'CustomerCreated', data: { id: 370 } });
    await waitFor('received', () => r.requests.length === 1);
    const req = r.requests[0]!;
    assert.equal(req.headers['x-signature'], createHmac('sha256', ep.secret).update(req.body).digest('hex'));
    assert.deepEqual(JSON.parse(req.body), { id: ep.id, type: 'CustomerCreated', data: { id: 370 } });
  });

  test('corrigopro with a static bearer token: Authorization, Event-Type, charset content type', async () => {
    const r = await receiver();
    const tid = await tenant();
    await endpoint(tid, {
      url: r.url,
      profile: 'corrigopro',
      auth: { type: 'bearer', token: 'H4sIAAAEAG2MQQr' },
    });
    await publish(tid, { type: 'WorkOrderAccepted', data: { WorkOrderId: 42, Status: 'Accepted' } });
    await waitFor('received', () => r.requests.length === 1);
    const req = r.requests[0]!;
    assert.equal(req.headers.authorization, 'Bearer H4sIAAAEAG2MQQr');
    assert.equal(req.headers['event-type'], 'WorkOrderAccepted');
    assert.equal(req.headers['content-type'], 'application/json; charset=utf-8');
    const body = JSON.parse(req.body);
    assert.equal(body.Header.WorkOrderId, 42);
    assert.equal(body.Header.Action, 'WorkOrderAccepted');
    assert.equal(body.Status, 'Accepted');
  });

  test('corrigopro with OAuth 2: one token fetch for several deliveries, a new one after a 401', async () => {
    let issued = 0;
    const tokenServer = await receiver((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ access_token: `tok-${++issued}`, token_type: 'Bearer', expires_in: 3600 }));
    });
    let refuseNext = false;
    const r = await receiver((req, res) => {
      res.statusCode = refuseNext ? 401 : req.headers.authorization === `Bearer tok-${issued}` ? 200 : 403;
      refuseNext = false;
      res.end();
    });
    const tid = await tenant();
    const ep = await endpoint(tid, {
      url: r.url,
      profile: 'corrigopro',
      retrySchedule: [0],
      auth: {
        type: 'oauth2',
        tokenUrl: tokenServer.url,
        clientId: 'herald-client',
        clientSecret: 's3cr3t&=',
        scope: 'webhooks',
      },
    });
    await publish(tid, {
      events: [1, 2, 3].map((n) => ({ type: 'WorkOrderCreated', data: { WorkOrderId: n } })),
    });
    const done = (n: number) => async () =>
      (await deliveries(tid, ep.id)).filter((d) => d.status === 'succeeded').length === n;
    await waitFor('three delivered', done(3));
    assert.equal(tokenServer.requests.length, 1, 'one token for all three');
    const form = new URLSearchParams(tokenServer.requests[0]!.body);
    assert.deepEqual(Object.fromEntries(form), {
      grant_type: 'client_credentials',
      client_id: 'herald-client',
      client_secret: 's3cr3t&=',
      scope: 'webhooks',
    });
    assert.equal(tokenServer.requests[0]!.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.ok(r.requests.every((q) => q.headers.authorization === 'Bearer tok-1'));

    refuseNext = true;
    await publish(tid, { type: 'WorkOrderCreated', data: { WorkOrderId: 4 } });
    await waitFor('fourth delivered on its retry', done(4));
    assert.equal(tokenServer.requests.length, 2, 'fetched again after the 401');
    assert.deepEqual(
      r.requests.slice(3).map((q) => q.headers.authorization),
      ['Bearer tok-1', 'Bearer tok-2'],
    );
  });

  test('corrigopro with OAuth 2: a failed token fetch is a failed attempt (oauth_token_error), no request', async () => {
    const tokenServer = await receiver((_req, res) => {
      res.statusCode = 400;
      res.end('{"error":"invalid_client"}');
    });
    const r = await receiver();
    const tid = await tenant();
    const ep = await endpoint(tid, {
      url: r.url,
      profile: 'corrigopro',
      retrySchedule: [],
      auth: { type: 'oauth2', tokenUrl: tokenServer.url, clientId: 'c', clientSecret: 'wrong' },
    });
    await publish(tid, { type: 'WorkOrderCreated', data: { WorkOrderId: 1 } });
    const [d] = await waitFor('failed', async () => {
      const ds = await deliveries(tid, ep.id);
      return ds[0]?.status === 'failed' && ds;
    });
    const detail = (await t.request('GET', `/v1/tenants/${tid}/deliveries/${d!.id}`)).json();
    assert.equal(detail.attempts.length, 1);
    assert.equal(detail.attempts[0].errorKind, 'oauth_token_error');
    assert.match(detail.attempts[0].errorMessage, /HTTP 400/);
    assert.equal(r.requests.length, 0);
  });
});
