import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import pg from 'pg';
import { loadConfig } from '../../src/config/config.ts';
import { generateEncryptionKey } from '../../src/security/secret-box.ts';
import { startHerald } from '../../src/server/start.ts';
import { forEachStorage, TEST_DATABASE_URL } from '../support/storage.ts';

const root = mkdtempSync(join(tmpdir(), 'herald-restart-'));
after(() => rmSync(root, { recursive: true, force: true }));

forEachStorage('data survives a restart', (kind) => {
  test('a tenant created before a restart is there after it', async () => {
    const adminKey = 'hk_admin_restart_test_key_0123456789';
    const env: Record<string, string> = { PORT: '0', LOG_LEVEL: 'silent', HERALD_ADMIN_KEY: adminKey };
    let schema: string | undefined;
    if (kind === 'pglite') {
      env['HERALD_DATA_DIR'] = join(root, 'data');
    } else {
      schema = `restart_${process.pid}`;
      const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`);
      await c.end();
      const url = new URL(TEST_DATABASE_URL);
      url.searchParams.set('options', `-c search_path=${schema}`);
      env['DATABASE_URL'] = url.toString();
      env['HERALD_ENCRYPTION_KEY'] = generateEncryptionKey();
    }
    const config = loadConfig({}, env);
    const headers = { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' };

    const first = await startHerald(config, { api: true, worker: false });
    const created = await fetch(`${first.url}/v1/tenants`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ id: 'survivor', name: 'Survivor' }),
    });
    assert.equal(created.status, 201);
    await first.stop();

    const second = await startHerald(config, { api: true, worker: false });
    try {
      const got = await fetch(`${second.url}/v1/tenants/survivor`, { headers });
      assert.equal(got.status, 200);
      assert.equal(((await got.json()) as { name: string }).name, 'Survivor');
    } finally {
      await second.stop();
      if (schema) {
        const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
        await c.connect();
        await c.query(`DROP SCHEMA ${schema} CASCADE`);
        await c.end();
      }
    }
  });
});
