/**
 * Claiming ahead (docs/isolation.md, "Claiming ahead"): where one worker alone holds an endpoint's
 * leases, a claim may leave it holding up to `claimAhead` limits' worth of the endpoint's deliveries,
 * so its next requests are at hand as earlier ones finish. The limit on requests in flight still
 * holds cluster-wide: another worker's claim counts every lease, ahead ones included; a tenant's
 * load counts each endpoint at most at its limit; fifo endpoints and probing circuits never go ahead.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { claimDeliveries } from '../../src/queue/claim-deliveries.ts';
import { insertEndpoint, insertTenant, manualClock } from '../support/delivery-fixtures.ts';
import { claimOptions, insertDue, leasedByEndpoint, plus, settle } from '../support/scheduling.ts';
import { forEachStorage, freshDb, type TestDb } from '../support/storage.ts';

const URL = 'http://127.0.0.1:9/hook';

forEachStorage('claiming ahead', (kind) => {
  let t: TestDb;
  before(async () => {
    t = await freshDb(kind);
  });
  after(() => t.close());

  const clock = manualClock();
  const claim = (
    workerId: string,
    o: { limit?: number; ahead?: number; tenantCap?: number; byEndpoint?: Record<string, number> } = {},
  ) =>
    claimDeliveries(
      t.db,
      claimOptions(clock.now(), {
        workerId,
        limit: o.limit ?? 100,
        maxInFlightPerEndpoint: 4,
        maxInFlightPerTenant: o.tenantCap ?? 500,
        claimAhead: o.ahead ?? 3,
        ...(o.byEndpoint ? { aheadByEndpoint: o.byEndpoint } : {}),
      }),
    );

  async function endpointWithDue(tenant: string, count: number, ordering?: 'fifo') {
    const ep = (await insertEndpoint(t.db, tenant, { url: URL, ...(ordering ? { ordering } : {}) })).id;
    await insertDue(t.db, { tenantId: tenant, endpointId: ep, count, at: plus(clock.now(), -1000) });
    return ep;
  }

  test('one worker alone takes up to claimAhead limits, then waits: the endpoint is reported limited', async () => {
    await settle(t.db);
    clock.advance(3_600_000);
    const ep = await endpointWithDue(await insertTenant(t.db), 20);

    const first = await claim('w1');
    assert.equal(first.deliveries.length, 12, 'three limits of 4');
    assert.equal(first.deliveries[0]!.endpoint.maxInFlight, 4, 'still sent 4 at a time');
    assert.deepEqual(first.limitedEndpoints, [ep]);
    const again = await claim('w1');
    assert.equal(again.deliveries.length, 0, 'it holds all it may');
    assert.deepEqual(again.limitedEndpoints, [ep]);
    assert.equal((await claim('w2')).deliveries.length, 0, "another worker counts w1's ahead leases");

    // Without claiming ahead, only what can start.
    const ep2 = await endpointWithDue(await insertTenant(t.db), 20);
    const strict = await claim('w3', { ahead: 1 });
    assert.equal(strict.deliveries.filter((d) => d.endpointId === ep2).length, 4);
  });

  test('an endpoint named with fewer limits ahead (its requests are slow) holds only that many', async () => {
    await settle(t.db);
    clock.advance(3_600_000);
    const slow = await endpointWithDue(await insertTenant(t.db), 20);
    const fast = await endpointWithDue(await insertTenant(t.db), 20);

    const first = await claim('w1', { byEndpoint: { [slow]: 2 } });
    const of = (id: string) => first.deliveries.filter((d) => d.endpointId === id).length;
    assert.equal(of(slow), 8, 'two limits of 4');
    assert.equal(of(fast), 12, 'the others: claimAhead');
    // A number above claimAhead is no licence to take more.
    const third = await endpointWithDue(await insertTenant(t.db), 20);
    const more = await claim('w1', { byEndpoint: { [third]: 10 } });
    assert.equal(more.deliveries.filter((d) => d.endpointId === third).length, 12);
  });

  test('a worker never claims ahead of an endpoint another worker holds leases on', async () => {
    await settle(t.db);
    clock.advance(3_600_000);
    const ep = await endpointWithDue(await insertTenant(t.db), 20);

    assert.equal((await claim('w1', { limit: 1 })).deliveries.length, 1);
    const w2 = await claim('w2');
    assert.equal(w2.deliveries.length, 3, 'only the room under the limit: w1 holds one');
    assert.equal((await leasedByEndpoint(t.db, clock.now())).get(ep), 4);
    assert.equal((await claim('w1')).deliveries.length, 0, 'w2 holds some too: no ahead for w1 either');
  });

  test("a tenant's load counts each endpoint at most at its limit, so ahead leases leave its other endpoints room", async () => {
    await settle(t.db);
    clock.advance(3_600_000);
    const tenant = await insertTenant(t.db);
    const a = await endpointWithDue(tenant, 20);
    const first = await claim('w1', { tenantCap: 6 });
    // One endpoint due, so it had the tenant's whole share: 4 that can start, 8 ahead.
    assert.equal(first.deliveries.length, 12);

    const b = await endpointWithDue(tenant, 20);
    const second = await claim('w1', { tenantCap: 6 });
    const ofB = second.deliveries.filter((d) => d.endpointId === b).length;
    // The tenant's load is min(12, 4) = 4 of 6: b may start 2, and does not go ahead (its share
    // was cut by the tenant's room, not filled).
    assert.equal(ofB, 2);
    assert.equal(second.deliveries.filter((d) => d.endpointId === a).length, 0);
  });

  test('fifo endpoints never go ahead: one delivery at a time', async () => {
    await settle(t.db);
    clock.advance(3_600_000);
    await endpointWithDue(await insertTenant(t.db), 5, 'fifo');
    assert.equal((await claim('w1')).deliveries.length, 1);
    assert.equal((await claim('w1')).deliveries.length, 0);
  });
});
