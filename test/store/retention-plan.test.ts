/**
 * The retention purge's plan (src/store/retention.ts) with tables large enough, and analysed, that a
 * planner would rather scan them: no chunk may read every delivery (the pending check is a probe per
 * event) or join the events back by key (they are updated by address). Each chunk runs once per
 * 1,000 events purged, so a whole-table step there is a whole-table scan per thousand events.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { purgeExpired } from '../../src/store/retention.ts';
import { insertEndpoint, insertTenant } from '../support/delivery-fixtures.ts';
import { forEachStorage, freshDb, type TestDb } from '../support/storage.ts';

const ROWS = 5_000;
const NOW = new Date('2030-06-01T00:00:00Z');

forEachStorage('retention purge plan', (kind) => {
  let t: TestDb;
  let tenant: string;
  before(async () => {
    t = await freshDb(kind);
    tenant = await insertTenant(t.db);
    const ep = (await insertEndpoint(t.db, tenant, { url: 'http://127.0.0.1:9/hook' })).id;
    // Old events, each delivered; the last 10 still have a pending delivery.
    await t.db.query(
      `INSERT INTO events (tenant_id, id, type, data, batch_id, created_at)
       SELECT $1, 'evt_p' || g, 'a.b', '{"x":1}', 'b_' || g, $3::timestamptz - interval '40 days' + g * interval '1 second'
       FROM generate_series(1, $2) g`,
      [tenant, ROWS, NOW],
    );
    await t.db.query(
      `INSERT INTO deliveries (id, tenant_id, endpoint_id, event_id, event_ids, event_type, sequence, status,
         next_attempt_at, completed_at)
       SELECT 'dlv_p' || g, $1, $2, 'evt_p' || g, ARRAY['evt_p' || g], 'a.b', g,
         CASE WHEN g > $3 - 10 THEN 'pending' ELSE 'succeeded' END,
         CASE WHEN g > $3 - 10 THEN $4::timestamptz END, CASE WHEN g <= $3 - 10 THEN $4::timestamptz END
       FROM generate_series(1, $3) g`,
      [tenant, ep, ROWS, NOW],
    );
    await t.db.exec('ANALYZE events; ANALYZE deliveries');
  });
  after(() => t.close());

  test('no chunk scans deliveries or joins events back: probes by key, updates by address', async () => {
    const sql = (await import('../../src/store/retention.ts')).PURGE_PAYLOADS_SQL;
    const cutoff = new Date(NOW.getTime() - 30 * 86_400_000);
    const plan = (
      await t.db.transaction((tx) => tx.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`, [cutoff, 1000]))
    )
      .map((r) => r['QUERY PLAN'])
      .join('\n');
    assert.doesNotMatch(plan, /Seq Scan on deliveries/, plan);
    assert.match(plan, /Index Scan using deliveries_event on deliveries/, plan);
    assert.match(plan, /Tid Scan on events/, plan);
    assert.doesNotMatch(plan, /Hash Join/, plan);
  });

  test('and it purges what it should: every old payload but those a pending delivery needs', async () => {
    const result = await purgeExpired(t.db, { now: NOW, retentionDays: 30, chunkSize: 1000 });
    assert.equal(result.payloadsPurged, ROWS - 10);
    const kept = await t.db.query<{ id: string }>(
      'SELECT id FROM events WHERE tenant_id = $1 AND data IS NOT NULL ORDER BY id',
      [tenant],
    );
    assert.deepEqual(
      kept.map((r) => r.id),
      Array.from({ length: 10 }, (_, i) => `evt_p${ROWS - 9 + i}`).sort(),
    );
  });
});
