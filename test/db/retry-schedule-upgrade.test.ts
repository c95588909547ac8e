/**
 * Migration 012: stored retry schedules lose their entry 0 (the first attempt's delay, never used),
 * so every endpoint keeps the attempts and waits it had under the new indexing — the first attempt
 * immediate, one entry per retry (docs/decisions.md, "Schedule indexing").
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { listMigrations, migrate } from '../../src/db/migrate.ts';
import { emptyDb, forEachStorage } from '../support/storage.ts';

forEachStorage('upgrading to migration 012', (kind) => {
  test('[0, 10, 60] becomes [10, 60], [0] becomes [], null stays null', async () => {
    const { db, close } = await emptyDb(kind);
    try {
      const all = listMigrations();
      await migrate(
        db,
        all.filter((m) => m.version <= 11),
      );
      await db.exec(`
        INSERT INTO tenants (id, name) VALUES ('acme', 'Acme');
        INSERT INTO endpoints (id, tenant_id, url, secret_enc, retry_schedule) VALUES
          ('ep_three', 'acme', 'https://a.example/', 'sealed', '{0,10,60}'),
          ('ep_one', 'acme', 'https://b.example/', 'sealed', '{0}'),
          ('ep_default', 'acme', 'https://c.example/', 'sealed', NULL);
      `);
      assert.deepEqual(
        await migrate(
          db,
          all.filter((m) => m.version <= 12),
        ),
        ['012_retry_schedule_retries_only'],
      );
      const rows = await db.query<{ id: string; retry_schedule: number[] | null }>(
        'SELECT id, retry_schedule FROM endpoints ORDER BY id',
      );
      assert.deepEqual(
        rows.map((r) => [r.id, r.retry_schedule]),
        [
          ['ep_default', null],
          ['ep_one', []],
          ['ep_three', [10, 60]],
        ],
      );
    } finally {
      await close();
    }
  });
});
