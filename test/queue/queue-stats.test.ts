import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { finishMaintenanceJob, takeMaintenanceJob } from '../../src/queue/maintenance-lock.ts';
import { queueStats } from '../../src/queue/queue-stats.ts';
import { insertEndpoint, insertTenant, manualClock, publishOne } from '../support/delivery-fixtures.ts';
import { forEachStorage, freshDb, type TestDb } from '../support/storage.ts';

forEachStorage('queue stats and maintenance lock', (kind) => {
  let t: TestDb;
  before(async () => {
    t = await freshDb(kind);
  });
  after(() => t.close());
  const clock = manualClock();

  test('due backlog and the age of the oldest due delivery', async () => {
    assert.deepEqual(await queueStats(t.db, { now: clock.now() }), { due: 0, oldestDueAgeSeconds: 0 });
    const tenant = await insertTenant(t.db);
    const ep = await insertEndpoint(t.db, tenant, { url: 'http://127.0.0.1:9/' });
    const off = await insertEndpoint(t.db, tenant, { url: 'http://127.0.0.1:9/', active: false });
    const now = clock.now().getTime();
    await publishOne(t.db, tenant, ep.id, {}, { nextAttemptAt: new Date(now - 90_000) });
    await publishOne(t.db, tenant, ep.id, {}, { nextAttemptAt: new Date(now - 1_000) });
    await publishOne(t.db, tenant, ep.id, {}, { nextAttemptAt: new Date(now + 60_000) });
    // An inactive endpoint's deliveries wait for the endpoint, not for a worker.
    await publishOne(t.db, tenant, off.id, {}, { nextAttemptAt: new Date(now - 500_000) });
    assert.deepEqual(await queueStats(t.db, { now: clock.now() }), { due: 2, oldestDueAgeSeconds: 90 });
  });

  test('a maintenance job is held by one worker at a time, then scheduled', async () => {
    const lock = { job: 'retention' as const, holdMs: 60_000, now: clock.now() };
    const [a, b] = await Promise.all([
      takeMaintenanceJob(t.db, { ...lock, workerId: 'a' }),
      takeMaintenanceJob(t.db, { ...lock, workerId: 'b' }),
    ]);
    assert.equal(Number(a) + Number(b), 1, 'exactly one takes it');
    const holder = a ? 'a' : 'b';
    const other = a ? 'b' : 'a';
    assert.equal(await takeMaintenanceJob(t.db, { ...lock, workerId: other }), false);

    await finishMaintenanceJob(t.db, {
      job: 'retention',
      workerId: holder,
      nextRunInMs: 3_600_000,
      now: clock.now(),
    });
    clock.advance(3_599_999);
    assert.equal(await takeMaintenanceJob(t.db, { ...lock, now: clock.now(), workerId: other }), false);
    clock.advance(1);
    assert.equal(await takeMaintenanceJob(t.db, { ...lock, now: clock.now(), workerId: other }), true);

    // A holder that dies: once its hold runs out another worker takes over.
    clock.advance(60_000);
    assert.equal(await takeMaintenanceJob(t.db, { ...lock, now: clock.now(), workerId: holder }), true);
  });
});
