/**
 * Operational webhooks end to end: a tenant's receiver fails, its deliveries are exhausted, its
 * circuit opens, a probe closes it; auto-disable disables another endpoint — and each of those is
 * delivered, once, signed the Standard Webhooks way, to the operator's operational endpoint by the
 * dispatcher and the pump (src/delivery/operational-pump.ts). An operational endpoint that fails
 * itself reports nothing. Time is the injected clock throughout.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import { Agent } from 'undici';
import { OPERATIONAL_TENANT_ID } from '../../src/core/operational-tenant.ts';
import { disableFailingEndpoints } from '../../src/delivery/auto-disable.ts';
import { createDispatcher, type DeliveryDispatcher } from '../../src/delivery/dispatcher.ts';
import { createOperationalPump, type OperationalPump } from '../../src/delivery/operational-pump.ts';
import { verifyWebhook } from '../../src/verify/index.ts';
import {
  insertEndpoint,
  insertTenant,
  type ManualClock,
  manualClock,
  publishOne,
  type ReceivedRequest,
  type Receiver,
  startReceiver,
  testSecretBox,
  waitFor,
} from '../support/delivery-fixtures.ts';
import { forEachStorage, freshDb, type TestDb } from '../support/storage.ts';

interface OperationalWebhook {
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
}

forEachStorage('operational events, delivered', (kind) => {
  let t: TestDb;
  let tenant: string;
  const agent = new Agent({ connect: { timeout: 1000 } });
  const open: Array<DeliveryDispatcher | Receiver | OperationalPump> = [];
  before(async () => {
    t = await freshDb(kind);
    tenant = await insertTenant(t.db);
  });
  afterEach(async () => {
    for (const x of open.splice(0).reverse()) {
      if ('url' in x) await x.close();
      else if ('runOnce' in x) await x.stop();
      else await x.stop({ graceMs: 0 });
    }
    await t.db.query('DELETE FROM endpoints');
  });
  after(async () => {
    await agent.close();
    await t.close();
  });

  async function start(
    clock: ManualClock,
  ): Promise<{ dispatcher: DeliveryDispatcher; pump: OperationalPump }> {
    const dispatcher = createDispatcher({
      db: t.db,
      secretBox: testSecretBox,
      agent,
      clock,
      random: () => 0.5,
      listen: false,
      config: { pollIntervalMs: 20, circuitFailureThreshold: 2, circuitCooldownMs: 30_000 },
    });
    open.push(dispatcher);
    await dispatcher.start();
    const pump = createOperationalPump({ db: t.db, handoff: dispatcher.handoff, clock, pollMs: 20 });
    open.push(pump);
    pump.start();
    return { dispatcher, pump };
  }

  async function receiver(status: () => number): Promise<Receiver> {
    const r = await startReceiver((_req, res) => res.writeHead(status()).end());
    open.push(r);
    return r;
  }

  /** The request's payload, its signature checked with the endpoint's secret at the clock's time. */
  function verified(req: ReceivedRequest, secret: string, clock: ManualClock): OperationalWebhook {
    return verifyWebhook<OperationalWebhook>({
      profile: 'standard',
      secret,
      body: req.body,
      headers: req.headers,
      now: clock.now(),
    });
  }

  const countOf = async (sql: string, params: unknown[] = []) =>
    (await t.db.query<{ n: number }>(sql, params))[0]!.n;

  test('exhausted deliveries, a circuit opening and closing, a recovery: each delivered once, signed', async () => {
    const clock = manualClock();
    let healthy = false;
    const app = await receiver(() => (healthy ? 200 : 503));
    const ops = await receiver(() => 200);
    // An operational endpoint that always fails: about it, nothing is ever reported.
    const broken = await receiver(() => 500);
    // One attempt each: a failure exhausts the delivery at once.
    const ep = await insertEndpoint(t.db, tenant, { url: app.url, retrySchedule: [] });
    const opsEp = await insertEndpoint(t.db, OPERATIONAL_TENANT_ID, { url: ops.url });
    const brokenEp = await insertEndpoint(t.db, OPERATIONAL_TENANT_ID, {
      url: broken.url,
      retrySchedule: [],
    });
    const { dispatcher } = await start(clock);

    const first = await publishOne(
      t.db,
      tenant,
      ep.id,
      { type: 'invoice.created' },
      { nextAttemptAt: clock.now() },
    );
    await waitFor('the first operational webhook', () => ops.requests.length >= 1);
    await publishOne(t.db, tenant, ep.id, {}, { nextAttemptAt: clock.now() });
    // The second failure in a row opens the circuit (threshold 2).
    await waitFor('three operational webhooks', () => ops.requests.length >= 3);

    // Cooled down, a probe succeeds: the circuit closes and the endpoint has recovered.
    healthy = true;
    await publishOne(t.db, tenant, ep.id, {}, { nextAttemptAt: clock.now() });
    clock.advance(30_001);
    dispatcher.wake();
    await waitFor('five operational webhooks', () => ops.requests.length >= 5);
    // Everything Herald published for itself is delivered (or failed, to the broken one).
    await waitFor('no operational delivery pending', async () => {
      const pending = await countOf(
        `SELECT count(*)::int AS n FROM deliveries WHERE tenant_id = $1 AND endpoint_id = $2 AND status = 'pending'`,
        [OPERATIONAL_TENANT_ID, opsEp.id],
      );
      return pending === 0 && (await countOf('SELECT count(*)::int AS n FROM operational_events')) === 0;
    });

    const got = ops.requests.map((r) => verified(r, opsEp.secret, clock));
    assert.deepEqual(got.map((w) => w.type).sort(), [
      'delivery.exhausted',
      'delivery.exhausted',
      'endpoint.circuit_closed',
      'endpoint.circuit_opened',
      'endpoint.recovered',
    ]);
    const exhausted = got.find(
      (w) => w.type === 'delivery.exhausted' && w.data['deliveryId'] === first.deliveryId,
    );
    assert.deepEqual(exhausted?.data, {
      tenantId: tenant,
      endpointId: ep.id,
      url: app.url,
      deliveryId: first.deliveryId,
      eventId: first.eventId,
      eventType: 'invoice.created',
      attempts: 1,
      lastStatusCode: 503,
      lastError: 'HTTP 503',
      failedAt: '2030-01-01T00:00:00.000Z',
    });
    const opened = got.find((w) => w.type === 'endpoint.circuit_opened')!;
    assert.equal(opened.data['endpointId'], ep.id);
    assert.equal(opened.data['consecutiveFailures'], 2);
    assert.match(String(opened.data['circuitReason']), /2 consecutive failed attempts/);
    const recovered = got.find((w) => w.type === 'endpoint.recovered')!;
    assert.equal(recovered.data['reportedAt'], new Date('2030-01-01T00:00:00Z').toISOString());
    // The envelope: Standard Webhooks' type, timestamp and data, with webhook-id the event id.
    for (const req of ops.requests) {
      assert.match(String(req.headers['webhook-id']), /^msg_[0-9A-Z]{26}$/);
      assert.match(String(req.headers['webhook-signature']), /^v1,/);
    }
    assert.equal(new Set(ops.requests.map((r) => r.headers['webhook-id'])).size, 5, 'no event twice');

    // No loop: the broken operational endpoint failed every delivery it got (and its circuit opened),
    // and Herald made no event of it — the five are all there is.
    assert.ok(broken.requests.length >= 2, `the broken endpoint was tried (${broken.requests.length})`);
    await waitFor('every request to it recorded as a failed delivery', async () => {
      const failed = await countOf(
        `SELECT count(*)::int AS n FROM deliveries WHERE endpoint_id = $1 AND status = 'failed'`,
        [brokenEp.id],
      );
      return failed === broken.requests.length;
    });
    // Recorded, and still no operational event about it.
    assert.equal(await countOf('SELECT count(*)::int AS n FROM operational_events'), 0);
    assert.equal(
      await countOf('SELECT count(*)::int AS n FROM events WHERE tenant_id = $1', [OPERATIONAL_TENANT_ID]),
      5,
    );
    assert.equal(
      await countOf('SELECT count(*)::int AS n FROM endpoints WHERE trouble_reported_at IS NOT NULL'),
      0,
      'only the tenant endpoint was ever reported, and it recovered',
    );
  });

  test('auto-disable: endpoint.disabled, delivered; an operational endpoint disabled reports nothing', async () => {
    const clock = manualClock();
    const ops = await receiver(() => 200);
    const opsEp = await insertEndpoint(t.db, OPERATIONAL_TENANT_ID, { url: ops.url });
    const failingSince = new Date(clock.now().getTime() - 6 * 86_400_000);
    const ep = await insertEndpoint(t.db, tenant, { url: 'http://127.0.0.1:9/', failingSince });
    // Failing as long, but Herald's own: disabled too, silently.
    await insertEndpoint(t.db, OPERATIONAL_TENANT_ID, { url: 'http://127.0.0.1:9/', failingSince });
    await start(clock);

    const disabled = await disableFailingEndpoints(t.db, {
      now: clock.now(),
      disableAfterSeconds: 5 * 86_400,
    });
    assert.equal(disabled.length, 2);
    await waitFor('the operational webhook', () => ops.requests.length >= 1);
    await waitFor(
      'the outbox empty',
      async () => (await countOf('SELECT count(*)::int AS n FROM operational_events')) === 0,
    );
    assert.equal(ops.requests.length, 1);
    const w = verified(ops.requests[0]!, opsEp.secret, clock);
    assert.equal(w.type, 'endpoint.disabled');
    assert.deepEqual(w.data, {
      tenantId: tenant,
      endpointId: ep.id,
      url: 'http://127.0.0.1:9/',
      reason: 'failing continuously for more than 5d',
      failingSince: failingSince.toISOString(),
      disabledAt: clock.now().toISOString(),
    });
    assert.equal(w.timestamp, clock.now().toISOString(), 'timestamp: when it happened');
  });
});
