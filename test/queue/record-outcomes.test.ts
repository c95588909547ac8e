import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { newId } from '../../src/core/ids.ts';
import { claimDeliveries } from '../../src/queue/claim-deliveries.ts';
import { type AttemptRecord, recordOutcomes, recordStatement } from '../../src/queue/record-outcomes.ts';
import { releaseDeliveries } from '../../src/queue/release-deliveries.ts';
import {
  attemptsOf,
  deliveryState,
  insertEndpoint,
  insertTenant,
  manualClock,
  publishOne,
} from '../support/delivery-fixtures.ts';
import { forEachStorage, freshDb, type TestDb } from '../support/storage.ts';

const URL = 'http://127.0.0.1:9/hook';

forEachStorage('record outcomes and release', (kind) => {
  let t: TestDb;
  let tenant: string;
  before(async () => {
    t = await freshDb(kind);
    tenant = await insertTenant(t.db);
  });
  after(() => t.close());

  const clock = manualClock();
  const claim = async (workerId = 'w1') =>
    (
      await claimDeliveries(t.db, {
        workerId,
        limit: 100,
        leaseMs: 30_000,
        defaultTotalTimeoutMs: 15_000,
        now: clock.now(),
      })
    ).deliveries;

  function record(
    d: { id: string; tenantId: string; endpointId: string; attemptNumber: number },
    o: Partial<AttemptRecord>,
  ): AttemptRecord {
    return {
      attemptId: newId('atm'),
      deliveryId: d.id,
      tenantId: d.tenantId,
      endpointId: d.endpointId,
      attemptNumber: d.attemptNumber,
      status: 'succeeded',
      retryInMs: null,
      startedAt: clock.now(),
      durationMs: 12,
      statusCode: 200,
      errorKind: null,
      errorMessage: null,
      requestHeaders: { 'webhook-id': 'x', authorization: '[redacted]' },
      responseHeaders: { 'content-type': 'text/plain' },
      responseExcerpt: 'ok',
      endpointGone: false,
      ...o,
    };
  }

  test('one batch: success, retry and failure, with the endpoint failure state', async () => {
    const good = await insertEndpoint(t.db, tenant, {
      url: URL,
      failingSince: new Date('2029-12-01T00:00:00Z'),
    });
    const bad = await insertEndpoint(t.db, tenant, { url: URL });
    const a = await publishOne(t.db, tenant, good.id, {}, { nextAttemptAt: clock.now() });
    const b = await publishOne(t.db, tenant, bad.id, {}, { nextAttemptAt: clock.now() });
    const c = await publishOne(t.db, tenant, bad.id, {}, { nextAttemptAt: clock.now() });
    const claimed = new Map((await claim()).map((d) => [d.id, d]));
    const moved = await recordOutcomes(
      t.db,
      [
        record(claimed.get(a.deliveryId)!, {}),
        record(claimed.get(b.deliveryId)!, {
          status: 'pending',
          retryInMs: 5000,
          statusCode: 500,
          errorKind: 'http_status',
          errorMessage: 'HTTP 500',
          responseExcerpt: 'boom',
        }),
        record(claimed.get(c.deliveryId)!, {
          status: 'failed',
          statusCode: null,
          errorKind: 'timeout',
          errorMessage: 'no response within 200 ms',
          responseHeaders: null,
          responseExcerpt: null,
        }),
      ],
      { workerId: 'w1', now: clock.now() },
    );
    assert.equal(moved.length, 3);

    const sa = await deliveryState(t.db, a.deliveryId);
    assert.equal(sa.status, 'succeeded');
    assert.equal(sa.completed_at?.getTime(), clock.now().getTime());
    assert.equal(sa.next_attempt_at, null);
    assert.equal(sa.locked_by, null);

    const sb = await deliveryState(t.db, b.deliveryId);
    assert.equal(sb.status, 'pending');
    assert.equal(sb.next_attempt_at?.getTime(), clock.now().getTime() + 5000);
    assert.equal(sb.last_status_code, 500);
    assert.equal(sb.last_error, 'HTTP 500');
    assert.equal(sb.locked_by, null);

    assert.equal((await deliveryState(t.db, c.deliveryId)).status, 'failed');
    const [att] = await attemptsOf(t.db, c.deliveryId);
    assert.equal(att!.error_kind, 'timeout');
    assert.equal(att!.duration_ms, 12);
    assert.deepEqual((await attemptsOf(t.db, b.deliveryId))[0]!.response_excerpt, 'boom');
    assert.deepEqual((await attemptsOf(t.db, a.deliveryId))[0]!.request_headers, {
      'webhook-id': 'x',
      authorization: '[redacted]',
    });

    const eps = await t.db.query<{ id: string; failing_since: Date | null }>(
      'SELECT id, failing_since FROM endpoints WHERE id = ANY($1::text[])',
      [[good.id, bad.id]],
    );
    const since = new Map(eps.map((e) => [e.id, e.failing_since]));
    assert.equal(since.get(good.id), null, 'a success clears failing_since');
    assert.equal(since.get(bad.id)?.getTime(), clock.now().getTime(), 'a failure sets it');
  });

  test('410 disables the endpoint; a lost claim keeps the attempt but not the state change', async () => {
    const ep = await insertEndpoint(t.db, tenant, { url: URL });
    const d = await publishOne(t.db, tenant, ep.id, {}, { nextAttemptAt: clock.now() });
    const [claimed] = await claim();
    const rec = record(claimed!, { status: 'pending', retryInMs: 1000, statusCode: 410, endpointGone: true });
    // Written twice (as a retried flush would): the second is a no-op, not a primary key error.
    await recordOutcomes(t.db, [rec], { workerId: 'w1', now: clock.now() });
    assert.deepEqual(await recordOutcomes(t.db, [rec], { workerId: 'w1', now: clock.now() }), []);
    assert.equal((await attemptsOf(t.db, d.deliveryId)).length, 1);
    const [row] = await t.db.query<{ active: boolean; disabled_reason: string; disabled_at: Date }>(
      'SELECT active, disabled_reason, disabled_at FROM endpoints WHERE id = $1',
      [ep.id],
    );
    assert.equal(row!.active, false);
    assert.equal(row!.disabled_reason, 'gone (HTTP 410)');
    assert.equal(row!.disabled_at.getTime(), clock.now().getTime());

    // A worker whose claim was lost: the attempt is kept, the delivery is not moved on.
    const ep2 = await insertEndpoint(t.db, tenant, { url: URL });
    const d2 = await publishOne(t.db, tenant, ep2.id, {}, { nextAttemptAt: clock.now() });
    const [c2] = await claim('w1');
    await t.db.query(`UPDATE deliveries SET locked_by = 'w2' WHERE id = $1`, [d2.deliveryId]);
    assert.deepEqual(await recordOutcomes(t.db, [record(c2!, {})], { workerId: 'w1', now: clock.now() }), []);
    assert.equal((await deliveryState(t.db, d2.deliveryId)).status, 'pending');
    assert.equal((await attemptsOf(t.db, d2.deliveryId)).length, 1);
  });

  test('a lease that ran out: the claim taking it over records the interrupted attempt, a late result replaces it (issue 16)', async () => {
    const ep = await insertEndpoint(t.db, tenant, { url: URL });
    const d = await publishOne(t.db, tenant, ep.id, {}, { nextAttemptAt: clock.now() });
    // Other tests' deliveries may fall due on the shared clock too: this one's claims, by id.
    const first = (await claim('w1')).find((c) => c.id === d.deliveryId);
    assert.equal(first!.attemptNumber, 1);
    // w1 dies: nothing recorded. Once its lease (15 s budget + 30 s) has run out, w2 takes over.
    clock.advance(46_000);
    const second = (await claim('w2')).find((c) => c.id === d.deliveryId);
    assert.equal(second!.attemptNumber, 2);
    const kinds = async () =>
      (
        await t.db.query<{ attempt_number: number; error_kind: string | null }>(
          'SELECT attempt_number, error_kind FROM attempts WHERE delivery_id = $1 ORDER BY attempt_number',
          [d.deliveryId],
        )
      ).map((a) => `${a.attempt_number}:${a.error_kind ?? 'ok'}`);
    assert.deepEqual(await kinds(), ['1:interrupted'], 'the count (2, one in flight) and the list agree');
    const [row] = await t.db.query<{ started_at: Date; error_message: string }>(
      'SELECT started_at, error_message FROM attempts WHERE delivery_id = $1',
      [d.deliveryId],
    );
    assert.equal(row!.started_at.getTime(), clock.now().getTime() - 46_000, 'started when it was claimed');
    assert.match(row!.error_message, /stopped before recording its outcome/);

    // w1 was only slow: its late result replaces the interrupted record; w2's claim decides.
    assert.deepEqual(
      await recordOutcomes(t.db, [record(first!, {})], { workerId: 'w1', now: clock.now() }),
      [],
    );
    assert.deepEqual(await kinds(), ['1:ok']);
    const moved = await recordOutcomes(t.db, [record(second!, { status: 'succeeded' })], {
      workerId: 'w2',
      now: clock.now(),
    });
    assert.deepEqual(moved, [d.deliveryId]);
    assert.deepEqual(await kinds(), ['1:ok', '2:ok']);
    assert.equal((await deliveryState(t.db, d.deliveryId)).status, 'succeeded');
  });

  test('release undoes the claim: attempt count restored, due after the delay', async () => {
    const ep = await insertEndpoint(t.db, tenant, { url: URL });
    const d = await publishOne(t.db, tenant, ep.id, {}, { nextAttemptAt: clock.now() });
    const [c] = await claim();
    assert.equal(c!.attemptNumber, 1);
    const released = await releaseDeliveries(
      t.db,
      [{ tenantId: tenant, deliveryId: d.deliveryId, attemptNumber: 1, delayMs: 250 }],
      {
        workerId: 'w1',
        now: clock.now(),
      },
    );
    assert.deepEqual(released, [d.deliveryId]);
    const s = await deliveryState(t.db, d.deliveryId);
    assert.equal(s.attempt_count, 0);
    assert.equal(s.locked_by, null);
    assert.equal(s.next_attempt_at?.getTime(), clock.now().getTime() + 250);
  });

  const quote = (v: string) => `'${v.replaceAll("'", "''")}'`;
  const literal = (v: unknown): string => {
    if (v === null || v === undefined) return 'NULL';
    if (v instanceof Date) return quote(v.toISOString());
    if (Array.isArray(v)) return quote(`{${v.map((x) => JSON.stringify(String(x))).join(',')}}`);
    return quote(String(v));
  };

  /**
   * The plan PostgreSQL keeps for the prepared statement once it settles on a generic one
   * (`force_generic_plan`: made without the batch's values, from the statistics of the moment).
   */
  async function genericPlan(records: AttemptRecord[]): Promise<string> {
    const { sql, params } = recordStatement(records, { workerId: 'w1', now: clock.now() });
    return t.db.transaction(async (tx) => {
      // As the drivers plan a scan-free statement (test/db/plan-modes.test.ts checks they do).
      await tx.exec('SET LOCAL plan_cache_mode = force_generic_plan; SET LOCAL enable_seqscan = off');
      await tx.exec(`PREPARE record_plan AS ${sql.text}`);
      // EXECUTE takes no bound parameters: the values go in as literals, typed by the PREPARE.
      const args = params.map(literal).join(', ');
      const plan = (await tx.query<{ 'QUERY PLAN': string }>(`EXPLAIN EXECUTE record_plan(${args})`))
        .map((r) => r['QUERY PLAN'])
        .join('\n');
      await tx.exec('DEALLOCATE record_plan');
      return plan;
    });
  }

  test('the recording statement settles on a generic plan (it is not planned on every call)', async () => {
    // Planning it costs more than running it (~0.8 ms against ~0.5 on PostgreSQL 15). PostgreSQL
    // reuses a generic plan only when it looks no dearer than the custom ones; inputs sized by their
    // values (unnest of arrays) made the custom ones look cheaper, and every call was planned.
    const ep = await insertEndpoint(t.db, tenant, { url: URL });
    const ids = Array.from({ length: 8 }, (_, i) => `dlv_generic_${i}`);
    const plans = await t.db.transaction(async (tx) => {
      for (const id of ids) {
        const r = record({ id, tenantId: tenant, endpointId: ep.id, attemptNumber: 1 }, {});
        const { sql, params } = recordStatement([r], { workerId: 'w1', now: clock.now() });
        await tx.query(sql, params);
      }
      return tx.query<{ generic_plans: number; custom_plans: number }>(
        `SELECT generic_plans::int, custom_plans::int FROM pg_prepared_statements
         WHERE statement = (SELECT statement FROM pg_prepared_statements WHERE statement LIKE '%json_to_recordset($4::json) AS x(id text, ok bool%' LIMIT 1)`,
      );
    });
    assert.equal(plans.length, 1);
    // PostgreSQL tries five custom plans before it compares.
    assert.ok(plans[0]!.generic_plans >= 3, JSON.stringify(plans));
  });

  test('recording reaches every row by address, never by scanning a table, whatever the statistics', async () => {
    const ep = await insertEndpoint(t.db, tenant, { url: URL, concurrencyLimit: 8 });
    const d = await publishOne(t.db, tenant, ep.id, {}, { nextAttemptAt: clock.now() });
    const [c] = await claim();
    assert.equal(c!.id, d.deliveryId);
    const records = [record(c!, {}), record({ ...c!, id: 'dlv_gone' }, {})];
    const tables = /(Seq|Bitmap Heap|Index Only) Scan on (deliveries|endpoints|attempts)/;
    // Planned while the tables are small, as a generic plan made early would be ...
    const small = await genericPlan(records);
    assert.match(small, /Tid Scan on deliveries/);
    // Each delivery's row probed by its whole primary key: an index that matches the tenant alone
    // costs the same on a small table, and would read every delivery of the tenant per probe.
    assert.match(
      small,
      /Index Scan using deliveries_pkey on deliveries x\s+\(.*\n\s+Index Cond: \(\(tenant_id = t\.tenant_id\) AND \(id = t\.delivery_id\)\)/,
    );
    assert.doesNotMatch(small, /Filter: \(id = t\.delivery_id\)/);
    // The endpoint rows by key or by address (the plan sizes the batch at 100 rows either way).
    assert.match(
      small,
      /Index Scan using endpoints_pkey on endpoints e\s+\(.*\n\s+Index Cond: \(id = |Tid Scan on endpoints e\s+\(.*\n\s+TID Cond: /,
    );
    assert.doesNotMatch(small, tables);
    // ... and with enough rows, analysed, that a scan per batch would be the planner's mistake.
    await t.db.query(
      `INSERT INTO deliveries (id, tenant_id, endpoint_id, event_id, event_ids, event_type, sequence, status,
         next_attempt_at, completed_at)
       SELECT 'dlv_plan_' || lpad(g::text, 6, '0'), $1, $2, 'evt_x', '{evt_x}', 'a.b', 1000 + g, 'succeeded',
         NULL, now()
       FROM generate_series(1, 5000) g`,
      [tenant, ep.id],
    );
    await t.db.exec('ANALYZE deliveries');
    assert.doesNotMatch(await genericPlan(records), tables);
    // And it does its work: the delivery is moved on, the endpoint's limit raised; the unknown
    // delivery leaves no attempt behind.
    assert.deepEqual(await recordOutcomes(t.db, records, { workerId: 'w1', now: clock.now() }), [
      d.deliveryId,
    ]);
    assert.equal((await attemptsOf(t.db, 'dlv_gone')).length, 0);
    const [row] = await t.db.query<{ concurrency_limit: number }>(
      'SELECT concurrency_limit FROM endpoints WHERE id = $1',
      [ep.id],
    );
    // Slow start: one more per success in the batch (the gone delivery's answer was one too).
    assert.equal(row!.concurrency_limit, 10);
  });
});
