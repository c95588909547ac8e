/**
 * A payload-purge pass (src/store/retention.ts) as a cursor over created_at: it starts at the oldest
 * payload it can purge — past the purged events and past an event a pending delivery holds — and each
 * chunk's window starts where the last one's ended or at the last event it took, never before. An
 * event held when the cursor passes it is purged by a later pass once its delivery is done. Ties (a
 * batch's events share created_at) and microseconds apart must not be stepped over. The chunks' plan:
 * retention-plan.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type Queryable, type Sql, sqlText } from '../../src/db/db.ts';
import {
  PURGE_PAYLOADS_SQL,
  PURGE_START_SQL,
  purgeExpired,
  type RetentionDb,
} from '../../src/store/retention.ts';
import { insertEndpoint, insertTenant, publishOne } from '../support/delivery-fixtures.ts';
import { forEachStorage, freshDb, type TestDb } from '../support/storage.ts';

const DAY = 86_400_000;
const NOW = new Date('2030-06-01T00:00:00Z');
const OLD = new Date(NOW.getTime() - 40 * DAY);
const CHUNK = 7;

type Recording = RetentionDb & { starts: number; windows: Array<[Date, Date]>; jit: string[] };

/**
 * The database, recording each pass's start, each chunk's window, and the `jit` setting each chunk
 * runs under (off: PostgreSQL would otherwise compile a chunk priced per tenant, ~300 ms each).
 */
function recording(db: RetentionDb): Recording {
  const watched = (q: Queryable): Queryable => ({
    async query<T>(sql: Sql, params?: readonly unknown[]): Promise<T[]> {
      if (sqlText(sql) === PURGE_START_SQL) rec.starts++;
      if (sqlText(sql) === PURGE_PAYLOADS_SQL) {
        rec.windows.push([new Date(String(params?.[0])), new Date(String(params?.[1]))]);
        const [setting] = await q.query<{ jit: string }>(`SELECT current_setting('jit') AS jit`);
        rec.jit.push(setting!.jit);
      }
      return q.query<T>(sql, params);
    },
    exec: (sql: string) => q.exec(sql),
  });
  const rec: Recording = {
    starts: 0,
    windows: [],
    jit: [],
    ...watched(db),
    transaction: (fn) => db.transaction((tx) => fn(watched(tx))),
  };
  return rec;
}

