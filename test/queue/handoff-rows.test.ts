/**
 * A handed-over delivery's row is written once (src/queue/handoff.ts, migration 023): publishing
 * writes a `handoffs` row in its place; the record inserts the row in its final state beside the
 * attempt; a release inserts it pending; recovery writes the rows of an expired handoff pending with
 * an `interrupted` attempt. Reads see handed-over deliveries throughout (the `all_deliveries` view).
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import type { Sql } from '../../src/db/db.ts';
import { releaseOf } from '../../src/delivery/deliver-one.ts';
import { silentLogger } from '../../src/delivery/logger.ts';
import { createSettlementRecorder } from '../../src/delivery/settlement-recorder.ts';
import { publishEvents } from '../../src/publish/publish-events.ts';
import type { ClaimedDelivery } from '../../src/queue/claimed-delivery.ts';
import type { DeliveryHandoff } from '../../src/queue/handoff.ts';
import { EXPIRED_SQL, RECOVER_SQL, recoverHandoffs } from '../../src/queue/handoff-recovery.ts';
import { recordAttempts } from '../../src/queue/record-outcomes.ts';
import { releaseDeliveries } from '../../src/queue/release-deliveries.ts';
import { deliveriesOfEvent, getDelivery, listDeliveries } from '../../src/store/deliveries.ts';
import { removeEndpoints } from '../../src/store/endpoint-removal.ts';
import { deleteEndpoint } from '../../src/store/endpoints.ts';
import { purgeExpired } from '../../src/store/retention.ts';
import {
  attemptsOf,
  deliveryState,
  insertEndpoint,
  insertTenant,
  manualClock,
  waitFor,
} from '../support/delivery-fixtures.ts';
import {
  assertNextDueInvariant,
  attemptOf,
  claimAt,
  insertDue,
  outcome,
  settle,
} from '../support/scheduling.ts';
import { forEachStorage, freshDb, type TestDb } from '../support/storage.ts';

const URL = 'http://127.0.0.1:9/hook';
const LEASE = 45_000;

forEachStorage('handed-over deliveries written once', (kind) => {
  let t: TestDb;
  let tenant: string;
  const clock = manualClock();
  before(async () => {
    t = await freshDb(kind);
  });
  beforeEach(async () => {
    await settle(t.db);
    tenant = await insertTenant(t.db);
  });
  after(() => t.close());

  /** Publishes `n` events to a fresh endpoint, handing every delivery over to worker w1. */
  async function handOver(n: number) {
    const ep = await insertEndpoint(t.db, tenant, { url: URL });
    const given: ClaimedDelivery[] = [];
    const handoff: DeliveryHandoff = {
      workerId: 'w1',
      leaseMs: 30_000,
      defaultTotalTimeoutMs: 15_000,
      queueNow: () => clock.now(),
      reserve: (wanted) => wanted.map(() => true),
      accept: (deliveries) => given.push(...deliveries),
    };
    const events = Array.from({ length: n }, (_, i) => ({ type: 'invoice.paid', data: { i } }));
    const published = await publishEvents(t.db, tenant, events, { handoff });
    assert.equal(given.length, n);
    return { endpointId: ep.id, given, published };
  }

  const rowsOf = async (ids: readonly string[]) =>
    t.db.query<{ id: string; status: string; sequence: number; attempt_count: number }>(
      'SELECT id, status, sequence::int, attempt_count FROM deliveries WHERE id = ANY($1::text[]) ORDER BY sequence',
      [ids],
    );
  const handoffCount = async () =>
    (
      await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM handoffs WHERE tenant_id = $1', [
        tenant,
      ])
    )[0]!.n;

  test('publishing writes one handoff row and no delivery rows; reads show the deliveries in flight', async () => {
    const { endpointId, given, published } = await handOver(3);
    const ids = given.map((d) => d.id);
    assert.deepEqual(await rowsOf(ids), []);
    assert.equal(await handoffCount(), 1);
    assert.ok(given.every((d) => d.handoff?.handoffId === given[0]!.handoff!.handoffId));

    const one = await getDelivery(t.db, tenant, ids[1]!);
    assert.equal(one.status, 'pending');
    assert.equal(one.sequence, 2);
    assert.equal(one.attemptCount, 1);
    assert.deepEqual(one.attempts, []);
    const listed = await listDeliveries(t.db, tenant, { limit: 10 });
    assert.deepEqual(listed.map((d) => d.id).sort(), [...ids].sort());
    const byEndpoint = await listDeliveries(t.db, tenant, { endpointId, limit: 2 });
    assert.deepEqual(
      byEndpoint.map((d) => d.sequence),
      [3, 2],
    );
    const next = await listDeliveries(t.db, tenant, { endpointId, limit: 2, before: byEndpoint[1]!.id });
    assert.deepEqual(
      next.map((d) => d.sequence),
      [1],
    );
    const ofEvent = await deliveriesOfEvent(t.db, tenant, published.events[0]!.id);
    assert.deepEqual(
      ofEvent.map((d) => d.id),
      [ids[0]],
    );
    // Nothing to claim: they are in flight, and count as such for the endpoint.
    assert.deepEqual(await claimAt(t.db, clock.now()), []);
    await assertNextDueInvariant(t.db, 'handed over');
  });

  test('claims count handed-over deliveries as in flight: another worker keeps to the endpoint limit', async () => {
    const { endpointId, given } = await handOver(3);
    await insertDue(t.db, { tenantId: tenant, endpointId, count: 10, at: clock.now(), stepMs: 0 });
    // A limit of 4: room for one beside w1's three.
    const w2 = { workerId: 'w2', maxInFlightPerEndpoint: 4 };
    assert.equal((await claimAt(t.db, clock.now(), w2)).length, 1);
    // Counted until the handoff's last delivery is recorded.
    await recordAttempts(
      t.db,
      given.slice(0, 2).map((d) => attemptOf(d, clock.now())),
      { workerId: 'w1', now: clock.now() },
    );
    assert.equal((await claimAt(t.db, clock.now(), w2)).length, 0);
    await recordAttempts(t.db, [attemptOf(given[2]!, clock.now())], {
      workerId: 'w1',
      now: clock.now(),
      finishedHandoffs: [given[2]!.handoff!.handoffId],
    });
    assert.equal((await claimAt(t.db, clock.now(), w2)).length, 3);
  });

  test('recording writes each row once in its final state; the last record deletes the handoff', async () => {
    const { given } = await handOver(2);
    const [a, b] = given;
    const handoffId = a!.handoff!.handoffId;
    await recordAttempts(t.db, [attemptOf(a!, clock.now())], { workerId: 'w1', now: clock.now() });
    assert.equal(await handoffCount(), 1, 'one delivery still out');
    assert.equal((await deliveryState(t.db, b!.id)).locked_by, 'w1', 'the other still shows in flight');
    await recordAttempts(t.db, [attemptOf(b!, clock.now(), outcome.unavailable)], {
      workerId: 'w1',
      now: clock.now(),
      finishedHandoffs: [handoffId],
    });
    assert.equal(await handoffCount(), 0);
    const rows = await rowsOf([a!.id, b!.id]);
    assert.deepEqual(
      rows.map((r) => [r.status, r.sequence, r.attempt_count]),
      [
        ['succeeded', 1, 1],
        ['pending', 2, 1],
      ],
    );
    const retry = await deliveryState(t.db, b!.id);
    assert.equal(retry.locked_by, null);
    assert.equal(retry.next_attempt_at?.getTime(), clock.now().getTime() + outcome.unavailable.retryInMs);
    assert.equal((await attemptsOf(t.db, a!.id)).length, 1);
    assert.equal((await attemptsOf(t.db, b!.id))[0]!.status_code, 503);
    await assertNextDueInvariant(t.db, 'a retry written with its row');
    // Its publish's time, to the millisecond the handoff carried.
    const [created] = await t.db.query<{ apart: number }>(
      `SELECT abs(extract(epoch FROM d.created_at - e.created_at) * 1000)::float8 AS apart
       FROM deliveries d JOIN events e ON e.tenant_id = d.tenant_id AND e.id = d.event_id WHERE d.id = $1`,
      [a!.id],
    );
    assert.ok(created!.apart < 1, JSON.stringify(created));
  });

  test('handed-over successes take the short statement; a late result or a changing endpoint the longer ones', async () => {
    const names: string[] = [];
    const db = {
      ...t.db,
      query: <T>(sql: Sql, params?: readonly unknown[]) => {
        if (typeof sql !== 'string' && sql.name.startsWith('herald_record')) names.push(sql.name);
        return t.db.query<T>(sql, params);
      },
    };
    const opts = { workerId: 'w1', now: clock.now() };
    // Rows not written yet, a healthy endpoint: one statement, rows and attempts written.
    const { given } = await handOver(3);
    const [a, b, c] = given;
    await recordAttempts(db, [attemptOf(a!, clock.now())], opts);
    assert.deepEqual(names, ['herald_record_handed_over_successes']);
    assert.deepEqual(
      (await rowsOf([a!.id])).map((r) => r.status),
      ['succeeded'],
    );
    assert.equal((await attemptsOf(t.db, a!.id)).length, 1);
    // A late result: recovery wrote b's row meanwhile; the short statement writes nothing and the
    // success statement records it in place of the interrupted attempt.
    clock.advance(LEASE);
    await recoverHandoffs(t.db, { now: clock.now() });
    names.length = 0;
    await recordAttempts(db, [attemptOf(b!, clock.now())], opts);
    assert.deepEqual(names, ['herald_record_handed_over_successes', 'herald_record_successes']);
    assert.deepEqual(
      (await attemptsOf(t.db, b!.id)).map((x) => [x.error_kind, x.status_code]),
      [[null, 200]],
    );
    // An endpoint whose state a success changes (its limit still rising): straight to the whole
    // statement, not through the success statement as well.
    tenant = await insertTenant(t.db); // a publish goes to every endpoint of its tenant
    const slow = await handOver(1);
    await t.db.query('UPDATE endpoints SET concurrency_limit = 4 WHERE id = $1', [slow.endpointId]);
    names.length = 0;
    await recordAttempts(db, [attemptOf(slow.given[0]!, clock.now())], opts);
    assert.deepEqual(names, ['herald_record_handed_over_successes', 'herald_record_attempts']);
    assert.equal((await rowsOf([slow.given[0]!.id]))[0]!.status, 'succeeded');
    assert.ok(c);
  });

  test('a record written again (its first answer lost) changes nothing and fails nothing', async () => {
    const { given } = await handOver(2);
    const records = given.map((d) => attemptOf(d, clock.now()));
    const opts = { workerId: 'w1', now: clock.now(), finishedHandoffs: [given[0]!.handoff!.handoffId] };
    await recordAttempts(t.db, records, opts);
    const before = await rowsOf(given.map((d) => d.id));
    await recordAttempts(t.db, records, opts);
    assert.deepEqual(await rowsOf(given.map((d) => d.id)), before);
    for (const d of given) {
      const attempts = await attemptsOf(t.db, d.id);
      assert.deepEqual(
        attempts.map((a) => a.status_code),
        [200],
        'its one attempt, once',
      );
    }
  });

  test('a release writes the row pending, its attempt not spent', async () => {
    const { given } = await handOver(1);
    const [d] = given;
    const released = await releaseDeliveries(
      t.db,
      [{ tenantId: tenant, deliveryId: d!.id, attemptNumber: 1, delayMs: 0, handoff: d!.handoff! }],
      { workerId: 'w1', now: clock.now(), finishedHandoffs: [d!.handoff!.handoffId] },
    );
    assert.deepEqual(released, [d!.id]);
    assert.equal(await handoffCount(), 0);
    const s = await deliveryState(t.db, d!.id);
    assert.equal(s.status, 'pending');
    assert.equal(s.attempt_count, 0);
    assert.equal(s.locked_by, null);
    await assertNextDueInvariant(t.db, 'released');
    const [again] = await claimAt(t.db, clock.now());
    assert.equal(again?.id, d!.id);
    assert.equal(again?.attemptNumber, 1);
    assert.equal(again?.handoff, undefined, 'claimed from its row');
  });

  test('an expired handoff is recovered: rows pending with an interrupted attempt, recorded ones left', async () => {
    const { given } = await handOver(3);
    const [a, b, c] = given;
    await recordAttempts(t.db, [attemptOf(a!, clock.now())], { workerId: 'w1', now: clock.now() });
    assert.deepEqual(await recoverHandoffs(t.db, { now: clock.now() }), { handoffs: 0, deliveries: 0 });
    clock.advance(LEASE);
    assert.deepEqual(await recoverHandoffs(t.db, { now: clock.now() }), { handoffs: 1, deliveries: 2 });
    assert.equal(await handoffCount(), 0);
    assert.equal((await deliveryState(t.db, a!.id)).status, 'succeeded');
    for (const d of [b!, c!]) {
      const s = await deliveryState(t.db, d.id);
      assert.deepEqual([s.status, s.attempt_count, s.locked_by], ['pending', 1, null]);
      assert.deepEqual(
        (await attemptsOf(t.db, d.id)).map((x) => x.error_kind),
        ['interrupted'],
      );
    }
    await assertNextDueInvariant(t.db, 'recovered');
    // The old worker's late result for b: kept in place of the interrupted attempt, the row unchanged.
    const late = await recordAttempts(t.db, [attemptOf(b!, clock.now())], {
      workerId: 'w1',
      now: clock.now(),
    });
    assert.deepEqual(late.moved, []);
    assert.equal((await deliveryState(t.db, b!.id)).status, 'pending');
    assert.deepEqual(
      (await attemptsOf(t.db, b!.id)).map((x) => [x.attempt_number, x.error_kind, x.status_code]),
      [[1, null, 200]],
    );
    // Claimed again as attempt 2.
    const claimed = await claimAt(t.db, clock.now());
    assert.deepEqual(
      claimed.map((x) => [x.id, x.attemptNumber]).sort(),
      [
        [b!.id, 2],
        [c!.id, 2],
      ].sort(),
    );
  });

  test('an endpoint deleted while its deliveries are out: recording and recovery write nothing for it', async () => {
    const { endpointId, given } = await handOver(2);
    await deleteEndpoint(t.db, tenant, endpointId);
    assert.deepEqual(await listDeliveries(t.db, tenant, { limit: 10 }), []);
    const result = await recordAttempts(t.db, [attemptOf(given[0]!, clock.now())], {
      workerId: 'w1',
      now: clock.now(),
    });
    assert.deepEqual(result.moved, []);
    assert.deepEqual(await attemptsOf(t.db, given[0]!.id), []);
    clock.advance(LEASE);
    assert.deepEqual(await recoverHandoffs(t.db, { now: clock.now() }), { handoffs: 1, deliveries: 0 });
    assert.deepEqual(await rowsOf(given.map((d) => d.id)), []);
  });

  test('an endpoint deleted while a record of its handed-over deliveries runs: the record waits, no row is left', async (c) => {
    if (kind === 'pglite') return c.skip('one connection: no concurrent transactions');
    const { endpointId, given } = await handOver(2);
    let recorded: Promise<unknown> | undefined;
    await t.db.transaction(async (tx) => {
      await removeEndpoints(tx, [endpointId]);
      // The record, on another connection, waits for the deletion (its key-share lock).
      recorded = recordAttempts(
        t.db,
        given.map((d) => attemptOf(d, clock.now())),
        { workerId: 'w1', now: clock.now() },
      );
      await waitFor('the record waiting on the endpoint row', async () => {
        const [w] = await tx.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity
           WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`,
        );
        return w!.n > 0;
      });
    });
    await recorded;
    assert.deepEqual(await rowsOf(given.map((d) => d.id)), [], 'no row outlives its endpoint');
  });

  test('any mix of records and releases, in any batches, leaves every row written once and no handoff', async () => {
    // A seeded generator: the same mixes every run.
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let round = 0; round < 6; round++) {
      // Two handoffs (each publish its own tenant: a tenant's every endpoint gets its events).
      tenant = await insertTenant(t.db);
      const first = await handOver(2 + Math.floor(random() * 6));
      tenant = await insertTenant(t.db);
      const second = await handOver(1 + Math.floor(random() * 4));
      const recorder = createSettlementRecorder({
        db: t.db,
        workerId: 'w1',
        now: () => clock.now(),
        maxItems: 1 + Math.floor(random() * 4),
        delayMs: 0,
        logger: silentLogger,
        onFlushed: () => {},
      });
      const all = [...first.given, ...second.given];
      for (const d of all) recorder.expect(d.handoff!.handoffId, 1);
      for (const d of all.sort(() => random() - 0.5))
        recorder.add(
          random() < 0.3
            ? releaseOf(d, 0)
            : { kind: 'attempt', fifo: false, record: attemptOf(d, clock.now()) },
        );
      await recorder.flush();
      const rows = await rowsOf(all.map((d) => d.id));
      assert.equal(rows.length, all.length, `round ${round}: a row for each`);
      const [left] = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM handoffs');
      assert.equal(left!.n, 0, `round ${round}: no handoff left`);
    }
  });

  test('recovery reads handoffs by the lease index and endpoints by key, whatever the statistics', async () => {
    for (const [name, sql, params] of [
      ['probe', EXPIRED_SQL, [clock.now().toISOString()]],
      ['recovery', RECOVER_SQL, [clock.now().toISOString(), 100]],
    ] as const) {
      const plan = await t.db.transaction(async (tx) => {
        // As the drivers plan a scan-free statement, on a generic plan (test/db/plan-modes.test.ts).
        await tx.exec('SET LOCAL plan_cache_mode = force_generic_plan; SET LOCAL enable_seqscan = off');
        await tx.exec(`PREPARE recovery_plan AS ${sql.text}`);
        const rows = await tx.query<{ 'QUERY PLAN': string }>(
          `EXPLAIN EXECUTE recovery_plan(${params.map((p) => `'${p}'`).join(', ')})`,
        );
        await tx.exec('DEALLOCATE recovery_plan');
        return rows.map((r) => r['QUERY PLAN']).join('\n');
      });
      assert.match(plan, /handoffs_lease on handoffs/, name);
      assert.doesNotMatch(plan, /Seq Scan on (handoffs|endpoints|deliveries)/, `${name}:\n${plan}`);
    }
  });

  test('retention keeps the payload of an event a handoff still holds', async () => {
    const { given, published } = await handOver(1);
    // Long past the retention window, with the handoff still out (a worker stuck for days).
    const later = new Date(clock.now().getTime() + 3 * 86_400_000);
    await purgeExpired(t.db, { now: later, retentionDays: 1 });
    const [event] = await t.db.query<{ kept: boolean }>(
      'SELECT data IS NOT NULL AS kept FROM events WHERE tenant_id = $1 AND id = $2',
      [tenant, published.events[0]!.id],
    );
    assert.equal(event!.kept, true);
    await recordAttempts(t.db, [attemptOf(given[0]!, clock.now())], {
      workerId: 'w1',
      now: clock.now(),
      finishedHandoffs: [given[0]!.handoff!.handoffId],
    });
    await purgeExpired(t.db, { now: later, retentionDays: 1 });
    const [purged] = await t.db.query<{ kept: boolean }>(
      'SELECT data IS NOT NULL AS kept FROM events WHERE tenant_id = $1 AND id = $2',
      [tenant, published.events[0]!.id],
    );
    assert.equal(purged!.kept, false, 'purged once its delivery is written');
  });
});
