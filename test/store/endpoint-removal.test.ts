/**
 * Deleting endpoints beside recording (src/store/endpoint-removal.ts): recording locks a delivery
 * row, then its endpoint's row; a removal must not hold the endpoint row while it waits for that
 * delivery row, or the two deadlock (PostgreSQL then aborts one of them after a second). And a
 * removal PostgreSQL picked as a deadlock's victim runs again.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import type { Db, Queryable } from '../../src/db/db.ts';
import { inRemoval } from '../../src/store/endpoint-removal.ts';
import { deleteEndpoint } from '../../src/store/endpoints.ts';
import { insertEndpoint, insertTenant, publishOne } from '../support/delivery-fixtures.ts';
import { waitFor } from '../support/poll.ts';
import { forEachStorage, freshDb, TEST_DATABASE_URL, type TestDb } from '../support/storage.ts';

forEachStorage('endpoint removal beside recording', (kind) => {
  let t: TestDb;
  before(async () => {
    t = await freshDb(kind);
  });
  after(() => t.close());

  test('a removal takes the delivery rows before the endpoint row, as recording does', {
    skip: kind === 'pglite' ? 'PGlite has one connection: no concurrent writer' : false,
  }, async () => {
    const tenant = await insertTenant(t.db);
    const ep = (await insertEndpoint(t.db, tenant, { url: 'http://127.0.0.1:9/hook' })).id;
    const { deliveryId } = await publishOne(t.db, tenant, ep);
    // "Recording", by hand: the delivery row locked first, the endpoint row next.
    const recorder = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await recorder.connect();
    try {
      await recorder.query(`SET search_path = ${t.schema}`);
      await recorder.query('BEGIN');
      // Leased, as recording finds it (a row made due would have its trigger lock the endpoint row).
      await recorder.query(`UPDATE deliveries SET locked_by = 'recording' WHERE id = $1`, [deliveryId]);
      const removal = deleteEndpoint(t.db, tenant, ep);
      await waitFor('the removal to wait for the delivery row', async () => {
        // Not on the recorder's connection: inside a transaction, pg_stat_activity is a snapshot.
        const rows = await t.db.query(
          `SELECT 1 FROM pg_stat_activity
           WHERE wait_event_type = 'Lock' AND query LIKE 'DELETE FROM deliveries%' AND datname = current_database()`,
        );
        return rows.length > 0;
      });
      // Had the removal taken the endpoint row already, this would wait (and time out here,
      // before PostgreSQL's deadlock check would abort one of the two).
      await recorder.query(`SET LOCAL lock_timeout = '500ms'`);
      await recorder.query('SELECT 1 FROM endpoints WHERE id = $1 FOR UPDATE', [ep]);
      await recorder.query('COMMIT');
      await removal;
      const left = await t.db.query(
        'SELECT 1 FROM endpoints WHERE id = $1 UNION ALL SELECT 1 FROM deliveries WHERE id = $2',
        [ep, deliveryId],
      );
      assert.equal(left.length, 0);
    } finally {
      await recorder.query('ROLLBACK').catch(() => {});
      await recorder.end();
    }
  });
});

test('a removal rolled back as a deadlock victim runs again; other errors, and a fourth deadlock, are thrown', async () => {
  const failing = (codes: string[]) => {
    let runs = 0;
    const db = {
      async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
        const code = codes[runs++];
        if (code) throw Object.assign(new Error(code), { code });
        return fn({} as Queryable);
      },
    } as unknown as Db;
    return { db, runs: () => runs };
  };
  const twice = failing(['40P01', '40P01']);
  assert.equal(await inRemoval(twice.db, async () => 'done'), 'done');
  assert.equal(twice.runs(), 3);
  const other = failing(['23505']);
  await assert.rejects(
    inRemoval(other.db, async () => 'done'),
    { code: '23505' },
  );
  assert.equal(other.runs(), 1);
  const always = failing(['40P01', '40P01', '40P01', '40P01', '40P01']);
  await assert.rejects(
    inRemoval(always.db, async () => 'done'),
    { code: '40P01' },
  );
  assert.equal(always.runs(), 4);
});
