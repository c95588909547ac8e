/**
 * Issue 14, delivery isolation: a claim shares its batch across endpoints and across tenants, so a
 * backlog cannot fill it; an inactive endpoint's deliveries are never claimed (docs/isolation.md).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { claimDeliveries } from '../../src/queue/claim-deliveries.ts';
import { deliveryState, insertEndpoint, insertTenant, manualClock } from '../support/delivery-fixtures.ts';
import {
  assertNextDueInvariant,
  claimOptions,
  countByEndpoint,
  countByTenant,
  insertDue,
  LEASE_MS,
  plus,
  schedulingOf,
  settle,
} from '../support/scheduling.ts';
import { forEachStorage, freshDb, type TestDb } from '../support/storage.ts';

const URL = 'http://127.0.0.1:9/hook';

forEachStorage('fair claims', (kind) => {
  let t: TestDb;
  before(async () => {
    t = await freshDb(kind);
  });
  after(() => t.close());

  const clock = manualClock();

  for (const backlog of ['newer', 'older'] as const) {
    test(`one backlog (1,000 due) and two small endpoints whose deliveries are ${backlog === 'newer' ? 'older' : 'newer'}: the batch takes from all three`, async () => {
      await settle(t.db);
      clock.advance(3_600_000);
      const now = clock.now();
      const tenant = await insertTenant(t.db);
      const a = (await insertEndpoint(t.db, tenant, { url: `${URL}/a` })).id;
      const b = (await insertEndpoint(t.db, tenant, { url: `${URL}/b` })).id;
      const c = (await insertEndpoint(t.db, tenant, { url: `${URL}/c` })).id;
      // The backlog spans the ten minutes before or after the small ones' deliveries.
      const [aAt, smallAt] =
        backlog === 'older'
          ? [plus(now, -1_200_000), plus(now, -60_000)]
          : [plus(now, -600_000), plus(now, -1_200_000)];
      const aIds = await insertDue(t.db, {
        tenantId: tenant,
        endpointId: a,
        count: 1000,
        at: aAt,
        stepMs: 500,
      });
      const bIds = await insertDue(t.db, { tenantId: tenant, endpointId: b, count: 5, at: smallAt });
      const cIds = await insertDue(t.db, {
        tenantId: tenant,
        endpointId: c,
        count: 5,
        at: plus(smallAt, 10),
      });
      await assertNextDueInvariant(t.db, 'inserting');

      const first = await claimDeliveries(t.db, claimOptions(now, { limit: 30 }));
      const counts = countByEndpoint(first.deliveries);
      // A fair share each: ceil(30 / 3) = 10. B and C get all theirs, A its share.
      assert.equal(counts.get(b), 5, 'B gets all of its deliveries');
      assert.equal(counts.get(c), 5, 'C gets all of its deliveries');
      assert.equal(counts.get(a), 10, 'A gets its share of the batch, not all of it');
      assert.ok(first.deliveries.length <= 30);
      assert.equal(first.limited, true, 'A was cut to its share: claim again');
      // Each endpoint's oldest due ones.
      assert.deepEqual(
        first.deliveries
          .filter((d) => d.endpointId === a)
          .map((d) => d.id)
          .sort(),
        aIds.slice(0, 10),
      );
      assert.deepEqual(
        first.deliveries
          .filter((d) => d.endpointId !== a)
          .map((d) => d.id)
          .sort(),
        [...bIds, ...cIds].sort(),
      );
      await assertNextDueInvariant(t.db, 'the first claim');
      // B and C were drained: their next due time is the lease just taken, not the past.
      for (const id of [b, c])
        assert.deepEqual((await schedulingOf(t.db, id)).next_due_at, plus(now, LEASE_MS), 'drained, raised');

      // The next claim, with B and C in flight and nothing more due there, is all A's.
      const second = await claimDeliveries(t.db, claimOptions(now, { limit: 30, workerId: 'w2' }));
      assert.deepEqual([...countByEndpoint(second.deliveries)], [[a, 30]]);
      assert.deepEqual(
        second.deliveries.map((d) => d.id).sort(),
        aIds.slice(10, 40),
        'A continues with its oldest',
      );
      assert.equal(second.moreDue, true);
      await assertNextDueInvariant(t.db, 'the second claim');
    });
  }

  test('never only the backlog: repeated claims keep serving the small endpoints as their deliveries come', async () => {
    await settle(t.db);
    clock.advance(3_600_000);
    const tenant = await insertTenant(t.db);
    const a = (await insertEndpoint(t.db, tenant, { url: `${URL}/a` })).id;
    const b = (await insertEndpoint(t.db, tenant, { url: `${URL}/b` })).id;
    await insertDue(t.db, { tenantId: tenant, endpointId: a, count: 500, at: plus(clock.now(), -600_000) });
    for (let round = 0; round < 5; round++) {
      clock.advance(1000);
      // A new delivery for B each round, newer than all of A's backlog.
      const [fresh] = await insertDue(t.db, { tenantId: tenant, endpointId: b, count: 1, at: clock.now() });
      const { deliveries } = await claimDeliveries(t.db, claimOptions(clock.now(), { limit: 20 }));
      assert.ok(
        deliveries.some((d) => d.id === fresh),
        `round ${round}: B's new delivery is claimed at once`,
      );
      assert.equal(countByEndpoint(deliveries).get(a), 10, `round ${round}: A gets its share`);
      await assertNextDueInvariant(t.db, `round ${round}`);
    }
  });

  test("tenants: one with many endpoints and a backlog cannot crowd out another tenant's endpoint", async () => {
    await settle(t.db);
    clock.advance(3_600_000);
    const now = clock.now();
    const t1 = await insertTenant(t.db);
    const t2 = await insertTenant(t.db);
    const manyIds: string[] = [];
    // 40 endpoints, each with 20 deliveries due, all older than T2's: more endpoints than the batch.
    for (let i = 0; i < 40; i++) {
      const ep = (await insertEndpoint(t.db, t1, { url: `${URL}/t1/${i}` })).id;
      manyIds.push(ep);
      await insertDue(t.db, {
        tenantId: t1,
        endpointId: ep,
        count: 20,
        at: plus(now, -3_000_000 + i * 1000),
      });
    }
    const lone = (await insertEndpoint(t.db, t2, { url: `${URL}/t2` })).id;
    const t2Ids = await insertDue(t.db, { tenantId: t2, endpointId: lone, count: 5, at: plus(now, -1000) });

    const first = await claimDeliveries(t.db, claimOptions(now, { limit: 30 }));
    const byTenant = countByTenant(first.deliveries);
    assert.deepEqual(
      first.deliveries
        .filter((d) => d.tenantId === t2)
        .map((d) => d.id)
        .sort(),
      t2Ids,
      "all of T2's deliveries are in the first claim",
    );
    assert.ok((byTenant.get(t1) ?? 0) > 0, 'T1 gets the rest of the batch');
    assert.ok(first.deliveries.length <= 30);
    // T1's part is spread over its endpoints, the longest waiting first, one each at most here.
    for (const [ep, n] of countByEndpoint(first.deliveries)) if (ep !== lone) assert.equal(n, 1);
    await assertNextDueInvariant(t.db, 'the claim');
  });

  test('tenants: the endpoints a claim considers (maxEndpoints) include every tenant, not the oldest endpoints only', async () => {
    await settle(t.db);
    clock.advance(3_600_000);
    const now = clock.now();
    const t1 = await insertTenant(t.db);
    const t2 = await insertTenant(t.db);
    const t3 = await insertTenant(t.db);
    for (let i = 0; i < 12; i++) {
      const ep = (await insertEndpoint(t.db, t1, { url: `${URL}/t1/${i}` })).id;
      await insertDue(t.db, { tenantId: t1, endpointId: ep, count: 3, at: plus(now, -600_000 + i) });
    }
    const e2 = (await insertEndpoint(t.db, t2, { url: `${URL}/t2` })).id;
    await insertDue(t.db, { tenantId: t2, endpointId: e2, count: 2, at: plus(now, -1000) });
    const e3 = (await insertEndpoint(t.db, t3, { url: `${URL}/t3` })).id;
    await insertDue(t.db, { tenantId: t3, endpointId: e3, count: 2, at: plus(now, -500) });

    // Only 5 endpoints considered: T1 has 12 that waited longer than T2's and T3's.
    const { deliveries } = await claimDeliveries(t.db, claimOptions(now, { limit: 30, maxEndpoints: 5 }));
    const byTenant = countByTenant(deliveries);
    assert.equal(byTenant.get(t2), 2);
    assert.equal(byTenant.get(t3), 2);
    assert.ok((byTenant.get(t1) ?? 0) > 0);
    assert.ok(countByEndpoint(deliveries).size <= 5);
  });

  test('endpoints with nothing due any more (next_due_at left at leases since finished) take no share of the batch', async () => {
    await settle(t.db);
    clock.advance(3_600_000);
    const tenant = await insertTenant(t.db);
    // 40 endpoints, one delivery each, all claimed and delivered: their next_due_at stays at the
    // lease's end, a lower bound the claim raises only when it sees nothing due there.
    const quiet: string[] = [];
    for (let i = 0; i < 40; i++) {
      const ep = (await insertEndpoint(t.db, tenant, { url: `${URL}/quiet/${i}` })).id;
      quiet.push(ep);
      await insertDue(t.db, { tenantId: tenant, endpointId: ep, count: 1, at: plus(clock.now(), -1000 + i) });
    }
    const burst = await claimDeliveries(t.db, claimOptions(clock.now(), { limit: 100 }));
    assert.equal(burst.deliveries.length, 40);
    await t.db.query(
      `UPDATE deliveries SET status = 'succeeded', next_attempt_at = NULL, locked_by = NULL
       WHERE id = ANY($1::text[])`,
      [burst.deliveries.map((d) => d.id)],
    );
    clock.advance(LEASE_MS + 1000);
    const busy = (await insertEndpoint(t.db, tenant, { url: `${URL}/busy` })).id;
    await insertDue(t.db, { tenantId: tenant, endpointId: busy, count: 25, at: plus(clock.now(), -100) });

    const { deliveries } = await claimDeliveries(t.db, claimOptions(clock.now(), { limit: 20 }));
    assert.deepEqual([...countByEndpoint(deliveries)], [[busy, 20]], 'the batch goes to what is due');
    // And the quiet ones were seen to have nothing due: no longer candidates.
    for (const ep of quiet) assert.equal((await schedulingOf(t.db, ep)).next_due_at, null);
    await assertNextDueInvariant(t.db, 'the claim');
  });

  test('endpoints with nothing due among due ones: passed over and raised as far as the claim looked, no further', async () => {
    await settle(t.db);
    clock.advance(3_600_000);
    const tenant = await insertTenant(t.db);
    const base = clock.now();
    // In due order: idle1, a, idle2, b, c, idle3, d. The idle ones have a next_due_at in the past
    // and nothing pending (as leases since finished leave it).
    const names = ['idle1', 'a', 'idle2', 'b', 'c', 'idle3', 'd'];
    const ep = new Map<string, string>();
    for (const [i, name] of names.entries()) {
      const id = (await insertEndpoint(t.db, tenant, { url: `${URL}/${name}` })).id;
      ep.set(name, id);
      const at = plus(base, -10_000 + i * 100);
      if (name.startsWith('idle'))
        await t.db.query('UPDATE endpoints SET next_due_at = $2 WHERE id = $1', [id, at]);
      else await insertDue(t.db, { tenantId: tenant, endpointId: id, count: 2, at });
    }
    const { deliveries, moreDue, limited } = await claimDeliveries(t.db, claimOptions(base, { limit: 3 }));
    assert.deepEqual(
      [...countByEndpoint(deliveries)].sort(),
      [
        [ep.get('a')!, 1],
        [ep.get('b')!, 1],
        [ep.get('c')!, 1],
      ].sort(),
      'the batch goes to the first three with something due',
    );
    assert.deepEqual([moreDue, limited], [true, true]);
    const nextDue = async (name: string) => (await schedulingOf(t.db, ep.get(name)!)).next_due_at;
    assert.equal(await nextDue('idle1'), null, 'passed over: nothing pending');
    assert.equal(await nextDue('idle2'), null);
    assert.deepEqual(
      await nextDue('idle3'),
      plus(base, -10_000 + 500),
      'beyond the last served: not looked at',
    );
    await assertNextDueInvariant(t.db, 'the claim');
    // The next claim: d's first, and idle3 raised on the way.
    const next = await claimDeliveries(t.db, claimOptions(base, { limit: 4 }));
    assert.equal(countByEndpoint(next.deliveries).get(ep.get('d')!), 1);
    assert.equal(await nextDue('idle3'), null);
  });

  test('fifo endpoints whose head is out take no share of the batch', async () => {
    await settle(t.db);
    clock.advance(3_600_000);
    const tenant = await insertTenant(t.db);
    const now = clock.now();
    const fifo: string[] = [];
    for (let i = 0; i < 10; i++) {
      const id = (await insertEndpoint(t.db, tenant, { url: `${URL}/fifo/${i}`, ordering: 'fifo' })).id;
      fifo.push(id);
      await insertDue(t.db, { tenantId: tenant, endpointId: id, count: 5, at: plus(now, -60_000 + i) });
    }
    const heads = await claimDeliveries(t.db, claimOptions(now, { limit: 100 }));
    assert.deepEqual(
      [...countByEndpoint(heads.deliveries)].sort(),
      fifo.map((id) => [id, 1]).sort(),
      'one head each',
    );
    const plain = (await insertEndpoint(t.db, tenant, { url: `${URL}/plain` })).id;
    await insertDue(t.db, { tenantId: tenant, endpointId: plain, count: 50, at: plus(now, -1000) });
    // The fifo endpoints have four due each, none claimable while their head is out.
    const { deliveries } = await claimDeliveries(t.db, claimOptions(now, { limit: 20 }));
    assert.deepEqual([...countByEndpoint(deliveries)], [[plain, 20]]);
    await assertNextDueInvariant(t.db, 'fifo heads out');
  });

  test('an inactive endpoint: its due deliveries are not claimed, spend no attempt, and take no share', async () => {
    await settle(t.db);
    clock.advance(3_600_000);
    const now = clock.now();
    const tenant = await insertTenant(t.db);
    const off = (await insertEndpoint(t.db, tenant, { url: `${URL}/off`, active: false })).id;
    const on = (await insertEndpoint(t.db, tenant, { url: `${URL}/on` })).id;
    const offIds = await insertDue(t.db, {
      tenantId: tenant,
      endpointId: off,
      count: 10,
      at: plus(now, -60_000),
    });
    await insertDue(t.db, { tenantId: tenant, endpointId: on, count: 40, at: plus(now, -1000) });
    const before = await Promise.all(offIds.map((id) => deliveryState(t.db, id)));

    const { deliveries } = await claimDeliveries(t.db, claimOptions(now, { limit: 20 }));
    assert.deepEqual([...countByEndpoint(deliveries)], [[on, 20]], 'the whole batch goes to the active one');
    assert.deepEqual(await Promise.all(offIds.map((id) => deliveryState(t.db, id))), before, 'untouched');
    for (const s of before) {
      assert.equal(s.attempt_count, 0);
      assert.equal(s.locked_by, null);
    }
    await assertNextDueInvariant(t.db, 'claiming past an inactive endpoint');

    // Disabled while some of its deliveries were in flight (410 from one of them): the rest wait.
    await t.db.query('UPDATE endpoints SET active = false WHERE id = $1', [on]);
    assert.equal(
      (await claimDeliveries(t.db, claimOptions(plus(now, 10), { limit: 20 }))).deliveries.length,
      0,
    );
    const [row] = await t.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM deliveries WHERE endpoint_id = $1 AND attempt_count > 0`,
      [on],
    );
    assert.equal(row!.n, 20, 'only the 20 claimed before it was disabled spent an attempt');
  });
});
