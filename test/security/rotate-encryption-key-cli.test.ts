/**
 * `herald rotate-encryption-key` in embedded mode, as an operator runs it: the old key comes from the
 * data directory, every secret moves to the new key, the key file is replaced, a re-run changes
 * nothing, and no key or secret is printed.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadConfig } from '../../src/config/config.ts';
import { migrate } from '../../src/db/migrate.ts';
import { createSecretBox, generateEncryptionKey } from '../../src/security/secret-box.ts';
import { openStorage } from '../../src/server/open-storage.ts';

const dir = mkdtempSync(join(tmpdir(), 'herald-rotate-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function herald(env: Record<string, string>) {
  const clean = { ...process.env };
  for (const k of Object.keys(clean)) if (k.startsWith('HERALD_') || k === 'DATABASE_URL') delete clean[k];
  return spawnSync(process.execPath, ['bin/herald.js', 'rotate-encryption-key'], {
    env: { ...clean, HERALD_DATA_DIR: dir, LOG_LEVEL: 'silent', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

test('rotates an embedded data directory to a new key, and a re-run does nothing', async () => {
  const config = loadConfig({}, { HERALD_DATA_DIR: dir });
  let storage = await openStorage(config);
  const oldKey = storage.encryptionKey;
  await migrate(storage.db);
  const oldBox = createSecretBox(oldKey);
  await storage.db.query("INSERT INTO tenants (id, name) VALUES ('acme', 'Acme')");
  await storage.db.query(
    "INSERT INTO endpoints (id, tenant_id, url, secret_enc, auth_enc) VALUES ('ep_1', 'acme', 'http://127.0.0.1:9/', $1, $2)",
    [oldBox.seal('whsec_cli_secret'), oldBox.seal('{"type":"bearer","token":"tok_cli"}')],
  );
  await storage.close();

  const newKey = generateEncryptionKey();
  const first = herald({ HERALD_ENCRYPTION_KEY: newKey });
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.stdout, /re-encrypted 2 values/);
  assert.match(first.stdout, /done/);
  assert.equal(readFileSync(join(dir, 'encryption-key'), 'utf8').trim(), newKey);
  for (const s of [oldKey, newKey, 'whsec_cli_secret', 'tok_cli']) {
    assert.ok(!first.stdout.includes(s) && !first.stderr.includes(s), 'nothing secret is printed');
  }

  const second = herald({ HERALD_ENCRYPTION_KEY: newKey });
  assert.equal(second.status, 0, second.stderr);
  assert.match(second.stdout, /re-encrypted 0 values, 2 already under the current key/);

  // A later start without the variable reads the new key from the data directory.
  storage = await openStorage(loadConfig({}, { HERALD_DATA_DIR: dir }));
  try {
    const [row] = await storage.db.query<{ secret_enc: string; auth_enc: string }>(
      'SELECT secret_enc, auth_enc FROM endpoints',
    );
    const box = createSecretBox(storage.encryptionKey);
    assert.equal(box.open(row!.secret_enc), 'whsec_cli_secret');
    assert.equal(JSON.parse(box.open(row!.auth_enc)).token, 'tok_cli');
    assert.throws(() => oldBox.open(row!.secret_enc));
  } finally {
    await storage.close();
  }
});

test('without a new key it refuses, naming the variable, and exits 2', () => {
  const res = herald({});
  assert.equal(res.status, 2, res.stderr);
  assert.match(res.stderr, /HERALD_ENCRYPTION_KEY/);
});
