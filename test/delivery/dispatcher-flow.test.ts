import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { after, afterEach, before, test } from 'node:test';
import { Agent } from 'undici';
import type { Clock } from '../../src/core/clock.ts';
import {
  createDispatcher,
  type DeliveryDispatcher,
  type DispatcherConfig,
} from '../../src/delivery/dispatcher.ts';
import { claimDeliveries } from '../../src/queue/claim-deliveries.ts';
import { wakeDispatchers } from '../../src/queue/notify.ts';
import {
  attemptsOf,
  deliveryState,
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

forEachStorage('dispatcher flow control', (kind) => {
  let t: TestDb;
  let tenant: string;
  const agent = new Agent({ connect: { timeout: 1000 } });
  const open: Array<DeliveryDispatcher | Receiver> = [];
  before(async () => {
    t = await freshDb(kind);
    tenant = await insertTenant(t.db);
  });
  afterEach(async () => {
    for (const x of open.splice(0).reverse()) await ('url' in x ? x.close() : x.stop({ graceMs: 0 }));
    await t.db.query(`DELETE FROM deliveries WHERE status = 'pending'`);
  });
  after(async () => {
    await agent.close();
    await t.close();
  });

  function dispatcher(
    clock?: Clock,
    config: Partial<DispatcherConfig> = {},
    workerId?: string,
  ): DeliveryDispatcher {
    const d = createDispatcher({
      db: t.db,
      secretBox: testSecretBox,
      agent,
      ...(clock ? { clock } : {}),
      ...(workerId ? { workerId } : {}),
      random: () => 0.5,
      config: { pollIntervalMs: 50, ...config },
    });
    open.push(d);
    return d;
  }

  async function receiver(handler?: Parameters<typeof startReceiver>[0]): Promise<Receiver> {
    const r = await startReceiver(handler);
    open.push(r);
    return r;
  }

  const status = (id: string, want: string) => async () => (await deliveryState(t.db, id)).status === want;

  test('fifo: one at a time in sequence order, even when the first needs a retry', async () => {
    const clock = manualClock();
    const r = await receiver((_req, res, i) => {
      res.statusCode = i === 0 ? 500 : 200;
      res.end();
    });
    const ep = await insertEndpoint(t.db, tenant, { url: r.url, ordering: 'fifo', retrySchedule: [1, 1] });
    const ds: Array<Awaited<ReturnType<typeof publishOne>>> = [];
    for (let i = 0; i < 3; i++)
      ds.push(await publishOne(t.db, tenant, ep.id, {}, { nextAttemptAt: clock.now() }));
    const d = dispatcher(clock);
    await d.start();
    await waitFor('first attempt recorded', async () => {
      const s = await deliveryState(t.db, ds[0]!.deliveryId);
      return s.attempt_count === 1 && s.locked_by === null;
    });
    clock.advance(1000);
    d.wake();
    await waitFor('all delivered', status(ds[2]!.deliveryId, 'succeeded'));
    // Without fifo, sequences 2 and 3 (due at once) would have gone before the retry of 1.
    assert.deepEqual(
      r.requests.map((q) => Number(q.headers['herald-sequence'])),
      [ds[0]!.sequence, ds[0]!.sequence, ds[1]!.sequence, ds[2]!.sequence],
    );
  });

  test('lease expiry: a claim never completed is taken over once its lease runs out', async () => {
    const clock = manualClock();
    const r = await receiver();
    const ep = await insertEndpoint(t.db, tenant, { url: r.url, totalTimeoutMs: 1000 });
    const { deliveryId } = await publishOne(t.db, tenant, ep.id, {}, { nextAttemptAt: clock.now() });
    const crashed = await claimDeliveries(t.db, {
      workerId: 'crashed-worker',
      limit: 10,
      leaseMs: 5000,
      defaultTotalTimeoutMs: 15_000,
      now: clock.now(),
    });
    assert.equal(crashed.deliveries.length, 1);

    const d = dispatcher(clock, {}, 'rescuer');
    await d.start();
    clock.advance(6000);
    d.wake();
    await waitFor('taken over', status(deliveryId, 'succeeded'));
    assert.equal(r.requests.length, 1);
    assert.equal(r.requests[0]!.headers['herald-attempt'], '2', 'the lost claim counted as an attempt');
  });

  test('drain: no new claims, in-flight requests finish and are recorded within the grace period', async () => {
    const clock = manualClock();
    const held: ServerResponse[] = [];
    const r = await receiver((_req, res) => held.push(res));
    const ep = await insertEndpoint(t.db, tenant, { url: r.url });
    const a = await publishOne(t.db, tenant, ep.id, {}, { nextAttemptAt: clock.now() });
    const d = dispatcher(clock);
    await d.start();
    await waitFor('request out', () => held.length === 1);

    let stopped = false;
    const stopping = d.stop({ graceMs: 30_000 }).then(() => {
      stopped = true;
    });
    const b = await publishOne(t.db, tenant, ep.id, {}, { nextAttemptAt: clock.now() });
    await wakeDispatchers(t.db);
    d.wake();
    held[0]!.end('ok');
    await waitFor('in-flight one recorded while draining', status(a.deliveryId, 'succeeded'));
    await stopping;
    assert.ok(stopped);
    assert.equal(held.length, 1, 'nothing claimed after stop');
    const sb = await deliveryState(t.db, b.deliveryId);
    assert.equal(sb.attempt_count, 0);
    assert.equal(sb.locked_by, null);
  });

  test('drain: after the grace period, unanswered requests are abandoned and their claims released', async () => {
    const clock = manualClock();
    const held: ServerResponse[] = [];
    const r = await receiver((_req, res) => held.push(res));
    const ep = await insertEndpoint(t.db, tenant, { url: r.url });
    const ds: Array<Awaited<ReturnType<typeof publishOne>>> = [];
    for (let i = 0; i < 2; i++)
      ds.push(await publishOne(t.db, tenant, ep.id, {}, { nextAttemptAt: clock.now() }));
    const d = dispatcher(clock);
    await d.start();
    await waitFor('both requests out', () => held.length === 2);
    await d.stop({ graceMs: 0 });
    assert.equal(d.inFlight, 0);
    for (const x of ds) {
      const s = await deliveryState(t.db, x.deliveryId);
      assert.equal(s.status, 'pending');
      assert.equal(s.locked_by, null);
      assert.equal(s.attempt_count, 0, 'the abandoned attempt is not counted');
      assert.equal(s.next_attempt_at!.getTime(), clock.now().getTime(), 'due again at once');
      assert.equal((await attemptsOf(t.db, x.deliveryId)).length, 0);
    }
  });

  test('rate limit: deliveries over the limit go back to the queue, spread one interval apart', async () => {
    const clock = manualClock();
    const r = await receiver();
    const ep = await insertEndpoint(t.db, tenant, { url: r.url, rateLimitPerSecond: 1 });
    const ds: Array<Awaited<ReturnType<typeof publishOne>>> = [];
    for (let i = 0; i < 3; i++)
      ds.push(await publishOne(t.db, tenant, ep.id, {}, { nextAttemptAt: clock.now() }));
    const d = dispatcher(clock);
    await d.start();
    await waitFor('one sent, two deferred', async () => {
      const states = await Promise.all(ds.map((x) => deliveryState(t.db, x.deliveryId)));
      // Deferred: given back and pushed ahead (not merely not claimed yet, or mid-claim).
      const deferred = states.filter(
        (s) => s.status === 'pending' && s.locked_by === null && s.next_attempt_at! > clock.now(),
      );
      return states.some((s) => s.status === 'succeeded') && deferred.length === 2 && deferred;
    }).then((deferred) => {
      const at = deferred
        .map((s) => s.next_attempt_at!.getTime() - clock.now().getTime())
        .sort((x, y) => x - y);
      assert.deepEqual(at, [1000, 2000]);
      for (const s of deferred) assert.equal(s.attempt_count, 0, 'a deferral is not an attempt');
    });
    assert.equal(r.requests.length, 1);

    clock.advance(1000);
    d.wake();
    await waitFor('second sent', () => r.requests.length === 2);
    clock.advance(1000);
    d.wake();
    await waitFor('all sent', async () =>
      (await Promise.all(ds.map((x) => deliveryState(t.db, x.deliveryId)))).every(
        (s) => s.status === 'succeeded',
      ),
    );
  });

  test('NOTIFY wakes an idle dispatcher long before its next poll', async () => {
    const r = await receiver();
    const ep = await insertEndpoint(t.db, tenant, { url: r.url });
    const d = dispatcher(undefined, { pollIntervalMs: 60_000 });
    await d.start();
    await waitFor('first (empty) claim done and idle', () => d.inFlight === 0);
    const { deliveryId } = await publishOne(t.db, tenant, ep.id);
    await wakeDispatchers(t.db);
    await waitFor('delivered', status(deliveryId, 'succeeded'));
  });

  test('several dispatchers share the work; each delivery is sent once', async () => {
    const r = await receiver();
    const ep = await insertEndpoint(t.db, tenant, { url: r.url });
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) ids.push((await publishOne(t.db, tenant, ep.id)).deliveryId);
    const ds = [1, 2, 3].map((i) => dispatcher(undefined, { batchSize: 5, concurrency: 5 }, `w${i}`));
    await Promise.all(ds.map((d) => d.start()));
    await waitFor('all delivered', async () => {
      const [row] = await t.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM deliveries WHERE id = ANY($1::text[]) AND status = 'succeeded'`,
        [ids],
      );
      return row!.n === ids.length;
    });
    assert.equal(r.requests.length, ids.length);
    assert.equal(new Set(r.requests.map((q) => q.headers['webhook-id'])).size, ids.length);
  });
});
