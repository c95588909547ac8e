import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { after, before, test } from 'node:test';
import { Agent } from 'undici';
import { createDispatcher } from '../../src/delivery/dispatcher.ts';
import { createEndpointSlots } from '../../src/delivery/endpoint-slots.ts';
import type { ClaimedDelivery } from '../../src/queue/claimed-delivery.ts';
import {
  deliveryState,
  insertEndpoint,
  insertTenant,
  publishOne,
  startReceiver,
  testSecretBox,
  waitFor,
} from '../support/delivery-fixtures.ts';
import { forEachStorage, freshDb, type TestDb } from '../support/storage.ts';

const delivery = (id: string, endpointId: string, maxInFlight?: number) =>
  ({ id, endpointId, endpoint: maxInFlight === undefined ? {} : { maxInFlight } }) as ClaimedDelivery;

test('slots: a cap per endpoint, and the freed slot passes to the next in line', () => {
  const slots = createEndpointSlots(2, () => assert.fail('nothing raised a limit'));
  assert.equal(slots.admit(delivery('a1', 'A')), 'start');
  assert.equal(slots.admit(delivery('a2', 'A')), 'start');
  assert.equal(slots.admit(delivery('b1', 'B')), 'start', 'another endpoint has its own slots');
  assert.equal(slots.admit(delivery('a3', 'A')), 'queued');
  assert.equal(slots.admit(delivery('a4', 'A')), 'queued');
  assert.equal(slots.waiting, 2);
  assert.equal(slots.finish('A')?.id, 'a3');
  assert.equal(slots.finish('A')?.id, 'a4');
  assert.equal(slots.waiting, 0);
  assert.equal(slots.finish('A'), undefined);
  assert.equal(slots.finish('A'), undefined);
  assert.equal(slots.admit(delivery('a6', 'A')), 'start');
  assert.equal(slots.admit(delivery('a7', 'A')), 'start');
  assert.equal(slots.admit(delivery('a8', 'A')), 'queued');
  assert.deepEqual(
    slots.takeWaiting().map((d) => d.id),
    ['a8'],
  );
});

test('slots: a handed-over delivery waits ahead of those claimed ahead; fresh room counts only it and those in flight', () => {
  const slots = createEndpointSlots(2, () => assert.fail('nothing raised a limit'));
  const fresh = (id: string) => ({ ...delivery(id, 'A'), handedOver: true }) as ClaimedDelivery;
  assert.equal(slots.admit(delivery('c1', 'A')), 'start');
  assert.equal(slots.admit(delivery('c2', 'A')), 'start');
  for (const id of ['c3', 'c4', 'c5']) assert.equal(slots.admit(delivery(id, 'A')), 'queued');
  assert.equal(slots.room('A', 3), 1, 'claims count everything held');
  assert.equal(
    slots.freshRoom('A', 2),
    2,
    'the handoff counts in flight (2) and fresh waiting (0) of 2 limits',
  );
  assert.equal(slots.admit(fresh('f1')), 'queued');
  assert.equal(slots.admit(fresh('f2')), 'queued');
  assert.equal(slots.freshRoom('A', 2), 0);
  assert.equal(slots.waitingOf('A'), 5);
  const order = [slots.finish('A')?.id, slots.finish('A')?.id, slots.finish('A')?.id];
  assert.deepEqual(order, ['f1', 'f2', 'c3'], 'fresh first, then the claimed ones in order');
  assert.deepEqual(
    slots.takeWaitingOf('A').map((d) => d.id),
    ['c4', 'c5'],
  );
  assert.equal(slots.waiting, 0);
});

test('slots: a delivery handed over to wait behind joins the backlog line and is counted apart', () => {
  const slots = createEndpointSlots(1, () => assert.fail('nothing raised a limit'));
  const fresh = (id: string) => ({ ...delivery(id, 'A'), handedOver: true }) as ClaimedDelivery;
  const behind = (id: string, endpointId = 'A') =>
    ({ ...delivery(id, endpointId), handedOver: true, heldBehind: true }) as ClaimedDelivery;
  assert.equal(slots.admit(delivery('c1', 'A')), 'start');
  assert.equal(slots.admit(behind('b1')), 'queued');
  assert.equal(slots.admit(delivery('c2', 'A')), 'queued');
  assert.equal(slots.admit(fresh('f1')), 'queued');
  assert.equal(slots.admit(behind('b2')), 'queued');
  assert.equal(slots.admit(behind('x1', 'B')), 'start', 'with room it starts like any other');
  assert.equal(slots.admit(behind('x2', 'B')), 'queued');
  assert.equal(slots.waiting, 5);
  assert.equal(slots.waitingBehind, 3);
  assert.equal(slots.freshRoom('A', 3), 1, 'held behind is not fresh: in flight (1) and f1 of 3');
  assert.equal(slots.room('A', 6), 1, 'but it is held: everything counts');
  const order = [slots.finish('A')?.id, slots.finish('A')?.id, slots.finish('A')?.id];
  assert.deepEqual(order, ['f1', 'b1', 'c2'], 'fresh first, then the backlog in arrival order');
  assert.equal(slots.waitingBehind, 2);
  assert.deepEqual(
    slots.takeWaitingOf('A').map((d) => d.id),
    ['b2'],
  );
  assert.equal(slots.waitingBehind, 1);
  assert.equal(slots.takeWaiting().length, 1);
  assert.equal(slots.waitingBehind, 0);
  assert.equal(slots.waiting, 0);
});

