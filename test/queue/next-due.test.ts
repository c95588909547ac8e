/**
 * Issue 14, delivery isolation: `endpoints.next_due_at`, the lower bound the claim picks endpoints
 * by (migration 008, docs/isolation.md). Every writer that makes a delivery due lowers it, only the
 * claim raises it, and never past a delivery made due concurrently: checked after each step.
 */
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { newId } from '../../src/core/ids.ts';
import { insertDeliveries } from '../../src/publish/publish-sql.ts';
import { claimDeliveries } from '../../src/queue/claim-deliveries.ts';
import type { ClaimedDelivery } from '../../src/queue/claimed-delivery.ts';
import { recoverHandoffs } from '../../src/queue/handoff-recovery.ts';
import { repairNextDue } from '../../src/queue/next-due-repair.ts';
import { type AttemptRecord, recordAttempts } from '../../src/queue/record-outcomes.ts';
import { releaseDeliveries } from '../../src/queue/release-deliveries.ts';
import { recoverDeliveries, retryDelivery } from '../../src/store/deliveries.ts';
import { updateEndpoint } from '../../src/store/endpoints.ts';
import {
  deliveryState,
  insertEndpoint,
  insertEvent,
  insertTenant,
  manualClock,
  publishOne,
  testSecretBox,
  waitFor,
} from '../support/delivery-fixtures.ts';
import {
  assertNextDueInvariant,
  attemptOf,
  claimAt,
  claimOptions,
  insertDue,
  LEASE_MS,
  outcome,
  plus,
  recordAt,
  schedulingOf,
  settle,
} from '../support/scheduling.ts';
import { forEachStorage, freshDb, TEST_DATABASE_URL, type TestDb } from '../support/storage.ts';

const URL = 'http://127.0.0.1:9/hook';

