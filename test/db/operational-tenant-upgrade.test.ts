/**
 * Migration 015 creates the operational tenant `_herald`, and refuses to run, naming what to do,
 * where a tenant of that id already exists: its endpoints would otherwise get Herald's own events.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { listMigrations, migrate } from '../../src/db/migrate.ts';
import { emptyDb, forEachStorage } from '../support/storage.ts';

forEachStorage('migration 015: the operational tenant', (kind) => {
  const upTo14 = () => listMigrations().filter((m) => m.version <= 14);

  test('an existing database gets _herald, the outbox and its endpoints keep their rows', async () => {
    const { db, close } = await emptyDb(kind);
    try {
      await migrate(db, upTo14());
      await db.exec(`
        INSERT INTO tenants (id, name) VALUES ('acme', 'Acme');
        INSERT INTO endpoints (id, tenant_id, url, secret_enc) VALUES ('ep_1', 'acme', 'https://a.example/', 'sealed');`);
      await migrate(db);
      const tenants = await db.query<{ id: string }>('SELECT id FROM tenants ORDER BY id');
      assert.deepEqual(
        tenants.map((t) => t.id),
        ['_herald', 'acme'],
      );
      const [ep] = await db.query<{ trouble_reported_at: Date | null }>(
        'SELECT trouble_reported_at FROM endpoints',
      );
      assert.equal(ep?.trouble_reported_at, null);
      const [id] = await db.query<{ id: string }>("SELECT herald_new_id('msg') AS id");
      assert.match(id!.id, /^msg_[0-9A-HJKMNP-TV-Z]{26}$/);
      assert.deepEqual(await db.query('SELECT * FROM operational_events'), []);
    } finally {
      await close();
    }
  });

  test('a tenant already called _herald stops the migration, and nothing of it is applied', async () => {
    const { db, close } = await emptyDb(kind);
    try {
      await migrate(db, upTo14());
      await db.exec(`INSERT INTO tenants (id, name) VALUES ('_herald', 'Someone')`);
      await assert.rejects(migrate(db), /"_herald" exists.*reserves that id/);
      const [row] = await db.query<{ name: string }>("SELECT name FROM tenants WHERE id = '_herald'");
      assert.equal(row?.name, 'Someone');
      const outbox = await db.query(
        "SELECT 1 FROM information_schema.tables WHERE table_name = 'operational_events' AND table_schema = current_schema()",
      );
      assert.deepEqual(outbox, []);
    } finally {
      await close();
    }
  });
});