forEachStorage('retention pass', (kind) => {
  let t: TestDb;
  const tenants: string[] = [];
  const endpoints: string[] = [];
  before(async () => {
    t = await freshDb(kind);
    for (let i = 0; i < 2; i++) {
      tenants.push(await insertTenant(t.db));
      endpoints.push((await insertEndpoint(t.db, tenants[i]!, { url: 'http://127.0.0.1:9/hook' })).id);
    }
  });
  after(() => t.close());

  /** Events `prefix1..n` of alternating tenants, created at OLD + `at` (SQL in g), with a payload unless `purged`. */
  async function insertEvents(prefix: string, n: number, at: string, purged = false): Promise<void> {
    await t.db.query(
      `INSERT INTO events (tenant_id, id, type, data, batch_id, created_at)
       SELECT ($1::text[])[1 + g % 2], $2 || g, 'a.b', CASE WHEN NOT $5 THEN '{"x":1}'::json END, 'b',
         $3::timestamptz + ${at}
       FROM generate_series(1, $4) g`,
      [tenants, prefix, OLD, n, purged],
    );
  }
  const withPayload = async (): Promise<string[]> =>
    (
      await t.db.query<{ id: string }>(
        'SELECT id FROM events WHERE data IS NOT NULL AND created_at < $1 ORDER BY id',
        [new Date(NOW.getTime() - 30 * DAY)],
      )
    ).map((r) => r.id);
  const createdAt = async (id: string): Promise<Date> =>
    (await t.db.query<{ created_at: Date }>('SELECT created_at FROM events WHERE id = $1', [id]))[0]!
      .created_at;

  test('skips the purged events and a held one, never steps back, and purges the held one once its delivery is done', async () => {
    // Already purged: the first hour.
    await insertEvents('gone', 50, `g * interval '1 minute'`, true);
    // Held since before everything else: an endpoint disabled for weeks.
    const first = await publishOne(t.db, tenants[0]!, endpoints[0]!, {
      id: 'held_first',
      createdAt: new Date(OLD.getTime() + 2 * 3_600_000),
    });
    // Then: events a second apart, a batch of 20 sharing one created_at, 20 a microsecond apart, and
    // one held in the middle of them.
    await insertEvents('spaced', 30, `interval '3 hours' + g * interval '1 second'`);
    await insertEvents('tied', 20, `interval '4 hours'`);
    await insertEvents('micro', 20, `interval '5 hours' + g * interval '1 microsecond'`);
    const middle = await publishOne(t.db, tenants[1]!, endpoints[1]!, {
      id: 'held_middle',
      createdAt: new Date(OLD.getTime() + 4 * 3_600_000),
    });
    await insertEvents('late', 10, `interval '6 hours' + g * interval '1 second'`);
    // Within the retention window: kept.
    await insertEvents('young', 5, `interval '20 days'`);

    const pass1 = recording(t.db);
    const result = await purgeExpired(pass1, { now: NOW, retentionDays: 30, chunkSize: CHUNK });
    assert.equal(result.payloadsPurged, 30 + 20 + 20 + 10);
    assert.deepEqual(await withPayload(), ['held_first', 'held_middle']);
    assert.equal(pass1.starts, 1, 'the purged part is read once per pass');
    assert.deepEqual(new Set(pass1.jit), new Set(['off']), 'no chunk is compiled');
    assert.ok(pass1.windows.length > (30 + 20 + 20 + 10) / CHUNK, 'in chunks');
    const firstStart = pass1.windows[0]![0];
    assert.ok(
      firstStart.getTime() >= (await createdAt('spaced1')).getTime(),
      `the first chunk starts past the purged and the held events, at ${firstStart.toISOString()}`,
    );
    for (let i = 1; i < pass1.windows.length; i++) {
      const [from, to] = pass1.windows[i]!;
      assert.ok(from.getTime() >= pass1.windows[i - 1]![0].getTime(), `chunk ${i} does not step back`);
      assert.ok(from.getTime() < to.getTime(), `chunk ${i}'s window is not empty`);
    }
    assert.equal(
      pass1.windows.at(-1)![1].getTime(),
      NOW.getTime() - 30 * DAY,
      'the last window ends at the cutoff',
    );

    // The deliveries finish: the next pass starts at the oldest of them.
    for (const d of [first, middle])
      await t.db.query(
        `UPDATE deliveries SET status = 'succeeded', next_attempt_at = NULL, completed_at = $2 WHERE id = $1`,
        [d.deliveryId, NOW],
      );
    const pass2 = recording(t.db);
    assert.equal(
      (await purgeExpired(pass2, { now: NOW, retentionDays: 30, chunkSize: CHUNK })).payloadsPurged,
      2,
    );
    assert.deepEqual(await withPayload(), []);
    assert.equal(pass2.windows[0]![0].getTime(), (await createdAt('held_first')).getTime());

    // Nothing left: a pass reads no chunk at all.
    const pass3 = recording(t.db);
    assert.equal(
      (await purgeExpired(pass3, { now: NOW, retentionDays: 30, chunkSize: CHUNK })).payloadsPurged,
      0,
    );
    assert.deepEqual(pass3.windows, []);
  });

  test('a pass stopped between chunks leaves the rest to the next', async () => {
    await insertEvents('stop', 40, `interval '7 hours' + g * interval '1 second'`);
    const counting = recording(t.db);
    const stopped = await purgeExpired(counting, {
      now: NOW,
      retentionDays: 30,
      chunkSize: CHUNK,
      shouldStop: () => counting.windows.length >= 2,
    });
    assert.equal(counting.windows.length, 2);
    assert.ok(stopped.payloadsPurged < 40);
    assert.equal((await withPayload()).length, 40 - stopped.payloadsPurged);
    const rest = await purgeExpired(t.db, { now: NOW, retentionDays: 30, chunkSize: CHUNK });
    assert.equal(stopped.payloadsPurged + rest.payloadsPurged, 40);
    assert.deepEqual(await withPayload(), []);
  });
});
