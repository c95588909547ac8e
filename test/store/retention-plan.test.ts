/**
 * The retention purge's plan (src/store/retention.ts) with tables large enough, and analysed, that a
 * planner would rather scan them: no chunk may read every delivery (the pending check is a probe per
 * event), join the events back by key (they are updated by address), or read the events before its
 * window — the purged ones, most of the table (each tenant's are found by a range of
 * events_tenant_created). Each chunk runs once per 1,000 events purged, so a whole-table step there
 * is a whole-table scan per thousand events. What a pass does with the chunks: retention-pass.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { PURGE_PAYLOADS_SQL, PURGE_START_SQL, purgeExpired } from '../../src/store/retention.ts';
import { insertEndpoint, insertTenant } from '../support/delivery-fixtures.ts';
import { forEachStorage, freshDb, type TestDb } from '../support/storage.ts';

const ROWS = 5_000;
/** The oldest, already purged by earlier passes. */
const PURGED = 3_000;
const NOW = new Date('2030-06-01T00:00:00Z');

forEachStorage('retention purge plan', (kind) => {
  let t: TestDb;
  let tenant: string;
  before(async () => {
    t = await freshDb(kind);
    tenant = await insertTenant(t.db);
    const ep = (await insertEndpoint(t.db, tenant, { url: 'http://127.0.0.1:9/hook' })).id;
    // Old events, each delivered, the oldest already purged; the last 10 still have a pending delivery.
    await t.db.query(
      `INSERT INTO events (tenant_id, id, type, data, batch_id, created_at)
       SELECT $1, 'evt_p' || g, 'a.b', CASE WHEN g > $4 THEN '{"x":1}'::json END, 'b_' || g,
         $3::timestamptz - interval '40 days' + g * interval '1 second'
       FROM generate_series(1, $2) g`,
      [tenant, ROWS, NOW, PURGED],
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

  async function plan(sql: string, params: unknown[]): Promise<string> {
    const rows = await t.db.transaction((tx) => tx.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`, params));
    return rows.map((r) => r['QUERY PLAN']).join('\n');
  }
  const cutoff = new Date(NOW.getTime() - 30 * 86_400_000);
  // A chunk's window: 1,000 events after the purged ones.
  const from = new Date(NOW.getTime() - 40 * 86_400_000 + (PURGED + 1) * 1000);
  const chunkParams = [from.toISOString(), new Date(from.getTime() + 1_000_000).toISOString(), 1000];

  test('no chunk scans deliveries or joins events back: probes by key, updates by address', async () => {
    const p = await plan(PURGE_PAYLOADS_SQL, chunkParams);
    assert.doesNotMatch(p, /Seq Scan on deliveries/, p);
    assert.match(p, /Index Scan using deliveries_event on deliveries/, p);
    assert.match(p, /Tid Scan on events/, p);
    assert.doesNotMatch(p, /Hash Join/, p);
  });

  test("a chunk reads its window only: a range of each tenant's events, bounded below, never the purged ones before it", async () => {
    const p = await plan(PURGE_PAYLOADS_SQL, chunkParams);
    assert.doesNotMatch(p, /(Seq Scan|Bitmap Heap Scan) on events/, p);
    // Both bounds in the index condition: the scan starts at the window, not at the tenant's oldest.
    assert.match(
      p,
      /Index Scan(?: Backward)? using events_tenant_created on events v\b[^\n]*\n\s+Index Cond: \(\(tenant_id = t\.id\) AND \(created_at >= [^\n]+\) AND \(created_at < [^\n]+\)\)/,
      p,
    );
  });

  test("a pass's start reads the pending deliveries only, not every delivery", async () => {
    const p = await plan(PURGE_START_SQL, [cutoff]);
    assert.doesNotMatch(p, /Seq Scan on deliveries/, p);
  });

  test('and it purges what it should: every old payload but those a pending delivery needs', async () => {
    const result = await purgeExpired(t.db, { now: NOW, retentionDays: 30, chunkSize: 1000 });
    assert.equal(result.payloadsPurged, ROWS - PURGED - 10);
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
