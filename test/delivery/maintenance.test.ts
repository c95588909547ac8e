import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { formatDuration } from '../../src/config/option-values.ts';
import { newId } from '../../src/core/ids.ts';
import { disableFailingEndpoints } from '../../src/delivery/auto-disable.ts';
import type { DeliveryLogger } from '../../src/delivery/logger.ts';
import { createMaintenance } from '../../src/delivery/maintenance.ts';
import { purgeExpired } from '../../src/store/retention.ts';
import {
  insertEndpoint,
  insertEvent,
  insertTenant,
  manualClock,
  publishOne,
} from '../support/delivery-fixtures.ts';
import { forEachStorage, freshDb, type TestDb } from '../support/storage.ts';

const DAY = 86_400_000;
const URL = 'http://127.0.0.1:9/';

function recordingLogger(): DeliveryLogger & { warnings: Array<{ obj: object; msg?: string | undefined }> } {
  const warnings: Array<{ obj: object; msg?: string | undefined }> = [];
  const nothing = () => {};
  return {
    warnings,
    debug: nothing,
    info: nothing,
    error: nothing,
    warn: (obj, msg) => warnings.push({ obj, msg }),
  };
}

test('formatDuration names the configured duration', () => {
  assert.equal(formatDuration(432_000), '5d');
  assert.equal(formatDuration(7200), '2h');
  assert.equal(formatDuration(90), '90s');
});

