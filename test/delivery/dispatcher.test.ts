import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { Agent } from 'undici';
import type { Clock } from '../../src/core/clock.ts';
import { createDispatcher, type DeliveryDispatcher } from '../../src/delivery/dispatcher.ts';
import { createMetrics, type WorkerMetrics } from '../../src/metrics/metrics.ts';
import {
  attemptsOf,
  deliveryState,
  type EndpointFixture,
  insertEndpoint,
  insertTenant,
  manualClock,
  publishOne,
  type Receiver,
  startReceiver,
  testSecretBox,
  waitFor,
} from '../support/delivery-fixtures.ts';
import { forEachStorage, freshDb, type TestDb } from '../support/storage.ts';

forEachStorage('dispatcher outcomes', (kind) => {
  let t: TestDb;
  let tenant: string;
  const agent = new Agent({ connect: { timeout: 1000 } });
  const open: Array<{ stop(): Promise<unknown> } | Receiver> = [];
  before(async () => {
    t = await freshDb(kind);
    tenant = await insertTenant(t.db);
  });
  afterEach(async () => {
    for (const x of open.splice(0).reverse()) await ('url' in x ? x.close() : x.stop());
    // Nothing a test leaves pending may be picked up by the next test's dispatcher.
    await t.db.query(`DELETE FROM deliveries WHERE status = 'pending'`);
  });
  after(async () => {
    await agent.close();
    await t.close();
  });

  function dispatcher(opts: { clock?: Clock; metrics?: WorkerMetrics } = {}): DeliveryDispatcher {
    const d = createDispatcher({
      db: t.db,
      secretBox: testSecretBox,
      agent,
      ...(opts.clock ? { clock: opts.clock } : {}),
      ...(opts.metrics ? { metrics: opts.metrics } : {}),
      random: () => 0.5,
      config: { pollIntervalMs: 50 },
    });
    open.push(d);
    return d;
  }

  async function receiver(handler?: Parameters<typeof startReceiver>[0]): Promise<Receiver> {
    const r = await startReceiver(handler);
    open.push(r);
    return r;
  }

  async function endpoint(r: Receiver, e: Partial<EndpointFixture> = {}) {
    return insertEndpoint(t.db, tenant, { url: r.url, ...e });
  }

  /** The attempt `n` has been recorded and the delivery is no longer held. */
  const recorded = (id: string, n: number) => async () => {
    const s = await deliveryState(t.db, id);
    return s.attempt_count === n && s.locked_by === null && s;
  };

  test('success: signed request verified by standardwebhooks, headers and auth sent, attempt recorded', async () => {
    const r = await receiver();
    const ep = await endpoint(r, {
      headers: { 'X-Tenant-Ref': 'abc' },
      auth: { type: 'bearer', token: 'tok-123' },
      failingSince: new Date(Date.now() - 60_000),
    });
    const metrics = createMetrics({ db: t.db, deliveries: true });
    const d = dispatcher({ metrics });
    const { eventId, deliveryId, sequence } = await publishOne(t.db, tenant, ep.id, {
      type: 'invoice.paid',
      data: { invoice: 'in_1', total: 10 },
    });
    await d.start();
    const done = await waitFor('success', async () => {
      const s = await deliveryState(t.db, deliveryId);
      return s.status === 'succeeded' && s;
    });
    assert.ok(done.completed_at);
    assert.equal(done.last_status_code, 200);

    const req = r.requests[0]!;
    const payload = new Webhook(ep.secret).verify(req.body, req.headers as Record<string, string>) as {
      type: string;
      data: unknown;
    };
    assert.equal(payload.type, 'invoice.paid');
    assert.deepEqual(payload.data, { invoice: 'in_1', total: 10 });
    assert.equal(req.headers['webhook-id'], eventId);
    assert.equal(req.headers['herald-sequence'], String(sequence));
    assert.equal(req.headers['herald-attempt'], '1');
    assert.equal(req.headers['herald-event-type'], 'invoice.paid');
    assert.equal(req.headers['x-tenant-ref'], 'abc');
    assert.equal(req.headers.authorization, 'Bearer tok-123');

    const [att] = await attemptsOf(t.db, deliveryId);
    assert.equal(att!.status_code, 200);
    assert.equal(att!.error_kind, null);
    assert.equal(att!.response_excerpt, 'ok');
    assert.equal(att!.request_headers!['authorization'], '[redacted]');
    const [epRow] = await t.db.query<{ failing_since: Date | null }>(
      'SELECT failing_since FROM endpoints WHERE id = $1',
      [ep.id],
    );
    assert.equal(epRow!.failing_since, null, 'a success clears failing_since');

    const text = (await metrics.render()).body;
    assert.match(text, /herald_deliveries_total\{outcome="succeeded"\} 1/);
    assert.match(text, /herald_attempt_duration_seconds_count\{outcome="succeeded"\} 1/);
    assert.match(text, /herald_due_backlog 0/);
    assert.match(text, /herald_oldest_due_age_seconds 0/);
  });

  test('retries on a short schedule, then succeeds; same webhook-id, attempt numbers counted', async () => {
    const clock = manualClock();
    const r = await receiver((_req, res, i) => {
      res.statusCode = i < 2 ? 500 : 200;
      res.end(i < 2 ? 'not yet' : 'ok');
    });
    const ep = await endpoint(r, { retrySchedule: [1, 1] });
    const { deliveryId } = await publishOne(t.db, tenant, ep.id, {}, { nextAttemptAt: clock.now() });
    const d = dispatcher({ clock });
    await d.start();

    const first = await waitFor('attempt 1', recorded(deliveryId, 1));
    assert.equal(first.status, 'pending');
    assert.equal(first.next_attempt_at!.getTime(), clock.now().getTime() + 1000);
    clock.advance(1000);
    d.wake();
    await waitFor('attempt 2', recorded(deliveryId, 2));
    clock.advance(1000);
    d.wake();
    const last = await waitFor('success', async () => {
      const s = await deliveryState(t.db, deliveryId);
      return s.status === 'succeeded' && s;
    });
    assert.equal(last.attempt_count, 3);
    assert.deepEqual(
      r.requests.map((q) => q.headers['herald-attempt']),
      ['1', '2', '3'],
    );
    assert.equal(new Set(r.requests.map((q) => q.headers['webhook-id'])).size, 1);
    const attempts = await attemptsOf(t.db, deliveryId);
    assert.deepEqual(
      attempts.map((a) => [a.attempt_number, a.status_code, a.error_kind]),
      [
        [1, 500, 'http_status'],
        [2, 500, 'http_status'],
        [3, 200, null],
      ],
    );
  });

  test('an exhausted schedule makes the delivery failed, every attempt recorded', async () => {
    const clock = manualClock();
    const r = await receiver((_req, res) => {
      res.statusCode = 500;
      res.end('nope');
    });
    const ep = await endpoint(r, { retrySchedule: [1] });
    const { deliveryId } = await publishOne(t.db, tenant, ep.id, {}, { nextAttemptAt: clock.now() });
    const d = dispatcher({ clock });
    await d.start();
    await waitFor('attempt 1', recorded(deliveryId, 1));
    clock.advance(1000);
    d.wake();
    const s = await waitFor('failed', async () => {
      const s = await deliveryState(t.db, deliveryId);
      return s.status === 'failed' && s;
    });
    assert.equal(s.next_attempt_at, null);
    assert.equal(s.completed_at!.getTime(), clock.now().getTime());
    assert.equal(s.last_error, 'HTTP 500');
    const attempts = await attemptsOf(t.db, deliveryId);
    assert.equal(attempts.length, 2);
    for (const a of attempts) {
      assert.equal(a.status_code, 500);
      assert.equal(a.error_kind, 'http_status');
      assert.equal(a.response_excerpt, 'nope');
      assert.ok(a.duration_ms >= 0);
    }
    const [epRow] = await t.db.query<{ failing_since: Date | null }>(
      'SELECT failing_since FROM endpoints WHERE id = $1',
      [ep.id],
    );
    assert.equal(
      epRow!.failing_since?.getTime(),
      clock.now().getTime() - 1000,
      'failing since the first failure',
    );
  });

  test('a receiver that never answers: timeout at the endpoint total timeout', async () => {
    const r = await receiver(() => {});
    const ep = await endpoint(r, { retrySchedule: [], totalTimeoutMs: 200 });
    const { deliveryId } = await publishOne(t.db, tenant, ep.id);
    await dispatcher().start();
    const s = await waitFor('failed', async () => {
      const s = await deliveryState(t.db, deliveryId);
      return s.status === 'failed' && s;
    });
    assert.equal(s.last_status_code, null);
    const [a] = await attemptsOf(t.db, deliveryId);
    assert.equal(a!.error_kind, 'timeout');
    assert.equal(a!.status_code, null);
    assert.equal(a!.response_excerpt, null);
  });

  test('410 Gone disables the endpoint', async () => {
    const clock = manualClock();
    const r = await receiver((_req, res) => {
      res.statusCode = 410;
      res.end('gone');
    });
    const ep = await endpoint(r, { retrySchedule: [1] });
    const { deliveryId } = await publishOne(t.db, tenant, ep.id, {}, { nextAttemptAt: clock.now() });
    await dispatcher({ clock }).start();
    const s = await waitFor('attempt 1', recorded(deliveryId, 1));
    assert.equal(s.status, 'pending', 'kept, resumable if the endpoint is enabled again');
    const [row] = await t.db.query<{ active: boolean; disabled_reason: string; disabled_at: Date }>(
      'SELECT active, disabled_reason, disabled_at FROM endpoints WHERE id = $1',
      [ep.id],
    );
    assert.equal(row!.active, false);
    assert.equal(row!.disabled_reason, 'gone (HTTP 410)');
    assert.equal(row!.disabled_at.getTime(), clock.now().getTime());
  });

  test('Retry-After on 429 is honoured', async () => {
    const clock = manualClock();
    const r = await receiver((_req, res) => {
      res.statusCode = 429;
      res.setHeader('retry-after', '120');
      res.end();
    });
    const ep = await endpoint(r, { retrySchedule: [1, 1] });
    const { deliveryId } = await publishOne(t.db, tenant, ep.id, {}, { nextAttemptAt: clock.now() });
    await dispatcher({ clock }).start();
    const s = await waitFor('attempt 1', recorded(deliveryId, 1));
    assert.equal(s.next_attempt_at!.getTime(), clock.now().getTime() + 120_000);
    const [a] = await attemptsOf(t.db, deliveryId);
    assert.equal(a!.response_headers!['retry-after'], '120');
  });

  test('OAuth 2 auth without usable credentials: a failed attempt without a request', async () => {
    const r = await receiver();
    const ep = await endpoint(r, { retrySchedule: [], auth: { type: 'oauth2' } });
    const { deliveryId } = await publishOne(t.db, tenant, ep.id);
    await dispatcher().start();
    await waitFor('failed', async () => (await deliveryState(t.db, deliveryId)).status === 'failed');
    const [a] = await attemptsOf(t.db, deliveryId);
    assert.equal(a!.error_kind, 'oauth_token_error');
    assert.equal(r.requests.length, 0);
  });
});