forEachStorage('next_due_at', (kind) => {
  let t: TestDb;
  before(async () => {
    t = await freshDb(kind);
  });
  after(() => t.close());

  const clock = manualClock();
  const claim = (o: { limit?: number; workerId?: string } = {}) => claimAt(t.db, clock.now(), o);
  const record = (ds: readonly ClaimedDelivery[], o: Partial<AttemptRecord>, workerId = 'w1') =>
    recordAt(t.db, clock.now(), ds, o, { workerId });
  const nextDue = async (ep: string) => (await schedulingOf(t.db, ep)).next_due_at;
  const ids = (ds: readonly ClaimedDelivery[]) => ds.map((d) => d.id).sort();

  test('publishing, claiming, retries, releases and expired leases keep it a lower bound; nothing due is left unclaimed', async () => {
    await settle(t.db);
    clock.advance(3_600_000);
    const tenant = await insertTenant(t.db);
    const ep = (await insertEndpoint(t.db, tenant, { url: URL })).id;
    assert.equal(await nextDue(ep), null, 'nothing pending');
    const t0 = clock.now();

    // Publishing-style inserts: due, and in the future.
    const due = [];
    for (let i = 0; i < 3; i++)
      due.push((await publishOne(t.db, tenant, ep, {}, { nextAttemptAt: plus(t0, -3000 + i) })).deliveryId);
    const later10 = (await publishOne(t.db, tenant, ep, {}, { nextAttemptAt: plus(t0, 10_000) })).deliveryId;
    const later20 = (await publishOne(t.db, tenant, ep, {}, { nextAttemptAt: plus(t0, 20_000) })).deliveryId;
    await assertNextDueInvariant(t.db, 'publishing');
    assert.deepEqual(await nextDue(ep), plus(t0, -3000));

    // A claim that drains what is due: raised to the next pending time (+10 s), not past it.
    const first = await claim();
    assert.deepEqual(ids(first), [...due].sort());
    await assertNextDueInvariant(t.db, 'a draining claim');
    assert.deepEqual(await nextDue(ep), plus(t0, 10_000));
    assert.equal((await claim()).length, 0, 'nothing due');

    // Recording: one succeeds, one is retried in 5 s (recording lowers it), one fails for good.
    clock.advance(1000);
    const version = (await schedulingOf(t.db, ep)).due_version;
    const [ok, retry, failed] = [first[0]!, first[1]!, first[2]!];
    await recordAttempts(
      t.db,
      [
        attemptOf(ok, clock.now(), outcome.success),
        attemptOf(retry, clock.now(), { ...outcome.unavailable, retryInMs: 5000 }),
        attemptOf(failed, clock.now(), { ...outcome.unavailable, status: 'failed', retryInMs: null }),
      ],
      { workerId: 'w1', now: clock.now() },
    );
    await assertNextDueInvariant(t.db, 'recording a retry');
    assert.deepEqual(await nextDue(ep), plus(t0, 6000), 'lowered to the retry');
    assert.equal((await schedulingOf(t.db, ep)).due_version, version + 1, 'and due_version bumped');
    clock.advance(4999);
    assert.equal((await claim()).length, 0);
    clock.advance(1);
    const retried = await claim();
    assert.deepEqual(
      retried.map((d) => [d.id, d.attemptNumber]),
      [[retry.id, 2]],
    );
    await assertNextDueInvariant(t.db, 'claiming the retry');

    // A release (rate limit, drain): due again after its delay, attempt number given back.
    await releaseDeliveries(
      t.db,
      [{ tenantId: tenant, deliveryId: retry.id, attemptNumber: 2, delayMs: 2000 }],
      {
        workerId: 'w1',
        now: clock.now(),
      },
    );
    await assertNextDueInvariant(t.db, 'a release');
    assert.deepEqual(await nextDue(ep), plus(clock.now(), 2000));
    clock.advance(2000);
    const again = await claim();
    assert.deepEqual(
      again.map((d) => [d.id, d.attemptNumber]),
      [[retry.id, 2]],
    );
    // Released at once: claimable by the very next claim.
    await releaseDeliveries(
      t.db,
      [{ tenantId: tenant, deliveryId: retry.id, attemptNumber: 2, delayMs: 0 }],
      {
        workerId: 'w1',
        now: clock.now(),
      },
    );
    await assertNextDueInvariant(t.db, 'a release with no delay');
    const third = await claim({ workerId: 'w2' });
    assert.deepEqual(ids(third), [retry.id]);

    // The future ones fall due by time alone: claimed when they do.
    clock.advance(10_000 - (clock.now().getTime() - t0.getTime()));
    assert.deepEqual(ids(await claim()), [later10]);
    await assertNextDueInvariant(t.db, 'the +10 s one');
    clock.advance(10_000);
    assert.deepEqual(ids(await claim()), [later20]);
    await assertNextDueInvariant(t.db, 'the +20 s one');

    // w2 dies holding `retry`: its lease runs out with no write at all, and the claim takes it.
    clock.advance(LEASE_MS);
    const orphan = await claim({ workerId: 'w3' });
    assert.deepEqual(
      orphan.map((d) => [d.id, d.attemptNumber]).sort(),
      [
        [later10, 2],
        [later20, 2],
        [retry.id, 3],
      ].sort(),
      'every expired lease, no write needed',
    );
    await assertNextDueInvariant(t.db, 'claiming expired leases');

    // All done: a lower bound left behind; the next claim that sees nothing due clears it.
    await record(orphan, outcome.success, 'w3');
    await assertNextDueInvariant(t.db, 'all delivered');
    clock.advance(LEASE_MS);
    assert.equal((await claim()).length, 0);
    assert.equal(await nextDue(ep), null, 'nothing pending: NULL');
    assert.equal((await deliveryState(t.db, failed.id)).status, 'failed');
  });

  test('deliveries handed over (publishing in `herald serve`): no row, no due time, until recovery writes them due', async () => {
    await settle(t.db);
    clock.advance(3_600_000);
    const tenant = await insertTenant(t.db);
    const ep = (await insertEndpoint(t.db, tenant, { url: URL })).id;
    const eventId = await insertEvent(t.db, tenant);
    const before = await nextDue(ep);
    const [handed] = await insertDeliveries(
      t.db,
      tenant,
      [
        {
          id: newId('dlv'),
          endpointId: ep,
          eventIds: [eventId],
          eventType: 'invoice.created',
          fifo: false,
          leaseMs: 20_000,
        },
      ],
      { workerId: 'serve', now: clock.now() },
    );
    assert.notEqual(handed!.handoffId, null);
    await assertNextDueInvariant(t.db, 'a handed-over delivery');
    assert.deepEqual(await nextDue(ep), before, 'nothing of it is due');
    assert.equal((await claim()).length, 0, 'in flight');
    // The process died with it: recovery writes it due at the lease's end, not before.
    clock.advance(19_999);
    assert.deepEqual(await recoverHandoffs(t.db, { now: clock.now() }), { handoffs: 0, deliveries: 0 });
    clock.advance(1);
    assert.deepEqual(await recoverHandoffs(t.db, { now: clock.now() }), { handoffs: 1, deliveries: 1 });
    await assertNextDueInvariant(t.db, 'recovering it');
    assert.deepEqual(ids(await claim()), [handed!.id]);
    await assertNextDueInvariant(t.db, 'taking it over');
  });

  test('fifo: only the lowest pending sequence is claimable, its retry holds the others back', async () => {
    await settle(t.db);
    clock.advance(3_600_000);
    const tenant = await insertTenant(t.db);
    const ep = (await insertEndpoint(t.db, tenant, { url: URL, ordering: 'fifo' })).id;
    const seq = await insertDue(t.db, {
      tenantId: tenant,
      endpointId: ep,
      count: 4,
      at: plus(clock.now(), -1000),
    });
    // Out of order in time: the later sequences are due earlier; still the head goes first. (A
    // writer that makes deliveries due earlier lowers next_due_at itself.)
    await t.db.query(
      `WITH moved AS (UPDATE deliveries SET next_attempt_at = next_attempt_at - interval '1 minute'
         WHERE id = ANY($1) RETURNING endpoint_id, next_attempt_at)
       UPDATE endpoints e SET next_due_at = least(e.next_due_at, (SELECT min(next_attempt_at) FROM moved))
       WHERE e.id = $2`,
      [seq.slice(1), ep],
    );
    await assertNextDueInvariant(t.db, 'publishing fifo');

    const [head] = await claim();
    assert.equal(head!.id, seq[0]);
    assert.equal(head!.fifo, true);
    assert.equal((await claim()).length, 0, 'the others wait for the head');
    await assertNextDueInvariant(t.db, 'claiming the head');

    // The head fails and is retried in 5 s: the others are due but still wait.
    await record([head!], { ...outcome.unavailable, retryInMs: 5000 });
    await assertNextDueInvariant(t.db, 'the head retried');
    assert.equal((await claim()).length, 0, 'still behind the head');
    await assertNextDueInvariant(t.db, 'a claim that found only blocked fifo deliveries');
    clock.advance(5000);
    const [retried] = await claim();
    assert.deepEqual([retried!.id, retried!.attemptNumber], [seq[0], 2]);
    await record([retried!], outcome.success);

    // In sequence order, one at a time.
    const order = [];
    for (let i = 1; i < 4; i++) {
      const got = await claim();
      assert.equal(got.length, 1);
      order.push(got[0]!.id);
      if (i === 3) assert.deepEqual(await nextDue(ep), plus(clock.now(), LEASE_MS), 'the last one: drained');
      await record(got, outcome.success);
      await assertNextDueInvariant(t.db, `fifo ${i}`);
    }
    assert.deepEqual(order, seq.slice(1));
  });

  test('a manual retry, a recovery and re-enabling lower it and move due_version', async () => {
    await settle(t.db);
    clock.advance(3_600_000);
    const tenant = await insertTenant(t.db);
    const ep = (await insertEndpoint(t.db, tenant, { url: URL })).id;
    // Fails the claimed delivery for good; the next claim finds nothing due and raises next_due_at
    // to nothing pending. Answers due_version then.
    const failForGood = async (got: ClaimedDelivery[]) => {
      assert.equal(got.length, 1);
      await record(got, { ...outcome.unavailable, status: 'failed', retryInMs: null });
      clock.advance(LEASE_MS);
      assert.equal((await claim()).length, 0);
      assert.equal(await nextDue(ep), null);
      return (await schedulingOf(t.db, ep)).due_version;
    };
    const [id] = await insertDue(t.db, {
      tenantId: tenant,
      endpointId: ep,
      count: 1,
      at: plus(clock.now(), -1000),
    });

    let version = await failForGood(await claim());
    await retryDelivery(t.db, tenant, id!);
    await assertNextDueInvariant(t.db, 'a manual retry');
    assert.equal((await schedulingOf(t.db, ep)).due_version, version + 1);
    const retried = await claim();
    assert.deepEqual(ids(retried), [id]);

    version = await failForGood(retried);
    assert.equal(await recoverDeliveries(t.db, tenant, ep, { since: new Date(0) }), 1);
    await assertNextDueInvariant(t.db, 'a recovery');
    assert.equal((await schedulingOf(t.db, ep)).due_version, version + 1);
    const recovered = await claim();
    assert.deepEqual(ids(recovered), [id]);
    await record(recovered, outcome.success);

    // Re-enabling makes the endpoint's waiting deliveries due now (the database's now, years before
    // this test's clock), below a next_due_at an hour ahead.
    const [later] = await insertDue(t.db, {
      tenantId: tenant,
      endpointId: ep,
      count: 1,
      at: plus(clock.now(), 3_600_000),
    });
    await updateEndpoint(t.db, testSecretBox, tenant, ep, { active: false });
    await updateEndpoint(t.db, testSecretBox, tenant, ep, { active: true });
    await assertNextDueInvariant(t.db, 're-enabling');
    assert.deepEqual(ids(await claim()), [later]);
  });

  test('the repair pass lowers a next_due_at a writer left above a due delivery, and only that', async () => {
    await settle(t.db);
    clock.advance(3_600_000);
    const tenant = await insertTenant(t.db);
    const ep = (await insertEndpoint(t.db, tenant, { url: URL })).id;
    const fine = (await insertEndpoint(t.db, tenant, { url: URL })).id;
    const [id] = await insertDue(t.db, {
      tenantId: tenant,
      endpointId: ep,
      count: 1,
      at: plus(clock.now(), -1000),
    });
    await insertDue(t.db, { tenantId: tenant, endpointId: fine, count: 1, at: plus(clock.now(), 5000) });
    // A writer that forgot: next_due_at as if nothing were pending.
    await t.db.query('UPDATE endpoints SET next_due_at = NULL WHERE id = $1', [ep]);
    const version = (await schedulingOf(t.db, ep)).due_version;
    assert.equal((await claim()).length, 0, 'the claim does not see it');

    assert.deepEqual(await repairNextDue(t.db), [ep]);
    await assertNextDueInvariant(t.db, 'the repair');
    assert.equal((await schedulingOf(t.db, ep)).due_version, version + 1);
    assert.deepEqual(await repairNextDue(t.db), [], 'nothing left to repair');
    assert.deepEqual(ids(await claim()), [id]);
  });

  // Concurrency: a claim held between its snapshot and its raise of next_due_at while another
  // connection makes a delivery due. Needs two connections: PostgreSQL only.
  for (const writer of ['release', 'publish'] as const) {
    for (const when of ['before the raise', 'during the raise'] as const) {
      test(`a delivery made due (${writer}) while a claim runs, ${when}, is claimed by the next claim`, {
        skip: kind === 'pglite' ? 'PGlite has one connection: no concurrent writer' : false,
      }, async () => {
        await settle(t.db);
        clock.advance(3_600_000);
        const now = clock.now();
        const tenant = await insertTenant(t.db);
        const ep = (await insertEndpoint(t.db, tenant, { url: URL })).id;
        // d1 in flight (w0's lease until now + 45 s), d2 due.
        const [d1] = await insertDue(t.db, {
          tenantId: tenant,
          endpointId: ep,
          count: 1,
          at: plus(now, -2000),
        });
        assert.deepEqual(ids(await claim({ workerId: 'w0' })), [d1]);
        const [d2] = await insertDue(t.db, {
          tenantId: tenant,
          endpointId: ep,
          count: 1,
          at: plus(now, -1000),
        });

        const key = randomInt(1, 2 ** 31 - 1);
        // 'before the raise': the claim waits as it leases d2, after its snapshot and before it
        // raises next_due_at; the writer commits meanwhile. 'during the raise': it waits as it
        // raises, holding the endpoint row; the writer's lowering waits for it, then applies.
        const hold =
          when === 'before the raise'
            ? `CREATE TRIGGER test_hold BEFORE UPDATE ON deliveries FOR EACH ROW
                   WHEN (NEW.locked_by = 'held') EXECUTE FUNCTION test_hold()`
            : `CREATE TRIGGER test_hold BEFORE UPDATE ON endpoints FOR EACH ROW
                   WHEN (NEW.next_due_at > OLD.next_due_at) EXECUTE FUNCTION test_hold()`;
        await t.db.exec(`
            CREATE FUNCTION test_hold() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN PERFORM pg_advisory_xact_lock_shared(${key}); RETURN NEW; END $$;
            ${hold};`);
        const control = new pg.Client({ connectionString: TEST_DATABASE_URL });
        await control.connect();
        try {
          await control.query('SELECT pg_advisory_lock($1)', [key]);
          const held = claimDeliveries(t.db, claimOptions(now, { workerId: 'held', limit: 10 }));
          const claimer = await waitFor('the claim to wait on the hold', async () => {
            const { rows } = await control.query<{ pid: number }>(
              `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objid = $1 AND NOT granted`,
              [key],
            );
            return rows[0]?.pid;
          });

          // The writer: a release of w0's d1 (due at once), or a publish of a new delivery.
          const writing: Promise<string> =
            writer === 'release'
              ? releaseDeliveries(
                  t.db,
                  [{ tenantId: tenant, deliveryId: d1!, attemptNumber: 1, delayMs: 0 }],
                  {
                    workerId: 'w0',
                    now,
                  },
                ).then(() => d1!)
              : insertDue(t.db, { tenantId: tenant, endpointId: ep, count: 1, at: now }).then(([id]) => id!);
          if (when === 'before the raise') await writing;
          else
            await waitFor('the writer to wait for the claim', async () => {
              const { rows } = await control.query(
                'SELECT pid FROM pg_stat_activity WHERE $1 = ANY (pg_blocking_pids(pid))',
                [claimer],
              );
              return rows.length > 0;
            });

          await control.query('SELECT pg_advisory_unlock($1)', [key]);
          assert.deepEqual(ids((await held).deliveries), [d2]);
          const made = await writing;

          await assertNextDueInvariant(t.db, `a ${writer} ${when} of a claim`);
          const next = await claimDeliveries(t.db, claimOptions(now, { workerId: 'w2' }));
          assert.deepEqual(ids(next.deliveries), [made]);
        } finally {
          await control.end();
          await t.db.exec(`DROP TRIGGER IF EXISTS test_hold ON deliveries;
              DROP TRIGGER IF EXISTS test_hold ON endpoints; DROP FUNCTION IF EXISTS test_hold()`);
        }
      });
    }
  }
});
