/**
 * `scanFree` statements (src/db/db.ts): both drivers plan them with sequential scans off — alone,
 * in a transaction, after a failure — and every other statement with the session's defaults.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { prepared } from '../../src/db/db.ts';
import { forEachStorage, freshDb, type TestDb } from '../support/storage.ts';

const SCAN_FREE = prepared('test_scan_free_setting', `SELECT current_setting('enable_seqscan') AS v`, {
  scanFree: true,
});
const FAILING = prepared('test_scan_free_failing', 'SELECT 1 / $1::int AS v', { scanFree: true });
const PLAIN = prepared('test_plain_setting', `SELECT current_setting('enable_seqscan') AS v`);
const setting = `SELECT current_setting('enable_seqscan') AS v`;

forEachStorage('scan-free statements', (storage) => {
  let t: TestDb;
  before(async () => {
    t = await freshDb(storage);
  });
  after(() => t.close());

  test('a scanFree statement is planned without sequential scans, the others as usual', async () => {
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(await t.db.query(SCAN_FREE), [{ v: 'off' }]);
      assert.deepEqual(await t.db.query(PLAIN), [{ v: 'on' }]);
      assert.deepEqual(await t.db.query(setting), [{ v: 'on' }]);
    }
  });

  test('in a transaction, and after a failing one, the setting stays where it belongs', async () => {
    const seen = await t.db.transaction(async (tx) => {
      const before = await tx.query<{ v: string }>(setting);
      const inside = await tx.query<{ v: string }>(SCAN_FREE);
      return [before[0]!.v, inside[0]!.v];
    });
    assert.deepEqual(seen, ['on', 'off']);
    await assert.rejects(t.db.query(FAILING, [0]), (err: { code?: string }) => err.code === '22012');
    await assert.rejects(
      t.db.transaction((tx) => tx.query(FAILING, [0])),
      (err: { code?: string }) => err.code === '22012',
    );
    assert.deepEqual(await t.db.query(setting), [{ v: 'on' }]);
    assert.deepEqual(await t.db.query(FAILING, [1]), [{ v: 1 }]);
    assert.deepEqual(await t.db.query(SCAN_FREE), [{ v: 'off' }]);
  });
});
