/**
 * Issue 14, delivery isolation: limits on requests in flight, counted cluster-wide from the leases
 * (per endpoint, per tenant), and the adaptive per-endpoint limit that recording moves (AIMD), as
 * the claim applies them (docs/isolation.md).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { claimDeliveries } from '../../src/queue/claim-deliveries.ts';
import type { ClaimedDelivery } from '../../src/queue/claimed-delivery.ts';
import { type AttemptRecord, recordAttempts } from '../../src/queue/record-outcomes.ts';
import { insertEndpoint, insertTenant, manualClock } from '../support/delivery-fixtures.ts';
import {
  assertNextDueInvariant,
  attemptOf,
  claimOptions,
  countByEndpoint,
  countByTenant,
  insertDue,
  LEASE_MS,
  leasedByEndpoint,
  leasedOfTenant,
  outcome,
  plus,
  recordAt,
  schedulingOf,
  settle,
} from '../support/scheduling.ts';
import { forEachStorage, freshDb, type TestDb } from '../support/storage.ts';

const URL = 'http://127.0.0.1:9/hook';

forEachStorage('limits on requests in flight', (kind) => {
  let t: TestDb;
  before(async () => {
    t = await freshDb(kind);
  });
  after(() => t.close());

  const clock = manualClock();
  /** Records `o` for each of `ds` as worker `workerId`, at the clock's time. */
  const record = (
    ds: readonly ClaimedDelivery[],
    o: Partial<AttemptRecord>,
    workerId: string,
    extra: { maxInFlightPerEndpoint?: number } = {},
  ) => recordAt(t.db, clock.now(), ds, o, { workerId, ...extra });

  test('per endpoint, cluster-wide: two workers together never hold more than the limit', async () => {
    await settle(t.db);
    clock.advance(3_600_000);
    const tenant = await insertTenant(t.db);
    const ep = (await insertEndpoint(t.db, tenant, { url: URL })).id;
    await insertDue(t.db, { tenantId: tenant, endpointId: ep, count: 20, at: plus(clock.now(), -1000) });
    const claim = (workerId: string) =>
      claimDeliveries(t.db, claimOptions(clock.now(), { workerId, limit: 10, maxInFlightPerEndpoint: 4 }));
    const leased = async () => (await leasedByEndpoint(t.db, clock.now())).get(ep) ?? 0;

    const w1 = await claim('w1');
    assert.equal(w1.deliveries.length, 4);
    assert.equal(w1.deliveries[0]!.endpoint.maxInFlight, 4, 'the limit it was claimed under');
    assert.equal(w1.limited, true, 'waiting for room');
    const w2 = await claim('w2');
    assert.equal(w2.deliveries.length, 0, "w1's leases count for w2 too");
    assert.equal(w2.limited, true);
    assert.equal(await leased(), 4);

    // Two of w1's finish: room for two, whoever claims.
    clock.advance(100);
    await record(w1.deliveries.slice(0, 2), outcome.success, 'w1');
    assert.equal(await leased(), 2);
    const w2b = await claim('w2');
    assert.equal(w2b.deliveries.length, 2);
    assert.equal(await leased(), 4);
    assert.equal((await claim('w1')).deliveries.length, 0);
    assert.equal((await claim('w2')).deliveries.length, 0);

    // w1's other two leases run out (w1 died): they no longer count, and are due again.
    clock.advance(LEASE_MS - 100);
    assert.equal(await leased(), 2, "w2's, taken 100 ms later, still run");
    const w2c = await claim('w2');
    assert.equal(w2c.deliveries.length, 2, "w1's expired leases no longer count");
    // Their rows are due again, still marked w1's: the next claim to reach them makes attempt 2.
    const [expired] = await t.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM deliveries
       WHERE id = ANY($1::text[]) AND locked_by = 'w1' AND next_attempt_at <= $2 AND attempt_count = 1`,
      [w1.deliveries.slice(2).map((d) => d.id), clock.now()],
    );
    assert.equal(expired!.n, 2);
    assert.equal(await leased(), 4);
    // Once every lease has run out, the limit's worth again.
    clock.advance(LEASE_MS);
    assert.equal(await leased(), 0);
    assert.equal((await claim('w3')).deliveries.length, 4);
    assert.equal(await leased(), 4);
    await assertNextDueInvariant(t.db, 'claims, recordings and expired leases');
  });

  test('limited: reported when an endpoint filled its room with more due, not when it was drained', async () => {
    await settle(t.db);
    clock.advance(3_600_000);
    const tenant = await insertTenant(t.db);
    const ep = (await insertEndpoint(t.db, tenant, { url: URL })).id;
    const claim = (limit = 10) =>
      claimDeliveries(t.db, claimOptions(clock.now(), { limit, maxInFlightPerEndpoint: 4 }));
    await insertDue(t.db, { tenantId: tenant, endpointId: ep, count: 3, at: plus(clock.now(), -1000) });
    const drained = await claim();
    assert.deepEqual([drained.deliveries.length, drained.moreDue, drained.limited], [3, false, false]);
    await record(drained.deliveries, outcome.success, 'w1');

    // Six due, room for four: the claim fills the room and says more waits for it, so the
    // dispatcher claims again when requests finish instead of after its poll interval.
    await insertDue(t.db, { tenantId: tenant, endpointId: ep, count: 6, at: plus(clock.now(), -500) });
    const full = await claim();
    assert.deepEqual([full.deliveries.length, full.moreDue, full.limited], [4, false, true]);
    await record(full.deliveries, outcome.success, 'w1');
    const rest = await claim();
    assert.deepEqual([rest.deliveries.length, rest.limited], [2, false]);
    // Cut by the batch: limited too.
    await record(rest.deliveries, outcome.success, 'w1');
    await insertDue(t.db, { tenantId: tenant, endpointId: ep, count: 3, at: plus(clock.now(), -100) });
    const cut = await claim(2);
    assert.deepEqual([cut.deliveries.length, cut.moreDue, cut.limited], [2, true, true]);
  });

  test('per tenant, cluster-wide: at most the limit across its endpoints; another tenant unaffected', async () => {
    await settle(t.db);
    clock.advance(3_600_000);
    const t1 = await insertTenant(t.db);
    const t2 = await insertTenant(t.db);
    const eps: string[] = [];
    for (let i = 0; i < 3; i++) {
      const ep = (await insertEndpoint(t.db, t1, { url: `${URL}/${i}` })).id;
      eps.push(ep);
      await insertDue(t.db, { tenantId: t1, endpointId: ep, count: 10, at: plus(clock.now(), -1000 + i) });
    }
    const other = (await insertEndpoint(t.db, t2, { url: `${URL}/other` })).id;
    await insertDue(t.db, { tenantId: t2, endpointId: other, count: 10, at: plus(clock.now(), -500) });
    const claim = (workerId: string) =>
      claimDeliveries(t.db, claimOptions(clock.now(), { workerId, limit: 100, maxInFlightPerTenant: 5 }));

    const first = await claim('w1');
    const byTenant = countByTenant(first.deliveries);
    assert.equal(byTenant.get(t1), 5, 'T1 at its limit, across its three endpoints');
    assert.equal(byTenant.get(t2), 5, 'T2 at its own limit, not held back by T1');
    assert.ok(countByEndpoint(first.deliveries.filter((d) => d.tenantId === t1)).size >= 2, 'spread');
    assert.equal(first.limited, true);
    assert.equal((await claim('w2')).deliveries.length, 0, 'both tenants at their limit, for every worker');
    assert.equal(await leasedOfTenant(t.db, t1, clock.now()), 5);

    // Two of T1's finish: two more for T1, whichever endpoints.
    clock.advance(100);
    await record(first.deliveries.filter((d) => d.tenantId === t1).slice(0, 2), outcome.success, 'w1');
    const next = await claim('w2');
    assert.deepEqual([...countByTenant(next.deliveries)], [[t1, 2]]);
    assert.equal(await leasedOfTenant(t.db, t1, clock.now()), 5);

    // Without the tenant limit (default 500), T1's endpoints are limited by their own only.
    const free = await claimDeliveries(t.db, claimOptions(clock.now(), { workerId: 'w3', limit: 100 }));
    assert.equal(countByTenant(free.deliveries).get(t1), 30 - 7, "the rest of T1's");
    await assertNextDueInvariant(t.db, 'tenant limits');
  });

  test('adaptive limit: timeouts and 5xx halve it down to 1, each success adds one back up to the cap (NULL)', async () => {
    await settle(t.db);
    clock.advance(3_600_000);
    const tenant = await insertTenant(t.db);
    const ep = (await insertEndpoint(t.db, tenant, { url: URL })).id;
    await insertDue(t.db, { tenantId: tenant, endpointId: ep, count: 200, at: plus(clock.now(), -10_000) });
    const claimOne = async () => {
      const { deliveries } = await claimDeliveries(t.db, claimOptions(clock.now(), { limit: 1 }));
      assert.equal(deliveries.length, 1);
      return deliveries;
    };
    const limitNow = async () => (await schedulingOf(t.db, ep)).concurrency_limit;
    assert.equal(await limitNow(), null, 'at the cap');

    // With the default cap, 64: 32, 16, ... 1, and no lower; a batch halves it once.
    const seen: Array<number | null> = [];
    for (const o of [outcome.timeout, outcome.unavailable, outcome.timeout, outcome.unavailable]) {
      const res = await record(await claimOne(), o, 'w1');
      assert.deepEqual(
        res.endpoints.map((e) => [e.endpointId, e.concurrencyLimit]),
        [[ep, await limitNow()]],
        'the batch answers the new limit',
      );
      seen.push(await limitNow());
    }
    assert.deepEqual(seen, [32, 16, 8, 4]);
    await record(
      [...(await claimOne()), ...(await claimOne()), ...(await claimOne())],
      outcome.timeout,
      'w1',
    );
    assert.equal(await limitNow(), 2, 'three timeouts in one batch: halved once');
    for (const o of [outcome.timeout, { ...outcome.timeout, errorKind: 'connect_error' }, outcome.timeout])
      await record(await claimOne(), o, 'w1');
    assert.equal(await limitNow(), 1, 'at least 1');

    // 429 is congestion too; a 400 is a failure but not congestion.
    await t.db.query('UPDATE endpoints SET concurrency_limit = 10 WHERE id = $1', [ep]);
    await record(await claimOne(), outcome.badRequest, 'w1');
    assert.equal(await limitNow(), 10, '400: unchanged');
    await record(
      await claimOne(),
      { ...outcome.unavailable, statusCode: 429, errorMessage: 'HTTP 429' },
      'w1',
    );
    assert.equal(await limitNow(), 5, '429: halved');

    // Successes: one more each, up to the cap, where it is NULL again (a cap of 8 here).
    await t.db.query('UPDATE endpoints SET concurrency_limit = 4 WHERE id = $1', [ep]);
    const up: Array<number | null> = [];
    for (let i = 0; i < 5; i++) {
      await record(await claimOne(), outcome.success, 'w1', { maxInFlightPerEndpoint: 8 });
      up.push(await limitNow());
    }
    assert.deepEqual(up, [5, 6, 7, null, null]);
    // A batch of successes adds one per success, and stops at the cap.
    await t.db.query('UPDATE endpoints SET concurrency_limit = 3 WHERE id = $1', [ep]);
    await record(
      [...(await claimOne()), ...(await claimOne()), ...(await claimOne())],
      outcome.success,
      'w1',
      {
        maxInFlightPerEndpoint: 8,
      },
    );
    assert.equal(await limitNow(), 6);
    await record(
      await claimDeliveries(t.db, claimOptions(clock.now(), { limit: 5 })).then((r) => r.deliveries),
      outcome.success,
      'w1',
      { maxInFlightPerEndpoint: 8 },
    );
    assert.equal(await limitNow(), null, 'back at the cap');
    // A congested batch with successes in it still halves.
    await t.db.query('UPDATE endpoints SET concurrency_limit = 20 WHERE id = $1', [ep]);
    const [s, f] = [await claimOne(), await claimOne()];
    await recordAttempts(
      t.db,
      [attemptOf(s[0]!, clock.now(), outcome.success), attemptOf(f[0]!, clock.now(), outcome.timeout)],
      { workerId: 'w1', now: clock.now() },
    );
    assert.equal(await limitNow(), 10);
  });

  test('the claim gives at most the adaptive limit minus what is in flight', async () => {
    await settle(t.db);
    clock.advance(3_600_000);
    const tenant = await insertTenant(t.db);
    const ep = (await insertEndpoint(t.db, tenant, { url: URL })).id;
    await insertDue(t.db, { tenantId: tenant, endpointId: ep, count: 100, at: plus(clock.now(), -10_000) });
    const claim = (o: { limit?: number; maxInFlightPerEndpoint?: number } = {}) =>
      claimDeliveries(t.db, claimOptions(clock.now(), { limit: 50, ...o })).then((r) => r.deliveries);

    // 64 → 32 → 16 → 8 → 4 by four recorded timeouts (one at a time, so one in flight each time).
    for (let i = 0; i < 4; i++) await record(await claim({ limit: 1 }), outcome.timeout, 'w1');
    assert.equal((await schedulingOf(t.db, ep)).concurrency_limit, 4);
    const four = await claim();
    assert.equal(four.length, 4, 'the lowered limit, whatever the batch');
    assert.equal(four[0]!.endpoint.maxInFlight, 4);
    assert.equal((await claim()).length, 0);

    // One success: limit 5, three still in flight → two more.
    await record(four.slice(0, 1), outcome.success, 'w1');
    assert.equal((await schedulingOf(t.db, ep)).concurrency_limit, 5);
    const two = await claim();
    assert.equal(two.length, 2);
    assert.equal(two[0]!.endpoint.maxInFlight, 5);
    assert.equal((await leasedByEndpoint(t.db, clock.now())).get(ep), 5);

    // The configured maximum still bounds it: an adaptive limit above it counts as the maximum.
    await record([...four.slice(1), ...two], outcome.success, 'w1');
    await t.db.query('UPDATE endpoints SET concurrency_limit = 40 WHERE id = $1', [ep]);
    const capped = await claim({ maxInFlightPerEndpoint: 6 });
    assert.equal(capped.length, 6);
    assert.equal(capped[0]!.endpoint.maxInFlight, 6);
    await assertNextDueInvariant(t.db, 'adaptive claims');
  });
});