forEachStorage('maintenance jobs', (kind) => {
  let t: TestDb;
  let tenant: string;
  before(async () => {
    t = await freshDb(kind);
    tenant = await insertTenant(t.db);
  });
  after(() => t.close());

  async function insertAttempt(deliveryId: string, endpointId: string, createdAt: Date): Promise<void> {
    await t.db.query(
      `INSERT INTO attempts (id, delivery_id, tenant_id, endpoint_id, attempt_number, started_at, duration_ms, created_at)
       VALUES ($1, $2, $3, $4, 1, $5, 1, $5)`,
      [newId('atm'), deliveryId, tenant, endpointId, createdAt],
    );
  }

  test('retention deletes old attempts and Idempotency-Keys and purges old payloads in chunks, sparing pending deliveries', async () => {
    const now = new Date('2030-06-01T00:00:00Z');
    const old = new Date(now.getTime() - 31 * DAY);
    const recent = new Date(now.getTime() - 29 * DAY);
    const ep = await insertEndpoint(t.db, tenant, { url: URL });
    const done = await publishOne(t.db, tenant, ep.id, { createdAt: old, data: { keep: false } });
    await t.db.query(`UPDATE deliveries SET status = 'succeeded', next_attempt_at = NULL WHERE id = $1`, [
      done.deliveryId,
    ]);
    for (let i = 0; i < 5; i++) await insertAttempt(done.deliveryId, ep.id, old);
    await insertAttempt(done.deliveryId, ep.id, recent);
    const stillPending = await publishOne(t.db, tenant, ep.id, { createdAt: old, data: { keep: true } });
    const young = await insertEvent(t.db, tenant, { createdAt: recent, data: { young: true } });
    for (const [key, at] of [
      ['old-1', old],
      ['old-2', old],
      ['old-3', old],
      ['recent', recent],
    ] as const) {
      await t.db.query(
        `INSERT INTO idempotency_keys (tenant_id, key, event_ids, created_at) VALUES ($1, $2, '{}', $3)`,
        [tenant, key, at],
      );
    }

    const result = await purgeExpired(t.db, { now, retentionDays: 30, chunkSize: 2 });
    assert.deepEqual(result, { attemptsDeleted: 5, payloadsPurged: 1, idempotencyKeysDeleted: 3 });
    assert.deepEqual(
      (await t.db.query<{ key: string }>('SELECT key FROM idempotency_keys')).map((r) => r.key),
      ['recent'],
    );
    const [{ n }] = (await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM attempts')) as [
      { n: number },
    ];
    assert.equal(n, 1);
    const data = new Map(
      (await t.db.query<{ id: string; data: unknown }>('SELECT id, data FROM events')).map((r) => [
        r.id,
        r.data,
      ]),
    );
    assert.equal(data.get(done.eventId), null, 'old payload purged, event kept');
    assert.deepEqual(data.get(stillPending.eventId), { keep: true }, 'a pending delivery keeps its payload');
    assert.deepEqual(data.get(young), { young: true });

    // Stopping between chunks.
    assert.deepEqual(await purgeExpired(t.db, { now, retentionDays: 1, shouldStop: () => true }), {
      attemptsDeleted: 0,
      payloadsPurged: 0,
      idempotencyKeysDeleted: 0,
    });
  });

  test('retention spares every event of a pending batched delivery, not only its first (issue 16)', async () => {
    const now = new Date('2030-06-01T00:00:00Z');
    const old = new Date(now.getTime() - 31 * DAY);
    const ep = await insertEndpoint(t.db, tenant, { url: URL });
    const events: string[] = [];
    for (let i = 0; i < 3; i++) events.push(await insertEvent(t.db, tenant, { createdAt: old, data: { i } }));
    const deliveryId = newId('dlv');
    await t.db.query(
      `INSERT INTO deliveries (id, tenant_id, endpoint_id, event_id, event_ids, event_type, sequence, next_attempt_at)
       VALUES ($1, $2, $3, $4, $5::text[], 'invoice.paid', 1000, $6)`,
      [deliveryId, tenant, ep.id, events[0], events, now],
    );
    const payloads = async () => {
      const rows = await t.db.query<{ id: string; data: unknown }>(
        'SELECT id, data FROM events WHERE tenant_id = $1 AND id = ANY($2::text[])',
        [tenant, events],
      );
      return events.map((id) => rows.find((r) => r.id === id)?.data);
    };

    await purgeExpired(t.db, { now, retentionDays: 30 });
    assert.deepEqual(await payloads(), [{ i: 0 }, { i: 1 }, { i: 2 }], 'all three kept while pending');

    await t.db.query(`UPDATE deliveries SET status = 'succeeded', next_attempt_at = NULL WHERE id = $1`, [
      deliveryId,
    ]);
    await purgeExpired(t.db, { now, retentionDays: 30 });
    assert.deepEqual(await payloads(), [null, null, null], 'purged once it is done');
  });

  test('auto-disable: endpoints failing longer than the limit are disabled with reason and time, and logged', async () => {
    const now = new Date('2030-06-01T00:00:00Z');
    const failing = await insertEndpoint(t.db, tenant, {
      url: URL,
      failingSince: new Date(now.getTime() - 6 * DAY),
    });
    const recent = await insertEndpoint(t.db, tenant, {
      url: URL,
      failingSince: new Date(now.getTime() - 1 * DAY),
    });
    const healthy = await insertEndpoint(t.db, tenant, { url: URL });
    const logger = recordingLogger();
    const disabled = await disableFailingEndpoints(t.db, { now, disableAfterSeconds: 5 * 86_400, logger });
    assert.deepEqual(
      disabled.map((e) => e.id),
      [failing.id],
    );
    const rows = new Map(
      (
        await t.db.query<{
          id: string;
          active: boolean;
          disabled_reason: string | null;
          disabled_at: Date | null;
        }>('SELECT id, active, disabled_reason, disabled_at FROM endpoints WHERE id = ANY($1::text[])', [
          [failing.id, recent.id, healthy.id],
        ])
      ).map((r) => [r.id, r]),
    );
    assert.equal(rows.get(failing.id)!.active, false);
    assert.equal(rows.get(failing.id)!.disabled_reason, 'failing continuously for more than 5d');
    assert.equal(rows.get(failing.id)!.disabled_at!.getTime(), now.getTime());
    assert.equal(rows.get(recent.id)!.active, true);
    assert.equal(rows.get(healthy.id)!.active, true);
    assert.equal(logger.warnings.length, 1);
    assert.match(logger.warnings[0]!.msg!, /endpoint disabled/);
    assert.deepEqual((logger.warnings[0]!.obj as { endpointId: string }).endpointId, failing.id);
  });

  test('the runner takes each job on one instance at a time', async () => {
    const clock = manualClock(new Date('2030-07-01T00:00:00Z'));
    const ep = await insertEndpoint(t.db, tenant, {
      url: URL,
      failingSince: new Date('2030-01-01T00:00:00Z'),
    });
    const loggers = [recordingLogger(), recordingLogger()];
    const runners = loggers.map((logger, i) =>
      createMaintenance({
        db: t.db,
        workerId: `m${i}`,
        clock,
        logger,
        config: { retentionDays: 30, disableAfterSeconds: 86_400 },
      }),
    );
    await Promise.all(runners.map((r) => r.runOnce()));
    const notices = loggers
      .flatMap((l) => l.warnings)
      .filter((w) => (w.obj as { endpointId?: string }).endpointId === ep.id);
    assert.equal(notices.length, 1, 'disabled (and notified) once');
    const jobs = await t.db.query<{ job: string; last_run_at: Date | null }>(
      'SELECT job, last_run_at FROM maintenance ORDER BY job',
    );
    assert.ok(
      jobs.some((j) => j.job === 'auto-disable' && j.last_run_at?.getTime() === clock.now().getTime()),
    );
    assert.ok(jobs.some((j) => j.job === 'retention'));
    if (kind === 'pglite') assert.ok(jobs.some((j) => j.job === 'vacuum'));
    const [row] = await t.db.query<{ active: boolean }>('SELECT active FROM endpoints WHERE id = $1', [
      ep.id,
    ]);
    assert.equal(row!.active, false);
    await Promise.all(runners.map((r) => r.stop()));
  });

  test('the next-due job lowers a next_due_at left above a pending delivery, and warns', async () => {
    // After the runner test: its jobs ran at an earlier clock and are due again by this one.
    const clock = manualClock(new Date('2030-09-01T00:00:00Z'));
    const ep = await insertEndpoint(t.db, tenant, { url: URL });
    await publishOne(t.db, tenant, ep.id, {}, { nextAttemptAt: clock.now() });
    // As a writer that forgot to lower it would leave it.
    await t.db.query('UPDATE endpoints SET next_due_at = NULL WHERE id = $1', [ep.id]);
    const logger = recordingLogger();
    const runner = createMaintenance({
      db: t.db,
      workerId: 'm-next-due',
      clock,
      logger,
      config: { retentionDays: 30, disableAfterSeconds: 86_400 },
    });
    await runner.runOnce();
    const [row] = await t.db.query<{ next_due_at: Date | null }>(
      'SELECT next_due_at FROM endpoints WHERE id = $1',
      [ep.id],
    );
    assert.deepEqual(row!.next_due_at, clock.now());
    const warned = logger.warnings.filter((w) => w.msg === 'next_due_at repaired');
    assert.equal(warned.length, 1);
    assert.ok((warned[0]!.obj as { endpoints: string[] }).endpoints.includes(ep.id));
    await runner.stop();
  });
});
