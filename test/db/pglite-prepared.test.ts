/**
 * Prepared statements on PGlite (src/db/pglite-prepared.ts): rows exactly as PGlite's query()
 * returns them, a failing call leaves the session usable, and they keep to transactions.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { prepared } from '../../src/db/db.ts';
import { openPglite } from '../../src/db/pglite-driver.ts';

let db: Awaited<ReturnType<typeof openPglite>>;
before(async () => {
  db = await openPglite();
  await db.exec(`CREATE TABLE t (id text PRIMARY KEY, n int8, at timestamptz, doc json, tags text[])`);
});
after(() => db.close());

const INSERT = prepared(
  'test_insert',
  `INSERT INTO t (id, n, at, doc, tags) VALUES ($1, $2, $3, $4::json, $5) RETURNING *`,
);
const SELECT = prepared('test_select', 'SELECT * FROM t WHERE id = $1');

test('rows come back as query() returns them, parameters typed by the statement', async () => {
  const at = new Date('2030-01-02T03:04:05.678Z');
  const row = { id: 'a', n: 42, at, doc: JSON.stringify({ b: [1, 'x'] }), tags: ['p', 'q'] };
  const [inserted] = await db.query(INSERT, [row.id, row.n, row.at, row.doc, row.tags]);
  const [plain] = await db.query('SELECT * FROM t WHERE id = $1', ['a']);
  assert.deepEqual(inserted, plain);
  assert.deepEqual(await db.query(SELECT, ['a']), [plain]);
  assert.deepEqual(plain, { id: 'a', n: 42, at, doc: { b: [1, 'x'] }, tags: ['p', 'q'] });
  assert.deepEqual(await db.query(SELECT, ['missing']), []);
  assert.deepEqual(await db.query(SELECT, [null]), []);
});

test('a failing call throws the database error and leaves the session usable', async () => {
  await assert.rejects(
    db.query(INSERT, ['a', 1, null, null, null]),
    (err: { code?: string }) => err.code === '23505',
  );
  await assert.rejects(
    db.query(INSERT, ['b', 'not a number', null, null, null]),
    (err: { code?: string }) => err.code === '22P02',
  );
  assert.equal((await db.query(SELECT, ['a'])).length, 1);
  assert.deepEqual(await db.query('SELECT 1 AS one'), [{ one: 1 }]);
});

test('inside a transaction they see its writes and roll back with it', async () => {
  await assert.rejects(
    db.transaction(async (tx) => {
      await tx.query(INSERT, ['c', 3, null, null, null]);
      assert.equal((await tx.query(SELECT, ['c'])).length, 1);
      throw new Error('roll back');
    }),
    /roll back/,
  );
  assert.deepEqual(await db.query(SELECT, ['c']), []);
  // Calls from outside wait for a transaction to end instead of running inside it.
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let written!: () => void;
  const wrote = new Promise<void>((r) => (written = r));
  const tx = db.transaction(async (t) => {
    await t.query(INSERT, ['d', 4, null, null, null]);
    written();
    await held;
    throw new Error('roll back d');
  });
  await wrote;
  // One session: a call that did not wait for the transaction would run inside it and see 'd'.
  const outside = db.query(SELECT, ['d']);
  await new Promise((r) => setTimeout(r, 20));
  release();
  await assert.rejects(tx, /roll back d/);
  assert.deepEqual(await outside, [], 'the outside read ran after the rollback, not inside the transaction');
});
