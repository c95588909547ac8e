/**
 * The operational events' pump (src/delivery/operational-pump.ts): each outbox row becomes one event
 * of the operational tenant, however the pump is interrupted and however many pumps run; a row that
 * can never be published does not block the rest; an empty outbox costs one statement.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { OPERATIONAL_TENANT_ID } from '../../src/core/operational-tenant.ts';
import { type Db, sqlText } from '../../src/db/db.ts';
import type { DeliveryLogger } from '../../src/delivery/logger.ts';
import { createOperationalPump } from '../../src/delivery/operational-pump.ts';
import { createEventType } from '../../src/store/event-types.ts';
import { insertEndpoint, manualClock } from '../support/delivery-fixtures.ts';
import { forEachStorage, freshDb, type TestDb } from '../support/storage.ts';

const URL = 'http://127.0.0.1:9/ops';

/** `db`, with its statements counted and the first one matching `failOn` failing. */
function instrumented(db: Db, failOn?: RegExp): Db & { statements: string[] } {
  let failed = false;
  const statements: string[] = [];
  const wrapped = Object.create(db) as Db & { statements: string[] };
  wrapped.statements = statements;
  wrapped.query = ((sql, params) => {
    const text = sqlText(sql);
    statements.push(text);
    if (failOn && !failed && failOn.test(text)) {
      failed = true;
      return Promise.reject(new Error('the process died here'));
    }
    return db.query(sql, params);
  }) as Db['query'];
  return wrapped;
}

forEachStorage('operational events pump', (kind) => {
  let t: TestDb;
  let endpointId: string;
  before(async () => {
    t = await freshDb(kind);
    endpointId = (await insertEndpoint(t.db, OPERATIONAL_TENANT_ID, { url: URL })).id;
  });
  beforeEach(async () => {
    await t.db.query('DELETE FROM operational_events');
    await t.db.query('DELETE FROM deliveries');
    await t.db.query('DELETE FROM events');
  });
  after(() => t.close());

  async function outbox(n: number, type = 'endpoint.disabled'): Promise<string[]> {
    const rows = await t.db.query<{ id: string }>(
      `INSERT INTO operational_events (id, type, payload, created_at)
       SELECT herald_new_id('msg'), $1, json_build_object('n', i), now() FROM generate_series(1, $2) i
       RETURNING id`,
      [type, n],
    );
    return rows.map((r) => r.id).sort();
  }

  const count = async (sql: string) => (await t.db.query<{ n: number }>(sql))[0]!.n;
  const published = () =>
    t.db.query<{ id: string }>('SELECT id FROM events WHERE tenant_id = $1 ORDER BY id', [
      OPERATIONAL_TENANT_ID,
    ]);

  test('each row becomes one event, under its id, with one delivery per operational endpoint', async () => {
    const ids = await outbox(3);
    const pump = createOperationalPump({ db: t.db });
    assert.equal(await pump.runOnce(), 3);
    assert.deepEqual(
      (await published()).map((e) => e.id),
      ids,
    );
    const deliveries = await t.db.query<{ endpoint_id: string; event_type: string }>(
      'SELECT endpoint_id, event_type FROM deliveries',
    );
    assert.deepEqual(
      deliveries.map((d) => [d.endpoint_id, d.event_type]),
      ids.map(() => [endpointId, 'endpoint.disabled']),
    );
    assert.equal(await count('SELECT count(*)::int AS n FROM operational_events'), 0);
  });

  test('a crash between publishing and deleting publishes nothing twice', async () => {
    const ids = await outbox(2);
    const clock = manualClock(new Date());
    const crashing = instrumented(t.db, /^DELETE FROM operational_events/);
    await assert.rejects(createOperationalPump({ db: crashing, clock }).runOnce(), /the process died here/);
    assert.equal((await published()).length, 2, 'published, not deleted');
    assert.equal(await count('SELECT count(*)::int AS n FROM operational_events'), 2);

    // Another pump leaves them while the lease lasts, then takes them over and publishes them again.
    const other = createOperationalPump({ db: t.db, clock, leaseMs: 60_000 });
    assert.equal(await other.runOnce(), 0);
    clock.advance(60_001);
    assert.equal(await other.runOnce(), 2);
    assert.deepEqual(
      (await published()).map((e) => e.id),
      ids,
    );
    assert.equal(await count('SELECT count(*)::int AS n FROM deliveries'), 2, 'no delivery twice');
    assert.equal(await count('SELECT count(*)::int AS n FROM operational_events'), 0);
  });

  test('pumps running at once share the rows: each published once', async () => {
    const ids = await outbox(40);
    const pumps = [1, 2, 3].map(() => createOperationalPump({ db: t.db, batchSize: 5 }));
    const taken = await Promise.all(pumps.map((p) => p.runOnce()));
    assert.equal(
      taken.reduce((a, b) => a + b, 0),
      40,
    );
    assert.deepEqual(
      (await published()).map((e) => e.id),
      ids,
    );
    assert.equal(await count('SELECT count(*)::int AS n FROM deliveries'), 40);
  });

  test("the operator's catalog does not refuse Herald's data; a row that can never go is dropped", async () => {
    // The operator's own product happens to have a type of the same name, with a schema.
    await createEventType(t.db, {
      name: 'endpoint.recovered',
      description: null,
      schema: { type: 'object', required: ['invoiceId'] },
      example: null,
    });
    const [good] = await outbox(1, 'endpoint.recovered');
    const [poisoned] = await outbox(1);
    // Its id already names other data (as after retention purged the payload): a 409 for good.
    await t.db.query(
      `INSERT INTO events (tenant_id, id, type, data, batch_id) VALUES ($1, $2, 'other.type', '{}', 'bat_x')`,
      [OPERATIONAL_TENANT_ID, poisoned],
    );
    const errors: unknown[] = [];
    const nothing = () => {};
    const logger: DeliveryLogger = {
      debug: nothing,
      info: nothing,
      warn: nothing,
      error: (o) => errors.push(o),
    };
    assert.equal(await createOperationalPump({ db: t.db, logger }).runOnce(), 2);
    assert.equal(await count('SELECT count(*)::int AS n FROM operational_events'), 0);
    assert.deepEqual(
      (await t.db.query<{ event_id: string }>('SELECT event_id FROM deliveries')).map((d) => d.event_id),
      [good],
    );
    assert.equal(errors.length, 1);
    await t.db.query("DELETE FROM event_types WHERE name = 'endpoint.recovered'");
  });

  test('an empty outbox costs one statement a pass', async () => {
    const counted = instrumented(t.db);
    assert.equal(await createOperationalPump({ db: counted }).runOnce(), 0);
    assert.equal(counted.statements.length, 1, counted.statements.join('\n'));
  });
});