test('slots: the limit follows the claim and recorded outcomes; a raised limit starts waiting deliveries', () => {
  const started: string[] = [];
  const slots = createEndpointSlots(4, (d) => started.push(d.id));
  assert.equal(slots.room('A'), 4);
  // Claimed while its adaptive limit was 2.
  assert.equal(slots.admit(delivery('a1', 'A', 2)), 'start');
  assert.equal(slots.admit(delivery('a2', 'A', 2)), 'start');
  assert.equal(slots.admit(delivery('a3', 'A', 2)), 'queued');
  assert.equal(slots.room('A'), 0);
  // Outcomes halved it to 1: a finished request's slot is not passed on while two are out.
  slots.setLimit('A', 1);
  assert.deepEqual(started, []);
  assert.equal(slots.finish('A'), undefined, 'two out, limit one: the slot is dropped');
  assert.equal(slots.waiting, 1);
  // Successes raise it back to the maximum: the waiting one starts at once.
  slots.setLimit('A', null);
  assert.deepEqual(started, ['a3']);
  assert.equal(slots.waiting, 0);
  assert.equal(slots.room('A'), 2);
  // A limit above the maximum is the maximum.
  slots.setLimit('A', 99);
  assert.equal(slots.room('A'), 2);
});

test('slots: a raised limit starts no more waiting deliveries than their tenant has room for; its room, once freed, starts them', () => {
  const started: string[] = [];
  const tenantRoom = 1;
  const slots = createEndpointSlots(
    8,
    (d) => started.push(d.id),
    (tenantId) => (tenantId === 't1' ? tenantRoom : 0),
  );
  const of = (id: string) => ({ ...delivery(id, 'A', 1), tenantId: 't1' }) as ClaimedDelivery;
  assert.equal(slots.admit(of('a1')), 'start');
  for (const id of ['a2', 'a3', 'a4']) assert.equal(slots.admit(of(id)), 'queued');
  // The endpoint may now have 8 in flight, its tenant only one more.
  slots.setLimit('A', 8);
  assert.deepEqual(started, ['a2']);
  assert.equal(slots.waiting, 2);
  // The endpoint's own finished request still passes its slot on: the tenant's load stays the same.
  assert.equal(slots.finish('A')?.id, 'a3');
  // Another endpoint of the tenant finished a request: its room goes to what waits for it.
  slots.resume('t1');
  assert.deepEqual(started, ['a2', 'a4']);
  assert.equal(slots.waiting, 0);
  slots.resume('t1');
  assert.deepEqual(started, ['a2', 'a4'], 'nothing left waiting');
});

test('slots: a raised limit starts no more waiting deliveries than the process has room for; room freed anywhere starts them', () => {
  const started: string[] = [];
  let processRoom = 1;
  const slots = createEndpointSlots(
    8,
    (d) => {
      started.push(d.id);
      processRoom--;
    },
    () => 100,
    () => processRoom,
  );
  const of = (id: string, endpointId: string, tenantId: string) =>
    ({ ...delivery(id, endpointId, 1), tenantId }) as ClaimedDelivery;
  assert.equal(slots.admit(of('a1', 'A', 't1')), 'start');
  assert.equal(slots.admit(of('b1', 'B', 't2')), 'start');
  for (const id of ['a2', 'a3']) assert.equal(slots.admit(of(id, 'A', 't1')), 'queued');
  assert.equal(slots.admit(of('b2', 'B', 't2')), 'queued');
  // Both endpoints may now have 8 out, their tenants 100 more, the process one more.
  slots.setLimit('A', 8);
  slots.setLimit('B', 8);
  assert.deepEqual(started, ['a2']);
  assert.equal(slots.waiting, 2);
  slots.resumeProcess();
  assert.deepEqual(started, ['a2'], 'no room yet: nothing more starts');
  // Requests finished elsewhere (another tenant's, say): two more may start, whichever endpoints.
  processRoom = 2;
  slots.resumeProcess();
  assert.deepEqual(started, ['a2', 'a3', 'b2']);
  assert.equal(slots.waiting, 0);
});

