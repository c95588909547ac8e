/**
 * Upgrading a database made by an earlier Herald: migrations 005 (pending ⇔ a due time, as a CHECK),
 * 006 (no foreign keys on traffic, BRIN time indexes) and 007 (attempt headers as json) keep the rows
 * there and put any row that breaks the new rule right first.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { listMigrations, migrate } from '../../src/db/migrate.ts';
import { emptyDb, forEachStorage } from '../support/storage.ts';

forEachStorage('upgrading to migrations 005 and 006', (kind) => {
  test('rows that broke the new rule are put right; traffic and history are kept', async () => {
    const { db, close } = await emptyDb(kind);
    try {
      const all = listMigrations();
      await migrate(
        db,
        all.filter((m) => m.version <= 4),
      );
      await db.exec(`
        INSERT INTO tenants (id, name) VALUES ('acme', 'Acme');
        INSERT INTO endpoints (id, tenant_id, url, secret_enc) VALUES ('ep_1', 'acme', 'https://a.example/', 'sealed');
        INSERT INTO events (tenant_id, id, type, data, batch_id) VALUES ('acme', 'evt_1', 'a.b', '{}', 'bat_1');
        INSERT INTO deliveries (id, tenant_id, endpoint_id, event_id, event_ids, event_type, sequence, status, next_attempt_at)
        VALUES ('dlv_done', 'acme', 'ep_1', 'evt_1', '{evt_1}', 'a.b', 1, 'succeeded', now()),
               ('dlv_lost', 'acme', 'ep_1', 'evt_1', '{evt_1}', 'a.b', 2, 'pending', NULL),
               ('dlv_fine', 'acme', 'ep_1', 'evt_1', '{evt_1}', 'a.b', 3, 'pending', '2030-01-01T00:00:00Z');
        INSERT INTO attempts (id, delivery_id, tenant_id, endpoint_id, attempt_number, started_at, duration_ms, status_code,
          request_headers, response_headers)
        VALUES ('atm_1', 'dlv_done', 'acme', 'ep_1', 1, now(), 5, 200,
          '{"webhook-id": "evt_1", "herald-attempt": "1"}', '{"content-type": "text/plain"}');
      `);
      const applied = await migrate(db, all);
      assert.ok(
        applied.some((name) => name.startsWith('005_')) && applied.some((name) => name.startsWith('006_')),
      );

      const rows = await db.query<{ id: string; status: string; due: boolean; fine_time: boolean }>(
        `SELECT id, status, next_attempt_at IS NOT NULL AS due,
           next_attempt_at = '2030-01-01T00:00:00Z' AS fine_time
         FROM deliveries ORDER BY id`,
      );
      assert.deepEqual(
        rows.map((r) => [r.id, r.status, r.due]),
        [
          ['dlv_done', 'succeeded', false], // finished: no due time any more
          ['dlv_fine', 'pending', true],
          ['dlv_lost', 'pending', true], // pending without a time was never claimable: due now
        ],
      );
      assert.equal(rows.find((r) => r.id === 'dlv_fine')?.fine_time, true, 'a consistent row is left alone');
      // 007: the headers are json now, with what they held.
      const [attempt] = await db.query<{ request_headers: unknown; response_headers: unknown; type: string }>(
        `SELECT request_headers, response_headers, pg_typeof(request_headers)::text AS type FROM attempts`,
      );
      assert.deepEqual(attempt, {
        request_headers: { 'webhook-id': 'evt_1', 'herald-attempt': '1' },
        response_headers: { 'content-type': 'text/plain' },
        type: 'json',
      });

      // The rule holds from now on.
      await assert.rejects(
        db.query(`UPDATE deliveries SET status = 'failed' WHERE id = 'dlv_fine'`),
        (err: { code?: string }) => err.code === '23514',
      );
      // No foreign keys left on traffic; the time indexes are BRIN.
      const fks = await db.query<{ conname: string }>(
        `SELECT conname FROM pg_constraint WHERE contype = 'f'
           AND conrelid IN ('deliveries'::regclass, 'attempts'::regclass)`,
      );
      assert.deepEqual(fks, []);
      const brin = await db.query<{ indexname: string }>(
        `SELECT c.relname AS indexname FROM pg_class c JOIN pg_am a ON a.oid = c.relam
         WHERE a.amname = 'brin' AND c.oid IN ('attempts_created'::regclass, 'events_created'::regclass)
         ORDER BY 1`,
      );
      assert.deepEqual(
        brin.map((r) => r.indexname),
        ['attempts_created', 'events_created'],
      );
    } finally {
      await close();
    }
  });
});
