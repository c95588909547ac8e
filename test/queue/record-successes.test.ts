import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Queryable, Sql } from '../../src/db/db.ts';
import { type AttemptRecord, recordAttempts, recordStatement } from '../../src/queue/record-outcomes.ts';
import { plainSuccesses, successStatement } from '../../src/queue/record-successes.ts';
import {
  attemptsOf,
  deliveryState,
  insertEndpoint,
  insertTenant,
  manualClock,
  publishOne,
} from '../support/delivery-fixtures.ts';
import { attemptOf, claimAt } from '../support/scheduling.ts';
import { forEachStorage, freshDb, type TestDb } from '../support/storage.ts';

const URL = 'http://127.0.0.1:9/hook';

/** The endpoint columns a success may change (record-outcomes.ts `endpoint_state`). */
const ENDPOINT_STATE = `failing_since, concurrency_limit, consecutive_failures, circuit_state, circuit_until,
  circuit_trips, circuit_opened_at, circuit_reason, trouble_reported_at, active, next_due_at, due_version`;

forEachStorage('recording successes on healthy endpoints', (kind) => {
  let t: TestDb;
  let tenant: string;
  before(async () => {
    t = await freshDb(kind);
    tenant = await insertTenant(t.db);
  });
  after(() => t.close());

  const clock = manualClock();

  /** The database, with the names of the prepared statements run through it. */
  function watched(): { q: Queryable; names: string[] } {
    const names: string[] = [];
    return {
      names,
      q: {
        query: <T>(sql: Sql, params?: readonly unknown[]) => {
          names.push(typeof sql === 'string' ? sql.slice(0, 40) : sql.name);
          return t.db.query<T>(sql, params);
        },
        exec: (sql: string) => t.db.exec(sql),
      },
    };
  }

  /** An endpoint with `state` (SQL assignments) and `n` of its deliveries claimed by w1. */
  async function claimedFor(state: string, n = 2) {
    const ep = await insertEndpoint(t.db, tenant, { url: URL });
    if (state) await t.db.query(`UPDATE endpoints SET ${state} WHERE id = $1`, [ep.id]);
    const ids = new Set<string>();
    for (let i = 0; i < n; i++)
      ids.add((await publishOne(t.db, tenant, ep.id, {}, { nextAttemptAt: clock.now() })).deliveryId);
    const mine = (await claimAt(t.db, clock.now())).filter((d) => ids.has(d.id));
    assert.equal(mine.length, n);
    return { endpointId: ep.id, claimed: mine };
  }

  const success = (d: Parameters<typeof attemptOf>[0], o: Partial<AttemptRecord> = {}) =>
    attemptOf(d, clock.now(), o);

  const endpointRow = async (id: string) =>
    (
      await t.db.query<Record<string, unknown>>(`SELECT ${ENDPOINT_STATE} FROM endpoints WHERE id = $1`, [id])
    )[0]!;
  const outbox = async () =>
    (await t.db.query<{ type: string }>('SELECT type FROM operational_events ORDER BY type')).map(
      (r) => r.type,
    );

  test('only successes, none gone, take the short statement', () => {
    const d = { id: 'dlv_x', tenantId: 't', endpointId: 'ep_x', attemptNumber: 1 };
    assert.equal(plainSuccesses([success(d), success(d)]), true);
    assert.equal(plainSuccesses([success(d), success(d, { status: 'pending', retryInMs: 10 })]), false);
    assert.equal(plainSuccesses([success(d, { status: 'failed' })]), false);
    assert.equal(plainSuccesses([success(d, { endpointGone: true })]), false);
  });

  test('successes on a healthy endpoint: one short statement moves the deliveries and writes the attempts', async () => {
    const { endpointId, claimed } = await claimedFor('');
    const before = await endpointRow(endpointId);
    const events = await outbox();
    const { q, names } = watched();
    const result = await recordAttempts(
      q,
      claimed.map((d) => success(d)),
      { workerId: 'w1', now: clock.now() },
    );
    assert.deepEqual(names, ['herald_record_successes']);
    assert.deepEqual(result.moved.sort(), claimed.map((d) => d.id).sort());
    assert.deepEqual(result.endpoints, []);
    for (const d of claimed) {
      const s = await deliveryState(t.db, d.id);
      assert.equal(s.status, 'succeeded');
      assert.equal(s.locked_by, null);
      assert.equal(s.next_attempt_at, null);
      const [a] = await attemptsOf(t.db, d.id);
      assert.equal(a!.status_code, 200);
    }
    assert.deepEqual(await endpointRow(endpointId), before, 'the endpoint row is left alone');
    assert.deepEqual(await outbox(), events);
  });

  // Each state a success changes; the short statement must write nothing and leave it to the whole one.
  const changing: Array<[string, string]> = [
    ['its adaptive limit still rising', 'concurrency_limit = 8'],
    ['failing', `failing_since = '2029-12-01T00:00:00Z'`],
    ['failures to forget', 'consecutive_failures = 3'],
    [
      'its circuit open, cooled down',
      `circuit_state = 'open', circuit_until = '2029-12-31T00:00:00Z', circuit_trips = 1,
       circuit_opened_at = '2029-12-31T00:00:00Z', consecutive_failures = 20, failing_since = '2029-12-31T00:00:00Z'`,
    ],
    ['trouble reported', `trouble_reported_at = '2029-12-01T00:00:00Z'`],
  ];
  for (const [what, state] of changing) {
    test(`an endpoint with ${what}: recorded by the whole statement, as if the short one did not exist`, async () => {
      // Two endpoints alike: one recorded as recordAttempts does, the other by the whole statement alone.
      // An open circuit lets one probe through.
      const n = state.includes("'open'") ? 1 : 2;
      const a = await claimedFor(state, n);
      const b = await claimedFor(state, n);
      const events = await outbox();
      const { q, names } = watched();
      const result = await recordAttempts(
        q,
        a.claimed.map((d) => success(d)),
        { workerId: 'w1', now: clock.now() },
      );
      assert.deepEqual(names, ['herald_record_successes', 'herald_record_attempts']);
      const whole = recordStatement(
        b.claimed.map((d) => success(d)),
        { workerId: 'w1', now: clock.now() },
      );
      await t.db.query(whole.sql, whole.params);
      assert.deepEqual(result.moved.sort(), a.claimed.map((d) => d.id).sort());
      assert.equal(result.endpoints.length, 1, 'the endpoint state changed');
      assert.deepEqual(await endpointRow(a.endpointId), await endpointRow(b.endpointId));
      for (const d of a.claimed) {
        assert.equal((await deliveryState(t.db, d.id)).status, 'succeeded');
        assert.equal((await attemptsOf(t.db, d.id)).length, 1, 'each attempt written once');
      }
      // Whatever the change reports (a recovery), reported once per endpoint, both alike.
      const added = (await outbox()).slice(events.length);
      assert.equal(added.length % 2, 0, JSON.stringify(added));
    });
  }

  test('a batch with one endpoint to change and one healthy: all of it through the whole statement', async () => {
    const healthy = await claimedFor('', 1);
    const rising = await claimedFor('concurrency_limit = 8', 1);
    const { q, names } = watched();
    const records = [...healthy.claimed, ...rising.claimed].map((d) => success(d));
    const result = await recordAttempts(q, records, { workerId: 'w1', now: clock.now() });
    assert.deepEqual(names, ['herald_record_successes', 'herald_record_attempts']);
    assert.equal(result.moved.length, 2);
    for (const d of records) assert.equal((await attemptsOf(t.db, d.deliveryId)).length, 1);
    assert.equal((await endpointRow(rising.endpointId))['concurrency_limit'], 9);
  });

  test('an endpoint this process knows a success will change: straight to the whole statement', async () => {
    const rising = await claimedFor('concurrency_limit = 8', 1);
    const { q, names } = watched();
    const result = await recordAttempts(q, [success(rising.claimed[0]!)], {
      workerId: 'w1',
      now: clock.now(),
      mayBeSteady: (id) => id !== rising.endpointId,
    });
    assert.deepEqual(names, ['herald_record_attempts']);
    assert.equal(result.moved.length, 1);
    assert.equal((await endpointRow(rising.endpointId))['concurrency_limit'], 9);
    // Endpoints it does not know of may be steady: the short statement is tried.
    const healthy = await claimedFor('', 1);
    const other = watched();
    await recordAttempts(other.q, [success(healthy.claimed[0]!)], {
      workerId: 'w1',
      now: clock.now(),
      mayBeSteady: (id) => id !== rising.endpointId,
    });
    assert.deepEqual(other.names, ['herald_record_successes']);
  });

  test('a lost claim: the attempt is kept, the delivery not moved on', async () => {
    const { claimed } = await claimedFor('', 1);
    const [d] = claimed;
    await t.db.query(`UPDATE deliveries SET locked_by = 'w2' WHERE id = $1`, [d!.id]);
    const { q, names } = watched();
    const result = await recordAttempts(q, [success(d!)], { workerId: 'w1', now: clock.now() });
    assert.deepEqual(names, ['herald_record_successes']);
    assert.deepEqual(result.moved, []);
    assert.equal((await deliveryState(t.db, d!.id)).status, 'pending');
    assert.equal((await attemptsOf(t.db, d!.id)).length, 1);
  });

  const quote = (v: unknown) =>
    v === null
      ? 'NULL'
      : `'${(v instanceof Date ? v.toISOString() : Array.isArray(v) ? `{${v.join(',')}}` : String(v)).replaceAll("'", "''")}'`;
  /** The plan the drivers keep for a success statement once generic (planned scan-free). */
  const genericPlan = ({ sql, params }: ReturnType<typeof successStatement>) =>
    t.db.transaction(async (tx) => {
      await tx.exec('SET LOCAL plan_cache_mode = force_generic_plan; SET LOCAL enable_seqscan = off');
      await tx.exec(`PREPARE success_plan AS ${sql.text}`);
      const rows = await tx.query<{ 'QUERY PLAN': string }>(
        `EXPLAIN EXECUTE success_plan(${params.map(quote).join(', ')})`,
      );
      await tx.exec('DEALLOCATE success_plan');
      return rows.map((r) => r['QUERY PLAN']).join('\n');
    });

  test('the short statement reaches every row by key or address, never by scanning a table', async () => {
    const { claimed } = await claimedFor('', 1);
    const records = [success(claimed[0]!), success({ ...claimed[0]!, id: 'dlv_gone' })];
    const plan = await genericPlan(successStatement(records, { workerId: 'w1', now: clock.now() }));
    assert.match(plan, /Tid Scan on deliveries/);
    assert.match(plan, /Index Scan using endpoints_pkey on endpoints e/);
    assert.doesNotMatch(plan, /(Seq|Bitmap Heap|Index Only) Scan on (deliveries|endpoints|attempts)/);
  });

  test('the statement for handed-over deliveries reaches every row by key, never by scanning a table', async () => {
    const ep = await insertEndpoint(t.db, tenant, { url: URL });
    const handed = (id: string) =>
      success({
        id,
        tenantId: tenant,
        endpointId: ep.id,
        attemptNumber: 1,
        handoff: {
          handoffId: 'hof_plan',
          endpointId: ep.id,
          eventIds: ['evt_plan'],
          eventType: 'a.b',
          sequence: 1,
          createdMs: clock.now().getTime(),
        },
      });
    const statement = successStatement(
      [handed('dlv_plan_1'), handed('dlv_plan_2')],
      { workerId: 'w1', now: clock.now(), finishedHandoffs: ['hof_plan'] },
      true,
    );
    assert.equal(statement.sql.name, 'herald_record_handed_over_successes');
    const plan = await genericPlan(statement);
    assert.match(plan, /Index Scan using deliveries_pkey on deliveries x/);
    assert.match(plan, /Index Scan using endpoints_pkey on endpoints/);
    // The finished handoffs by key (a bitmap of their primary key), as every recording deletes them.
    assert.match(plan, /Bitmap Index Scan on handoffs_pkey|Index Scan using handoffs_pkey/);
    assert.doesNotMatch(plan, /Seq Scan on (deliveries|endpoints|attempts|handoffs)/);
    assert.doesNotMatch(plan, /(Bitmap Heap|Index Only) Scan on (deliveries|endpoints|attempts)/);
  });
});
