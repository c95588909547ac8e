/**
 * `GET /v1/stats`: the operator's health figures — the due backlog, failing, disabled and
 * circuit-open endpoints, and attempts per minute by outcome — under an injected clock.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { makeTestApp, type TestApp } from '../support/app.ts';
import { insertAttempts } from '../support/attempt-fixtures.ts';
import { insertEndpoint, insertTenant, manualClock, publishOne } from '../support/delivery-fixtures.ts';
import { forEachStorage } from '../support/storage.ts';

const NOW = new Date('2030-01-01T12:30:30Z');
const ago = (seconds: number) => new Date(NOW.getTime() - seconds * 1000);

forEachStorage('operator stats', (kind) => {
  let t: TestApp;
  let failing: string;
  let disabled: string;
  let open: string;
  let probing: string;

  before(async () => {
    t = await makeTestApp(kind, { clock: manualClock(NOW), config: { disableAfterSeconds: 86_400 } });
    const db = t.ctx.db;
    await insertTenant(db, 'acme');
    failing = (await insertEndpoint(db, 'acme', { url: 'http://127.0.0.1:9/a', failingSince: ago(600) })).id;
    disabled = (await insertEndpoint(db, 'acme', { url: 'http://127.0.0.1:9/b', active: false })).id;
    await db.query(`UPDATE endpoints SET disabled_reason = 'gone', disabled_at = $2 WHERE id = $1`, [
      disabled,
      ago(60),
    ]);
    // Two due deliveries on the active endpoint (the oldest due 90 s ago), one not yet due, and one
    // on the disabled endpoint, which does not count.
    await publishOne(db, 'acme', failing, {}, { nextAttemptAt: ago(90) });
    await publishOne(db, 'acme', failing, {}, { nextAttemptAt: ago(10) });
    await publishOne(db, 'acme', failing, {}, { nextAttemptAt: new Date(NOW.getTime() + 60_000) });
    await publishOne(db, 'acme', disabled, {}, { nextAttemptAt: ago(300) });
    // Circuits: open until a minute from now, cooled down a second ago (half-open), open on the
    // disabled endpoint (not counted); and one endpoint throttled with its circuit closed.
    open = (await insertEndpoint(db, 'acme', { url: 'http://127.0.0.1:9/open' })).id;
    probing = (await insertEndpoint(db, 'acme', { url: 'http://127.0.0.1:9/probing' })).id;
    const throttled = (await insertEndpoint(db, 'acme', { url: 'http://127.0.0.1:9/slow' })).id;
    const circuit = `UPDATE endpoints SET circuit_state = 'open', circuit_until = $2, circuit_opened_at = $3,
      circuit_reason = $4, concurrency_limit = 1, consecutive_failures = 20 WHERE id = $1`;
    await db.query(circuit, [open, new Date(NOW.getTime() + 60_000), ago(120), 'last: HTTP 503']);
    await db.query(circuit, [probing, ago(1), ago(600), 'last: timeout']);
    await db.query(circuit, [disabled, new Date(NOW.getTime() + 60_000), ago(60), 'gone']);
    await db.query('UPDATE endpoints SET concurrency_limit = 16, consecutive_failures = 3 WHERE id = $1', [
      throttled,
    ]);
    const d = await publishOne(
      db,
      'acme',
      failing,
      {},
      { nextAttemptAt: new Date(NOW.getTime() + 3600_000) },
    );
    await insertAttempts(db, { tenantId: 'acme', endpointId: failing, deliveryId: d.deliveryId }, [
      { at: ago(2 * 3600), durationMs: 5 }, // outside the hour
      { at: ago(29), durationMs: 5 }, // 12:30
      { at: ago(20), durationMs: 5, statusCode: 503, errorKind: 'http_status' },
      { at: ago(15), durationMs: 5, statusCode: null, errorKind: 'connect_error' },
      { at: ago(31), durationMs: 5 }, // 12:29
    ]);
  });
  after(() => t?.close());

  test('reports the backlog, the failing and disabled endpoints and attempts per minute', async () => {
    const res = await t.request('GET', '/v1/stats');
    assert.equal(res.statusCode, 200, res.body);
    const s = res.json();
    assert.equal(s.window, '1h');
    assert.deepEqual(s.queue, { due: 2, oldestDueAgeSeconds: 90, oldestDueAt: ago(90).toISOString() });
    assert.equal(s.endpoints.failing, 1);
    assert.equal(s.endpoints.disabled, 1);
    assert.deepEqual(s.endpoints.failingList, [
      {
        tenantId: 'acme',
        endpointId: failing,
        url: 'http://127.0.0.1:9/a',
        name: null,
        failingSince: ago(600).toISOString(),
        disablesAt: new Date(ago(600).getTime() + 86_400_000).toISOString(),
      },
    ]);
    assert.equal(s.endpoints.disabledList[0].endpointId, disabled);
    assert.equal(s.endpoints.disabledList[0].disabledReason, 'gone');
    assert.equal(s.endpoints.circuitOpen, 2);
    assert.equal(s.endpoints.throttled, 3);
    assert.deepEqual(s.endpoints.circuitOpenList, [
      {
        tenantId: 'acme',
        endpointId: probing,
        url: 'http://127.0.0.1:9/probing',
        name: null,
        circuit: 'half_open',
        circuitReason: 'last: timeout',
        circuitOpenedAt: ago(600).toISOString(),
        circuitUntil: ago(1).toISOString(),
      },
      {
        tenantId: 'acme',
        endpointId: open,
        url: 'http://127.0.0.1:9/open',
        name: null,
        circuit: 'open',
        circuitReason: 'last: HTTP 503',
        circuitOpenedAt: ago(120).toISOString(),
        circuitUntil: new Date(NOW.getTime() + 60_000).toISOString(),
      },
    ]);
    assert.equal(s.attempts.bucketSeconds, 60);
    assert.equal(s.attempts.buckets.length, 60);
    const last = s.attempts.buckets.at(-1);
    assert.deepEqual(last, { start: '2030-01-01T12:30:00.000Z', succeeded: 1, rejected: 1, errored: 1 });
    assert.deepEqual(s.attempts.buckets.at(-2), {
      start: '2030-01-01T12:29:00.000Z',
      succeeded: 1,
      rejected: 0,
      errored: 0,
    });
    const total = s.attempts.buckets.reduce(
      (n: number, b: { succeeded: number; rejected: number; errored: number }) =>
        n + b.succeeded + b.rejected + b.errored,
      0,
    );
    assert.equal(total, 4);
  });

  test('is the operator’s only', async () => {
    const key = await t.tenantKey('acme');
    assert.equal((await t.request('GET', '/v1/stats', undefined, key)).statusCode, 403);
    assert.equal((await t.request('GET', '/v1/stats', undefined, null)).statusCode, 401);
  });
});
