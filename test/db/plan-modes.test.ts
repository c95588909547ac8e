/**
 * Plan modes of prepared statements (src/db/db.ts): both drivers run a statement of a mode under its
 * setting — alone, in a transaction, after a failure — and every other statement with the session's
 * defaults.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { PLAN_SETTINGS, type PlanMode, prepared } from '../../src/db/db.ts';
import { forEachStorage, freshDb, type TestDb } from '../support/storage.ts';

const SETTINGS = `SELECT current_setting('enable_seqscan') AS seqscan, current_setting('plan_cache_mode') AS plans`;
const DEFAULTS = { seqscan: 'on', plans: 'auto' };
const IN_MODE: Record<PlanMode, typeof DEFAULTS> = {
  'scan-free': { seqscan: 'off', plans: 'auto' },
  custom: { seqscan: 'on', plans: 'force_custom_plan' },
};
const PLAIN = prepared('test_plain_settings', SETTINGS);

forEachStorage('plan modes', (storage) => {
  let t: TestDb;
  before(async () => {
    t = await freshDb(storage);
  });
  after(() => t.close());

  for (const mode of Object.keys(PLAN_SETTINGS) as PlanMode[]) {
    const key = mode.replace('-', '_');
    const IN = prepared(`test_settings_${key}`, SETTINGS, { plan: mode });
    const FAILING = prepared(`test_failing_${key}`, 'SELECT 1 / $1::int AS v', { plan: mode });

    test(`a ${mode} statement runs under its setting, the others as usual`, async () => {
      for (let i = 0; i < 3; i++) {
        assert.deepEqual(await t.db.query(IN), [IN_MODE[mode]]);
        assert.deepEqual(await t.db.query(PLAIN), [DEFAULTS]);
        assert.deepEqual(await t.db.query(SETTINGS), [DEFAULTS]);
      }
    });

    test(`${mode}: in a transaction, and after a failing one, the setting stays where it belongs`, async () => {
      const seen = await t.db.transaction(async (tx) => [
        (await tx.query(SETTINGS))[0],
        (await tx.query(IN))[0],
      ]);
      assert.deepEqual(seen, [DEFAULTS, IN_MODE[mode]]);
      await assert.rejects(t.db.query(FAILING, [0]), (err: { code?: string }) => err.code === '22012');
      await assert.rejects(
        t.db.transaction((tx) => tx.query(FAILING, [0])),
        (err: { code?: string }) => err.code === '22012',
      );
      assert.deepEqual(await t.db.query(SETTINGS), [DEFAULTS]);
      assert.deepEqual(await t.db.query(FAILING, [1]), [{ v: 1 }]);
      assert.deepEqual(await t.db.query(IN), [IN_MODE[mode]]);
    });
  }
});

const COMMIT = `SELECT current_setting('synchronous_commit') AS commit, current_setting('enable_seqscan') AS seqscan`;

forEachStorage('commit modes', (storage) => {
  let t: TestDb;
  before(async () => {
    t = await freshDb(storage);
  });
  after(() => t.close());

  // PostgreSQL runs an `async` statement alone with asynchronous commit; PGlite ignores the mode.
  const asyncCommit = storage === 'postgres' ? 'off' : 'on';
  const ASYNC = prepared('test_commit_async', COMMIT, { commit: 'async' });
  const ASYNC_SCAN_FREE = prepared('test_commit_async_scan_free', COMMIT, {
    plan: 'scan-free',
    commit: 'async',
  });
  const SYNC = prepared('test_commit_sync', COMMIT);

  test('an async statement alone commits asynchronously, with its plan mode; the others wait for the flush', async () => {
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(await t.db.query(ASYNC), [{ commit: asyncCommit, seqscan: 'on' }]);
      assert.deepEqual(await t.db.query(ASYNC_SCAN_FREE), [{ commit: asyncCommit, seqscan: 'off' }]);
      assert.deepEqual(await t.db.query(SYNC), [{ commit: 'on', seqscan: 'on' }]);
      assert.deepEqual(await t.db.query(COMMIT), [{ commit: 'on', seqscan: 'on' }]);
    }
  });

  test('in a transaction an async statement leaves the commit to the transaction', async () => {
    const seen = await t.db.transaction(async (tx) => [
      (await tx.query(ASYNC))[0],
      (await tx.query(COMMIT))[0],
    ]);
    assert.deepEqual(seen, [
      { commit: 'on', seqscan: 'on' },
      { commit: 'on', seqscan: 'on' },
    ]);
  });
});
