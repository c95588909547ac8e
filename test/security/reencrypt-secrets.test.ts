/**
 * Rotating HERALD_ENCRYPTION_KEY: the secret box reads old values with previous keys, and
 * reencryptSecrets moves every endpoint secret (current and rotated-out) and auth to the new key,
 * in batches, idempotently, without overwriting a secret changed meanwhile, naming unreadable
 * values without showing them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Db } from '../../src/db/db.ts';
import { ENCRYPTED_COLUMNS, reencryptSecrets } from '../../src/security/reencrypt-secrets.ts';
import { createSecretBox, generateEncryptionKey, type SecretBox } from '../../src/security/secret-box.ts';
import { makeTestApp, type TestApp } from '../support/app.ts';
import { forEachStorage } from '../support/storage.ts';

const oldKey = generateEncryptionKey();
const newKey = generateEncryptionKey();
const thirdKey = generateEncryptionKey();

describe('secret box with previous keys', () => {
  test('opens values sealed with a previous key, seals only with the current one', () => {
    const oldBox = createSecretBox(oldKey);
    const box = createSecretBox(newKey, [generateEncryptionKey(), oldKey]);
    const sealedOld = oldBox.seal('whsec_abc');
    assert.equal(box.open(sealedOld), 'whsec_abc');
    const sealedNew = box.seal('whsec_abc');
    assert.throws(() => oldBox.open(sealedNew), /does not open/);
    assert.equal(createSecretBox(newKey).open(sealedNew), 'whsec_abc');
  });

  test('reseal: a new value for old ones, undefined for current ones, an error for unknown keys', () => {
    const box = createSecretBox(newKey, [oldKey]);
    const resealed = box.reseal(createSecretBox(oldKey).seal('s3cret'));
    assert.ok(resealed);
    assert.equal(createSecretBox(newKey).open(resealed), 's3cret');
    assert.equal(box.reseal(resealed), undefined);
    assert.throws(
      () => box.reseal(createSecretBox(generateEncryptionKey()).seal('s3cret')),
      (err: Error) => !err.message.includes('s3cret'),
    );
    assert.throws(() => box.open('not-sealed'), /unrecognised/);
  });
});

/** Every encrypted value in the database, by `id column`. */
async function sealedValues(db: Db): Promise<Map<string, string>> {
  const values = new Map<string, string>();
  for (const [table, columns] of Object.entries(ENCRYPTED_COLUMNS)) {
    const rows = await db.query<Record<string, string | null>>(
      `SELECT id, ${columns.join(', ')} FROM ${table}`,
    );
    for (const row of rows) {
      for (const c of columns) if (row[c]) values.set(`${row['id']} ${c}`, row[c]!);
    }
  }
  return values;
}

function openAll(box: SecretBox, values: Map<string, string>): Map<string, string> {
  return new Map([...values].map(([k, v]) => [k, box.open(v)]));
}