test('slots: an endpoint whose circuit opened gives back its waiting deliveries, others keep theirs', () => {
  const slots = createEndpointSlots(1, () => assert.fail('nothing raised a limit'));
  slots.admit(delivery('a1', 'A'));
  slots.admit(delivery('a2', 'A'));
  slots.admit(delivery('a3', 'A'));
  slots.admit(delivery('b1', 'B'));
  slots.admit(delivery('b2', 'B'));
  assert.equal(slots.waiting, 3);
  assert.deepEqual(
    slots.takeWaitingOf('A').map((d) => d.id),
    ['a2', 'a3'],
  );
  assert.equal(slots.waiting, 1);
  assert.equal(slots.finish('A'), undefined);
  assert.equal(slots.finish('B')?.id, 'b2');
});

/** A receiver holding every request until the test answers it, counting those out and the most at once. */
async function holdingReceiver() {
  const held: ServerResponse[] = [];
  const counts = { out: 0, most: 0 };
  const r = await startReceiver((_req, res) => {
    counts.out++;
    counts.most = Math.max(counts.most, counts.out);
    held.push(res);
    res.on('finish', () => counts.out--);
  });
  return { r, held, counts };
}

forEachStorage('per-endpoint concurrency cap', (kind) => {
  let t: TestDb;
  const agent = new Agent({ connect: { timeout: 1000 } });
  before(async () => {
    t = await freshDb(kind);
  });
  after(async () => {
    await agent.close();
    await t.close();
  });

  test('an endpoint never has more requests out than its cap, and every delivery arrives', async () => {
    const { r, held, counts } = await holdingReceiver();
    const tenant = await insertTenant(t.db);
    const ep = await insertEndpoint(t.db, tenant, { url: r.url });
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push((await publishOne(t.db, tenant, ep.id)).deliveryId);
    const d = createDispatcher({
      db: t.db,
      secretBox: testSecretBox,
      agent,
      config: { maxInFlightPerEndpoint: 2, pollIntervalMs: 20 },
    });
    await d.start();
    try {
      let answered = 0;
      while (answered < 7) {
        await waitFor('a request held', () => held.length > 0);
        // Let the dispatcher try to exceed the cap before answering.
        await waitFor('the cap reached or the rest answered', () => counts.out === Math.min(2, 7 - answered));
        held.shift()!.end('ok');
        answered++;
      }
      for (const id of ids) {
        await waitFor('succeeded', async () => (await deliveryState(t.db, id)).status === 'succeeded');
      }
      assert.equal(counts.most, 2);
      assert.equal(r.requests.length, 7);
    } finally {
      await d.stop({ graceMs: 100 });
      await r.close();
    }
  });
  test('raised endpoint limits never take the process past its concurrency, and every delivery arrives', async () => {
    const { r, held, counts } = await holdingReceiver();
    // Two endpoints (two tenants) whose adaptive limits start at 1: each success raises them, and
    // each raise starts deliveries waiting here — together up to 16, against a process cap of 4.
    const ids: string[] = [];
    for (let e = 0; e < 2; e++) {
      const tenant = await insertTenant(t.db);
      const ep = await insertEndpoint(t.db, tenant, { url: r.url, concurrencyLimit: 1 });
      for (let i = 0; i < 12; i++) ids.push((await publishOne(t.db, tenant, ep.id)).deliveryId);
    }
    const d = createDispatcher({
      db: t.db,
      secretBox: testSecretBox,
      agent,
      config: { concurrency: 4, maxInFlightPerEndpoint: 8, pollIntervalMs: 20, flushDelayMs: 1 },
    });
    await d.start();
    try {
      let answered = 0;
      while (answered < ids.length) {
        await waitFor('a request held', () => held.length > 0);
        for (const res of held.splice(0)) {
          res.end('ok');
          answered++;
        }
      }
      for (const id of ids) {
        await waitFor('succeeded', async () => (await deliveryState(t.db, id)).status === 'succeeded');
      }
      assert.ok(counts.most <= 4, `${counts.most} requests out at once, above the process's 4`);
      assert.equal(r.requests.length, ids.length);
    } finally {
      await d.stop({ graceMs: 100 });
      await r.close();
    }
  });
});
