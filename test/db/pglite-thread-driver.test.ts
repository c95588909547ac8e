/**
 * The embedded database on its own thread (src/db/pglite-thread-driver.ts): rows as the in-thread
 * driver returns them, database errors with their fields, transactions that commit, roll back and
 * keep others out while open, NOTIFY heard, a closed database refusing calls, and the data a dump
 * carries loading into a new thread. (The rest of the suite runs on this driver too:
 * test/support/storage.ts.)
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import type { Worker, WorkerOptions } from 'node:worker_threads';
import { prepared } from '../../src/db/db.ts';
import { openPglite } from '../../src/db/pglite-driver.ts';
import { openPgliteThread, startPgliteThread } from '../../src/db/pglite-thread-driver.ts';

let db: Awaited<ReturnType<typeof openPgliteThread>>;
before(async () => {
  db = await openPgliteThread();
  await db.exec(`CREATE TABLE t (id text PRIMARY KEY, n int8, at timestamptz, doc json, tags text[])`);
});
after(() => db.close());

const INSERT = prepared(
  'thread_insert',
  `INSERT INTO t (id, n, at, doc, tags) VALUES ($1, $2, $3, $4::json, $5) RETURNING *`,
);

test('rows come back as the in-thread driver returns them', async () => {
  const at = new Date('2030-01-02T03:04:05.678Z');
  const [inserted] = await db.query(INSERT, ['a', 42, at, JSON.stringify({ b: [1, 'x'] }), ['p', 'q']]);
  assert.deepEqual(inserted, { id: 'a', n: 42, at, doc: { b: [1, 'x'] }, tags: ['p', 'q'] });
  const local = await openPglite();
  try {
    const sql = `SELECT 1::int8 AS n, '2030-01-02T03:04:05.678Z'::timestamptz AS at, '{"a":[1]}'::json AS j,
      '{"b":2}'::jsonb AS jb, ARRAY['x'] AS arr, 'ab'::bytea AS raw, NULL::text AS nothing, true AS yes`;
    assert.deepEqual(await db.query(sql), await local.query(sql));
  } finally {
    await local.close();
  }
});

test('a database error crosses with its code and fields, and the thread goes on', async () => {
  await assert.rejects(
    db.query(INSERT, ['a', 1, null, null, null]),
    (err: Error & Record<string, unknown>) => {
      assert.equal(err.code, '23505');
      assert.equal(err['constraint'], 't_pkey');
      assert.match(err.message, /duplicate key/);
      return true;
    },
  );
  assert.deepEqual(await db.query('SELECT count(*)::int AS n FROM t'), [{ n: 1 }]);
});

test('a parameter that cannot cross to the thread fails its call alone', async () => {
  await assert.rejects(db.query('SELECT $1::text AS v', [() => 1]), /could not be cloned/);
  assert.deepEqual(await db.query('SELECT $1::text AS v', ['x']), [{ v: 'x' }]);
});

test('an open database holds the process only while a call waits, even after a refused one', () => {
  // A process that opens one, runs a statement and a refused call, listens, and never closes it.
  const driver = new URL('../../src/db/pglite-thread-driver.ts', import.meta.url).href;
  const code = `
    const { openPgliteThread } = await import(${JSON.stringify(driver)});
    const db = await openPgliteThread();
    await db.query('SELECT 1');
    await db.query('SELECT $1::text', [() => 1]).catch(() => {});
    await db.listen('idle_test', () => {});
    console.log('done');`;
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(run.signal, null, 'the process was still running after 30 s');
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /done/);
});

test('a transaction commits what its callback wrote, and answers what it returned', async () => {
  const out = await db.transaction(async (tx) => {
    await tx.query(INSERT, ['b', 2, null, null, null]);
    return (await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM t'))[0]!.n;
  });
  assert.equal(out, 2);
  assert.deepEqual(await db.query(`SELECT id FROM t WHERE id = 'b'`), [{ id: 'b' }]);
});

test('a callback that throws rolls its transaction back and its error reaches the caller', async () => {
  const boom = new Error('boom');
  await assert.rejects(
    db.transaction(async (tx) => {
      await tx.query(INSERT, ['c', 3, null, null, null]);
      throw boom;
    }),
    (err) => err === boom,
  );
  assert.deepEqual(await db.query(`SELECT id FROM t WHERE id = 'c'`), []);
});

test('a statement outside waits for an open transaction to end', async () => {
  let release!: () => void;
  const held = new Promise<void>((r) => {
    release = r;
  });
  let inside!: () => void;
  const opened = new Promise<void>((r) => {
    inside = r;
  });
  const tx = db.transaction(async (q) => {
    await q.query(INSERT, ['d', 4, null, null, null]);
    inside();
    await held;
  });
  await opened;
  let outsideDone = false;
  const outside = db.query<{ n: number }>('SELECT count(*)::int AS n FROM t').then((rows) => {
    outsideDone = true;
    return rows;
  });
  // The outside statement is queued behind the transaction; a round trip through the thread
  // (a statement of the transaction) shows it has not run meanwhile.
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(outsideDone, false);
  release();
  await tx;
  assert.deepEqual(await outside, [{ n: 3 }]);
});

test('NOTIFY is heard by a listener until it stops listening', async () => {
  const heard: string[] = [];
  const stop = await db.listen('thread_test', (p) => heard.push(p));
  await db.query(`SELECT pg_notify('thread_test', 'one')`);
  await db.transaction(async (tx) => {
    await tx.query(`SELECT pg_notify('thread_test', 'two')`);
  });
  for (let i = 0; i < 100 && heard.length < 2; i++) await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(heard, ['one', 'two']);
  await stop();
  await db.query(`SELECT pg_notify('thread_test', 'three')`);
  await db.query('SELECT 1');
  assert.deepEqual(heard, ['one', 'two']);
});

test('a dump loads into a new thread; a closed database refuses calls', async () => {
  const copy = await openPgliteThread({ loadDataDir: await db.dumpDataDir() });
  assert.deepEqual(
    await copy.query('SELECT id FROM t ORDER BY id'),
    await db.query('SELECT id FROM t ORDER BY id'),
  );
  await copy.close();
  await assert.rejects(copy.query('SELECT 1'), /closed/);
  await copy.close();
});

test('a thread that ends unasked fails the calls waiting and later ones, and is reported once', async () => {
  let thread: Worker | undefined;
  const lost: Error[] = [];
  const db2 = await openPgliteThread({
    onLost: (err) => lost.push(err),
    // The real thread, kept at hand to end it.
    startThread: (options: WorkerOptions) => {
      thread = startPgliteThread(options);
      return thread;
    },
  });
  assert.deepEqual(await db2.query('SELECT 1 AS one'), [{ one: 1 }]);
  let release!: () => void;
  const held = new Promise<void>((r) => {
    release = r;
  });
  // A call that waits on the thread when it ends: an open transaction's statement never answered.
  const waiting = db2.transaction(async (tx) => {
    await tx.query('SELECT 1');
    await held;
  });
  await thread!.terminate();
  release();
  await assert.rejects(waiting, /thread exited/);
  await assert.rejects(db2.query('SELECT 1'), /thread exited/);
  assert.equal(lost.length, 1);
  assert.match(lost[0]!.message, /thread exited/);
  await db2.close();
  assert.equal(lost.length, 1);
});
