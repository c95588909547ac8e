import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type Queryable, type Sql, sqlText } from '../../src/db/db.ts';
import { type ClaimOptions, claimDeliveries } from '../../src/queue/claim-deliveries.ts';
import { releaseDeliveries } from '../../src/queue/release-deliveries.ts';
import {
  deliveryState,
  insertDelivery,
  insertEndpoint,
  insertEvent,
  insertTenant,
  manualClock,
  publishOne,
} from '../support/delivery-fixtures.ts';
import { forEachStorage, freshDb, type TestDb } from '../support/storage.ts';

const URL = 'http://127.0.0.1:9/hook';

forEachStorage('claim deliveries', (kind) => {
  let t: TestDb;
  let tenant: string;
  before(async () => {
    t = await freshDb(kind);
    tenant = await insertTenant(t.db);
  });
  after(() => t.close());

  const clock = manualClock();
  const opts = (o: Partial<ClaimOptions> = {}): ClaimOptions => ({
    workerId: 'w1',
    limit: 10,
    leaseMs: 30_000,
    defaultTotalTimeoutMs: 15_000,
    now: clock.now(),
    ...o,
  });
  /**
   * `n` deliveries of one event to the endpoint, due over the last hour (oldest first), ids
   * `prefix` + a six-digit number, sequences after `sequenceBase`; the endpoint due with them.
   */
  async function insertBacklog(
    q: Queryable,
    endpointId: string,
    event: string,
    prefix: string,
    n: number,
    sequenceBase: number,
  ): Promise<void> {
    await q.query(
      `INSERT INTO deliveries (id, tenant_id, endpoint_id, event_id, event_ids, event_type, sequence, next_attempt_at)
       SELECT $5 || lpad(g::text, 6, '0'), $1, $2, $3, ARRAY[$3], 'a.b', $6::int8 + g,
         $4::timestamptz - interval '1 hour' + g * interval '1 millisecond'
       FROM generate_series(1, $7::int) g`,
      [tenant, endpointId, event, clock.now(), prefix, sequenceBase, n],
    );
    await q.query(`UPDATE endpoints SET next_due_at = $2::timestamptz - interval '1 hour' WHERE id = $1`, [
      endpointId,
      clock.now(),
    ]);
  }
  /** Takes every due row out of the way so each test starts from an empty due set. */
  async function settle(): Promise<void> {
    await t.db.query(
      `UPDATE deliveries SET status = 'succeeded', next_attempt_at = NULL WHERE status = 'pending'`,
    );
  }

  test('a batch of several endpoints: each delivery carries its own endpoint, shared within it', async () => {
    await settle();
    const until = new Date('2030-01-02T03:04:05.678Z');
    const a = await insertEndpoint(t.db, tenant, {
      url: `${URL}/a`,
      headers: { 'x-which': 'a' },
      previousSecret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      previousSecretUntil: until,
      retrySchedule: [0, 7],
      connectTimeoutMs: 1111,
      totalTimeoutMs: 2222,
      rateLimitPerSecond: 33,
    });
    const b = await insertEndpoint(t.db, tenant, { url: `${URL}/b` });
    const now = clock.now().getTime();
    for (const [i, ep] of [a, b, a, b].entries()) {
      await publishOne(t.db, tenant, ep.id, {}, { nextAttemptAt: new Date(now - 4000 + i) });
    }
    const { deliveries } = await claimDeliveries(t.db, opts());
    assert.equal(deliveries.length, 4);
    const ofA = deliveries.filter((d) => d.endpointId === a.id);
    const ofB = deliveries.filter((d) => d.endpointId === b.id);
    assert.equal(ofA.length, 2);
    assert.equal(ofA[0]!.endpoint, ofA[1]!.endpoint, 'one object per endpoint');
    assert.equal(ofB[0]!.endpoint, ofB[1]!.endpoint);
    const ea = ofA[0]!.endpoint;
    assert.equal(ea.id, a.id);
    assert.equal(ea.url, `${URL}/a`);
    assert.deepEqual(ea.headers, { 'x-which': 'a' });
    assert.deepEqual(ea.retrySchedule, [0, 7]);
    assert.equal(ea.connectTimeoutMs, 1111);
    assert.equal(ea.totalTimeoutMs, 2222);
    assert.equal(ea.rateLimitPerSecond, 33);
    assert.ok(ea.previousSecretEnc);
    assert.deepEqual(ea.previousSecretUntil, until);
    const eb = ofB[0]!.endpoint;
    assert.equal(eb.url, `${URL}/b`);
    assert.deepEqual(eb.headers, {});
    assert.equal(eb.retrySchedule, null);
    assert.equal(eb.previousSecretEnc, null);
    assert.equal(eb.previousSecretUntil, null);
    assert.equal(eb.totalTimeoutMs, null);
  });

  test('claims due rows oldest first with what sending needs, and leases them', async () => {
    await settle();
    const ep = await insertEndpoint(t.db, tenant, {
      url: URL,
      headers: { 'x-a': '1' },
      retrySchedule: [0, 1],
    });
    const now = clock.now().getTime();
    const late = await publishOne(
      t.db,
      tenant,
      ep.id,
      { data: { v: 2 } },
      { nextAttemptAt: new Date(now - 1000) },
    );
    const early = await publishOne(
      t.db,
      tenant,
      ep.id,
      { data: { v: 1 }, occurredAt: new Date('2024-01-02T03:04:05.678Z') },
      { nextAttemptAt: new Date(now - 5000) },
    );
    const future = await publishOne(t.db, tenant, ep.id, {}, { nextAttemptAt: new Date(now + 1000) });

    const { deliveries, moreDue } = await claimDeliveries(t.db, opts());
    assert.equal(moreDue, false);
    assert.deepEqual(
      deliveries.map((d) => d.id),
      [early.deliveryId, late.deliveryId],
    );
    const first = deliveries[0]!;
    assert.equal(first.attemptNumber, 1);
    assert.equal(first.sequence, early.sequence);
    assert.equal(first.endpoint.url, URL);
    assert.deepEqual(first.endpoint.headers, { 'x-a': '1' });
    assert.deepEqual(first.endpoint.retrySchedule, [0, 1]);
    assert.equal(first.events.length, 1);
    assert.equal(first.events[0]!.id, early.eventId);
    assert.deepEqual(first.events[0]!.data, { v: 1 });
    assert.equal(first.events[0]!.purged, false);
    assert.equal(first.events[0]!.occurredAt?.toISOString(), '2024-01-02T03:04:05.678Z');

    const state = await deliveryState(t.db, early.deliveryId);
    assert.equal(state.locked_by, 'w1');
    assert.equal(state.attempt_count, 1);
    // Lease: now + lease + the endpoint's total timeout (default 15 s).
    assert.equal(state.next_attempt_at!.getTime(), now + 45_000);
    assert.equal((await deliveryState(t.db, future.deliveryId)).locked_by, null);

    // Claimed rows are not due again while the lease runs.
    assert.equal((await claimDeliveries(t.db, opts({ workerId: 'w2' }))).deliveries.length, 0);
  });

  test('an expired lease makes the delivery claimable by another worker', async () => {
    await settle();
    const ep = await insertEndpoint(t.db, tenant, { url: URL, totalTimeoutMs: 1000 });
    const { deliveryId } = await publishOne(t.db, tenant, ep.id, {}, { nextAttemptAt: clock.now() });
    const one = await claimDeliveries(t.db, opts({ workerId: 'crashed', leaseMs: 5000 }));
    assert.deepEqual(
      one.deliveries.map((d) => d.id),
      [deliveryId],
    );
    clock.advance(5999);
    assert.equal((await claimDeliveries(t.db, opts({ workerId: 'w2' }))).deliveries.length, 0);
    clock.advance(1);
    const two = await claimDeliveries(t.db, opts({ workerId: 'w2' }));
    assert.deepEqual(
      two.deliveries.map((d) => [d.id, d.attemptNumber]),
      [[deliveryId, 2]],
    );
    // The crashed worker's late release no longer matches its claim.
    assert.deepEqual(
      await releaseDeliveries(t.db, [{ tenantId: tenant, deliveryId, attemptNumber: 1, delayMs: 0 }], {
        workerId: 'crashed',
        now: clock.now(),
      }),
      [],
    );
    assert.equal((await deliveryState(t.db, deliveryId)).locked_by, 'w2');
  });

  test('fifo: only the lowest pending sequence of an endpoint is claimable', async () => {
    await settle();
    const ep = await insertEndpoint(t.db, tenant, { url: URL, ordering: 'fifo' });
    const d1 = await publishOne(t.db, tenant, ep.id, {}, { nextAttemptAt: clock.now() });
    const d2 = await publishOne(
      t.db,
      tenant,
      ep.id,
      {},
      { nextAttemptAt: new Date(clock.now().getTime() - 10_000) },
    );
    const first = await claimDeliveries(t.db, opts());
    assert.deepEqual(
      first.deliveries.map((d) => d.id),
      [d1.deliveryId],
    );
    assert.equal(first.deliveries[0]!.fifo, true);
    // While the head is in flight its successor waits, even though it is due.
    assert.equal((await claimDeliveries(t.db, opts())).deliveries.length, 0);
    await t.db.query(
      `UPDATE deliveries SET status = 'succeeded', locked_by = NULL, next_attempt_at = NULL WHERE id = $1`,
      [d1.deliveryId],
    );
    assert.deepEqual(
      (await claimDeliveries(t.db, opts())).deliveries.map((d) => d.id),
      [d2.deliveryId],
    );
  });

  test('deliveries of an inactive endpoint wait untouched, and are claimed once it is active again', async () => {
    await settle();
    const ep = await insertEndpoint(t.db, tenant, { url: URL, active: false });
    const { deliveryId } = await publishOne(t.db, tenant, ep.id, {}, { nextAttemptAt: clock.now() });
    const before = await deliveryState(t.db, deliveryId);
    const res = await claimDeliveries(t.db, opts());
    assert.equal(res.deliveries.length, 0);
    assert.deepEqual(await deliveryState(t.db, deliveryId), before);

    await t.db.query('UPDATE endpoints SET active = true WHERE id = $1', [ep.id]);
    assert.deepEqual(
      (await claimDeliveries(t.db, opts())).deliveries.map((d) => d.id),
      [deliveryId],
    );
  });

  test('a batched delivery returns its events in order; a purged payload is flagged', async () => {
    await settle();
    const ep = await insertEndpoint(t.db, tenant, { url: URL });
    const e1 = await insertEvent(t.db, tenant, { data: { i: 1 } });
    const e2 = await insertEvent(t.db, tenant, { data: { i: 2 } });
    await t.db.query('UPDATE events SET data = NULL WHERE id = $1', [e1]);
    await insertDelivery(t.db, {
      tenantId: tenant,
      endpointId: ep.id,
      eventIds: [e2, e1],
      nextAttemptAt: clock.now(),
    });
    const [d] = (await claimDeliveries(t.db, opts())).deliveries;
    assert.deepEqual(
      d!.events.map((e) => [e.id, e.purged, e.data]),
      [
        [e2, false, { i: 2 }],
        [e1, true, null],
      ],
    );
  });

  test('limit and concurrent claimers: every due row is claimed exactly once', async () => {
    await settle();
    const ep = await insertEndpoint(t.db, tenant, { url: URL });
    const ids = new Set<string>();
    for (let i = 0; i < 30; i++)
      ids.add((await publishOne(t.db, tenant, ep.id, {}, { nextAttemptAt: clock.now() })).deliveryId);
    const results = await Promise.all(
      ['a', 'b', 'c', 'd'].map((w) => claimDeliveries(t.db, opts({ workerId: w, limit: 8 }))),
    );
    const claimed = results.flatMap((r) => r.deliveries.map((d) => d.id));
    assert.equal(claimed.length, new Set(claimed).size, 'no row claimed twice');
    const rest = await claimDeliveries(t.db, opts({ limit: 100 }));
    assert.deepEqual(new Set([...claimed, ...rest.deliveries.map((d) => d.id)]), ids);
  });

  test('a claim stays O(batch) when the table grew after the first claims (no plan kept from an empty table)', async () => {
    await settle();
    const ep = await insertEndpoint(t.db, tenant, { url: URL });
    const event = await insertEvent(t.db, tenant);
    // All on one connection, as a dispatcher's idle polls and its first busy claim would be: a plan
    // cached from the polls of an almost empty due set must not be the one used for a large one.
    const read = await t.db.transaction(async (tx) => {
      const idle = opts({ limit: 100, now: new Date(clock.now().getTime() - 86_400_000) });
      for (let i = 0; i < 10; i++) assert.equal((await claimDeliveries(tx, idle)).deliveries.length, 0);
      await insertBacklog(tx, ep.id, event, 'dlv_grown_', 20000, 100000);
      const before = await tupleReads(tx);
      const { deliveries } = await claimDeliveries(tx, opts({ limit: 100, maxInFlightPerEndpoint: 1000 }));
      assert.equal(deliveries.length, 100);
      const ids = deliveries.map((d) => d.id).sort();
      assert.deepEqual([ids[0], ids[99]], ['dlv_grown_000001', 'dlv_grown_000100'], 'the oldest due');
      const after = await tupleReads(tx);
      return after - before;
    });
    // An ordered index scan reads about the batch; a sequential scan and sort would read all 20,000.
    assert.ok(read < 2000, `the claim read ${read} rows of deliveries for a batch of 100`);
    await settle();
  });

  test('a claim reads each endpoint row a fixed number of times, not once per delivery', async () => {
    await settle();
    const ep = await insertEndpoint(t.db, tenant, { url: URL });
    const event = await insertEvent(t.db, tenant);
    await insertBacklog(t.db, ep.id, event, 'dlv_cfg_', 300, 300000);
    const read = await t.db.transaction(async (tx) => {
      const before = await tupleReads(tx, 'endpoints');
      const { deliveries } = await claimDeliveries(tx, opts({ limit: 200, maxInFlightPerEndpoint: 1000 }));
      assert.equal(deliveries.length, 200);
      assert.ok(deliveries.every((d) => d.endpoint === deliveries[0]!.endpoint && d.endpoint.url === URL));
      return (await tupleReads(tx, 'endpoints')) - before;
    });
    // Each of the claim's steps reads the endpoints table (seq scans of this small table read all of
    // its rows): some multiple of its size, but not a read per delivery claimed.
    assert.ok(read < 200, `the claim read ${read} endpoint rows for 200 deliveries of one endpoint`);
    await settle();
  });

  test('a claim stays O(batch) when most of an analysed table is due', async () => {
    await settle();
    const ep = await insertEndpoint(t.db, tenant, { url: URL });
    const event = await insertEvent(t.db, tenant);
    await insertBacklog(t.db, ep.id, event, 'dlv_due_', 20000, 200000);
    // The statistics say most rows are due: a plan that hashes the whole table against the batch
    // then looks cheap to the planner (it did, for the UPDATE that takes the picked rows).
    await t.db.exec('ANALYZE deliveries');
    const read = await t.db.transaction(async (tx) => {
      const before = await tupleReads(tx);
      const { deliveries } = await claimDeliveries(tx, opts({ limit: 100, maxInFlightPerEndpoint: 1000 }));
      assert.equal(deliveries.length, 100);
      return (await tupleReads(tx)) - before;
    });
    assert.ok(read < 2000, `the claim read ${read} rows of deliveries for a batch of 100`);
    // The UPDATE that takes the picked rows reaches them by address whatever the planner guesses of
    // the batch (a guess of thousands, on a table of 20,000, hashed a scan of it against the batch).
    let statement: { text: string; params: readonly unknown[] } | undefined;
    const capture: Queryable = {
      async query<T>(sql: Sql, params?: readonly unknown[]): Promise<T[]> {
        statement = { text: sqlText(sql), params: params ?? [] };
        return [];
      },
      async exec() {},
    };
    await claimDeliveries(capture, opts({ limit: 100, maxInFlightPerEndpoint: 1000 }));
    const plan = (await t.db.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${statement!.text}`, statement!.params))
      .map((r) => r['QUERY PLAN'])
      .join('\n');
    const from = plan.indexOf('CTE claimed');
    const update = plan.slice(from, plan.indexOf('\n  CTE ', from));
    assert.match(update, /Tid Scan on deliveries/);
    assert.doesNotMatch(update, /Seq Scan on deliveries/);
    await settle();
  });
});

/** Rows of `table` read so far in this transaction, by sequential and index scans. */
async function tupleReads(tx: Queryable, table = 'deliveries'): Promise<number> {
  const [row] = await tx.query<{ n: number }>(
    `SELECT (coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0))::int AS n
     FROM pg_stat_xact_user_tables WHERE relid = $1::regclass`,
    [table],
  );
  return row?.n ?? 0;
}
