/**
 * Kept candidates (src/publish/candidate-cache.ts): a publish is one statement while nothing it
 * reads has changed, and any change — made here, through another connection or another process,
 * to an endpoint or to the event-type catalog — is seen by the next publish, never a stale fan-out
 * or a stale refusal. The hot path's own writes (sequences, health, the adaptive limit) keep them.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import type { Db, Sql } from '../../src/db/db.ts';
import { openPostgres } from '../../src/db/postgres-driver.ts';
import { publishEvents } from '../../src/publish/publish-events.ts';
import { isPublishStatement } from '../../src/publish/publish-statements.ts';
import type { DeliveryHandoff } from '../../src/queue/handoff.ts';
import { insertEndpoint, insertTenant } from '../support/delivery-fixtures.ts';
import { forEachStorage, freshDb, TEST_DATABASE_URL, type TestDb } from '../support/storage.ts';

const URL = 'http://127.0.0.1:9/hook';
const TYPE = 'order.paid';

forEachStorage('kept candidates', (kind) => {
  let t: TestDb;
  let tenant: string;
  /** The storage, counting the candidate reads and publish statements that run through it. */
  let db: Db;
  let reads: number;
  let statements: number;
  before(async () => {
    t = await freshDb(kind);
    db = {
      ...t.db,
      query: <T>(sql: Sql, params?: readonly unknown[]) => {
        if (typeof sql !== 'string' && sql.name === 'herald_publish_candidates') reads++;
        if (isPublishStatement(sql)) statements++;
        return t.db.query<T>(sql, params);
      },
    };
  });
  beforeEach(async () => {
    tenant = await insertTenant(t.db);
  });
  after(() => t.close());

  const publish = (data: unknown = { n: 1 }, type = TYPE) => publishEvents(db, tenant, [{ type, data }]);
  const endpointsOf = async (data?: unknown) => (await publish(data)).deliveries.map((d) => d.endpointId);
  /** Counts the reads and statements of `fn`. */
  async function counted(fn: () => Promise<unknown>): Promise<{ reads: number; statements: number }> {
    reads = 0;
    statements = 0;
    await fn();
    return { reads, statements };
  }

  test('a publish is one statement while nothing it reads changed', async () => {
    const ep = await insertEndpoint(t.db, tenant, { url: URL });
    assert.deepEqual(await endpointsOf(), [ep.id]);
    // Its own writes (the endpoint's sequence, next due time) and the claim's change nothing it reads.
    assert.deepEqual(await counted(() => publish()), { reads: 0, statements: 1 });
    await t.db.query(
      'UPDATE endpoints SET concurrency_limit = 3, consecutive_failures = 2, last_sequence = last_sequence WHERE id = $1',
      [ep.id],
    );
    assert.deepEqual(await counted(() => publish()), { reads: 0, statements: 1 });
    // Writing a column publishing reads with its own value changes nothing either.
    await t.db.query('UPDATE endpoints SET active = active, circuit_state = circuit_state WHERE id = $1', [
      ep.id,
    ]);
    assert.deepEqual(await counted(() => publish()), { reads: 0, statements: 1 });
  });

  test('endpoints created, changed, disabled or deleted since are seen by the next publish', async () => {
    const a = await insertEndpoint(t.db, tenant, { url: URL });
    assert.deepEqual(await endpointsOf(), [a.id]);
    const b = await insertEndpoint(t.db, tenant, { url: `${URL}/b` });
    // Kept candidates planned for `a` alone: the statement wrote nothing, a fresh read found `b`.
    assert.deepEqual(
      await counted(async () => assert.deepEqual((await endpointsOf()).sort(), [a.id, b.id].sort())),
      {
        reads: 1,
        statements: 2,
      },
    );
    await t.db.query(`UPDATE endpoints SET event_types = '{invoice.*}' WHERE id = $1`, [a.id]);
    assert.deepEqual(await endpointsOf(), [b.id]);
    await t.db.query('UPDATE endpoints SET active = false WHERE id = $1', [b.id]);
    assert.deepEqual(await endpointsOf(), []);
    await t.db.query('UPDATE endpoints SET active = true, filter = $2::jsonb WHERE id = $1', [
      b.id,
      JSON.stringify({ 'data.n': 2 }),
    ]);
    assert.deepEqual(await endpointsOf({ n: 1 }), []);
    assert.deepEqual(await endpointsOf({ n: 2 }), [b.id]);
    await t.db.query('DELETE FROM endpoints WHERE tenant_id = $1', [tenant]);
    assert.deepEqual(await endpointsOf({ n: 2 }), []);
  });

  test('a schema changed since refuses, or accepts, what the new one says', async () => {
    const type = `t${tenant.slice(-6)}.made`;
    await t.db.query(`INSERT INTO event_types (name, schema) VALUES ($1, $2::json)`, [
      type,
      JSON.stringify({ type: 'object', required: ['a'] }),
    ]);
    await assert.rejects(publish({ b: 1 }, type), { code: 'DATA_SCHEMA_MISMATCH' });
    await publish({ a: 1 }, type);
    await t.db.query(
      `UPDATE event_types SET schema = $2::json, updated_at = now() + interval '1 second' WHERE name = $1`,
      [type, JSON.stringify({ type: 'object', required: ['b'] })],
    );
    // The kept schema would refuse {b}: read again before refusing, and the new one accepts it.
    await publish({ b: 1 }, type);
    await assert.rejects(publish({ a: 1 }, type), { code: 'DATA_SCHEMA_MISMATCH' });
  });

  test("kept candidates never pass their read's adaptive limit to the handoff: the dispatcher's is newer", async () => {
    await insertEndpoint(t.db, tenant, { url: URL, concurrencyLimit: 8 });
    const limits: Array<number | null> = [];
    const handoff: DeliveryHandoff = {
      workerId: 'w-test',
      leaseMs: 30_000,
      defaultTotalTimeoutMs: 15_000,
      queueNow: () => null,
      reserve(wanted) {
        for (const w of wanted) limits.push(w.limit);
        return wanted.map(() => false);
      },
      accept() {},
    };
    const send = () => publishEvents(db, tenant, [{ type: TYPE, data: {} }], { handoff });
    await send(); // read: its limit is news
    // The endpoint's limit grows as its requests succeed (recorded outcomes: no version moves).
    await t.db.query('UPDATE endpoints SET concurrency_limit = 40 WHERE tenant_id = $1', [tenant]);
    await send(); // kept: its limit of 8 is old, so none is passed on
    assert.deepEqual(limits, [8, null]);
  });

  test('a tenant deleted since is not found', async () => {
    await publish();
    await t.db.query('DELETE FROM tenants WHERE id = $1', [tenant]);
    await assert.rejects(publish(), { code: 'TENANT_NOT_FOUND' });
  });

  if (kind === 'postgres') {
    test('a change made by another process is seen', async () => {
      const a = await insertEndpoint(t.db, tenant, { url: URL });
      assert.deepEqual(await endpointsOf(), [a.id]);
      const other = await openPostgres({ url: TEST_DATABASE_URL, schema: t.schema!, poolSize: 1 });
      try {
        const b = await insertEndpoint(other, tenant, { url: `${URL}/b` });
        assert.deepEqual((await endpointsOf()).sort(), [a.id, b.id].sort());
      } finally {
        await other.close();
      }
    });
  }
});