forEachStorage('re-encrypting secrets under a new key', (kind) => {
  let t: TestApp;
  let plain: Map<string, string>;

  before(async () => {
    t = await makeTestApp(kind);
    t.ctx.secretBox = createSecretBox(oldKey);
    await t.request('POST', '/v1/tenants', { id: 'acme', name: 'Acme' });
    for (let i = 0; i < 7; i++) {
      const res = await t.request('POST', '/v1/tenants/acme/endpoints', {
        url: `http://127.0.0.1:9/${i}`,
        ...(i % 2 === 0 ? { auth: { type: 'bearer', token: `tok-${i}` } } : {}),
      });
      assert.equal(res.statusCode, 201, res.body);
      if (i === 3) {
        const id = res.json().id as string;
        const r = await t.request('POST', `/v1/tenants/acme/endpoints/${id}/rotate-secret`, {});
        assert.equal(r.statusCode, 200, r.body);
      }
    }
    plain = openAll(createSecretBox(oldKey), await sealedValues(t.ctx.db));
    // 7 secrets, 4 auths, 1 rotated-out secret.
    assert.equal(plain.size, 12);
  });
  after(() => t.close());

  test('moves every value to the new key, in batches, keeping what it holds', async () => {
    const batches: number[] = [];
    const result = await reencryptSecrets(t.ctx.db, createSecretBox(newKey, [oldKey]), {
      batchSize: 3,
      onBatch: (r) => batches.push(r.rows),
    });
    assert.deepEqual(
      { ...result, unreadable: result.unreadable.length },
      { rows: 7, reencrypted: 12, current: 0, changedMeanwhile: 0, unreadable: 0 },
    );
    assert.deepEqual(batches, [3, 6, 7]);
    const values = await sealedValues(t.ctx.db);
    assert.deepEqual(openAll(createSecretBox(newKey), values), plain, 'the new key alone opens everything');
    for (const v of values.values()) assert.throws(() => createSecretBox(oldKey).open(v));

    // The API, running with the new key only, serves the same secrets.
    t.ctx.secretBox = createSecretBox(newKey);
    const list = await t.request('GET', '/v1/tenants/acme/endpoints');
    assert.equal(list.statusCode, 200);
    const id = list.json().data[0].id as string;
    const secret = await t.request('GET', `/v1/tenants/acme/endpoints/${id}/secret`);
    assert.equal(secret.json().secret, plain.get(`${id} secret_enc`));
  });

  test('a second run changes nothing', async () => {
    const before = await sealedValues(t.ctx.db);
    const result = await reencryptSecrets(t.ctx.db, createSecretBox(newKey, [oldKey]), { batchSize: 3 });
    assert.equal(result.reencrypted, 0);
    assert.equal(result.current, 12);
    assert.deepEqual(await sealedValues(t.ctx.db), before);
  });

  test('a value no key opens is named (not shown) and left alone; the rest still move', async () => {
    const [victim] = (
      await t.ctx.db.query<{ id: string }>('SELECT id FROM endpoints ORDER BY id LIMIT 1')
    ).map((r) => r.id);
    const stray = createSecretBox(generateEncryptionKey()).seal('lost-secret');
    await t.ctx.db.query('UPDATE endpoints SET secret_enc = $2 WHERE id = $1', [victim, stray]);
    const result = await reencryptSecrets(t.ctx.db, createSecretBox(thirdKey, [newKey]), { batchSize: 4 });
    assert.deepEqual(result.unreadable, [`endpoints ${victim} secret_enc`]);
    assert.equal(result.reencrypted, 11);
    assert.doesNotMatch(JSON.stringify(result), /lost-secret|tok-|whsec_/);
    const values = await sealedValues(t.ctx.db);
    assert.equal(values.get(`${victim} secret_enc`), stray);
    assert.equal(
      createSecretBox(thirdKey).open(values.get(`${victim} auth_enc`)!),
      plain.get(`${victim} auth_enc`),
    );
    // Put the victim back under the current key for the next test.
    await t.ctx.db.query('UPDATE endpoints SET secret_enc = $2 WHERE id = $1', [
      victim,
      createSecretBox(thirdKey).seal(plain.get(`${victim} secret_enc`)!),
    ]);
  });

  test('a secret changed while the rotation runs is not overwritten, and a re-run finishes', async () => {
    const fourthKey = generateEncryptionKey();
    const box = createSecretBox(fourthKey, [thirdKey]);
    // The endpoint with auth that sorts first: its row is in the first batch.
    const [id] = (
      await t.ctx.db.query<{ id: string }>(
        'SELECT id FROM endpoints WHERE auth_enc IS NOT NULL ORDER BY id LIMIT 1',
      )
    ).map((r) => r.id);
    // A running server (already on the new key) rotates this secret between the batch's read and
    // its write.
    const serverValue = createSecretBox(fourthKey).seal('whsec_changed_by_server');
    const db = Object.create(t.ctx.db) as Db;
    let interfered = false;
    db.transaction = async (fn) => {
      if (!interfered) {
        interfered = true;
        await t.ctx.db.query('UPDATE endpoints SET secret_enc = $2 WHERE id = $1', [id, serverValue]);
      }
      return t.ctx.db.transaction(fn);
    };
    const first = await reencryptSecrets(db, box, { batchSize: 100 });
    assert.equal(first.changedMeanwhile, 1);
    assert.equal(first.reencrypted, 10, 'every value but the two of the changed row');
    let values = await sealedValues(t.ctx.db);
    assert.equal(values.get(`${id} secret_enc`), serverValue);

    const second = await reencryptSecrets(t.ctx.db, box, { batchSize: 100 });
    assert.deepEqual(
      { reencrypted: second.reencrypted, changedMeanwhile: second.changedMeanwhile },
      { reencrypted: 1, changedMeanwhile: 0 },
    );
    values = await sealedValues(t.ctx.db);
    const opened = openAll(createSecretBox(fourthKey), values);
    assert.equal(opened.get(`${id} secret_enc`), 'whsec_changed_by_server');
    assert.equal(opened.get(`${id} auth_enc`), plain.get(`${id} auth_enc`));
  });
});
