/**
 * Which changes write an operational event, exactly once, in the statement that makes them
 * (src/queue/operational-outbox.ts, src/queue/record-outcomes.ts, src/store/endpoint-health.ts):
 * transitions only, nothing about the operational tenant's own endpoints, and nothing when the
 * change itself does not commit.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { newId } from '../../src/core/ids.ts';
import { OPERATIONAL_TENANT_ID } from '../../src/core/operational-tenant.ts';
import type { Queryable } from '../../src/db/db.ts';
import { claimDeliveries } from '../../src/queue/claim-deliveries.ts';
import { type AttemptRecord, recordOutcomes } from '../../src/queue/record-outcomes.ts';
import { disableEndpointsFailingSince } from '../../src/store/endpoint-health.ts';
import { updateEndpoint } from '../../src/store/endpoints.ts';
import {
  insertEndpoint,
  insertTenant,
  manualClock,
  publishOne,
  testSecretBox,
} from '../support/delivery-fixtures.ts';
import { forEachStorage, freshDb, type TestDb } from '../support/storage.ts';

const URL = 'http://127.0.0.1:9/hook';
const HEALTH = { circuitFailureThreshold: 2, circuitCooldownMs: 30_000 };

interface OutboxRow {
  type: string;
  payload: Record<string, unknown>;
}

forEachStorage('operational events in the outbox', (kind) => {
  let t: TestDb;
  let tenant: string;
  const clock = manualClock();
  before(async () => {
    t = await freshDb(kind);
    tenant = await insertTenant(t.db);
  });
  beforeEach(async () => {
    await t.db.query('DELETE FROM endpoints');
    await t.db.query('DELETE FROM operational_events');
  });
  after(() => t.close());

  /** Takes the outbox's rows (oldest first). */
  async function drain(q: Queryable = t.db): Promise<OutboxRow[]> {
    return q.query<OutboxRow>('DELETE FROM operational_events RETURNING type, payload');
  }

  type Outcome = 'ok' | 'fail' | 'exhaust' | 'gone';

  /** One attempt at a new delivery of `endpointId`, recorded with `outcome`. */
  async function attempt(tenantId: string, endpointId: string, outcome: Outcome): Promise<string> {
    const record = await attemptRecord(tenantId, endpointId, outcome);
    await recordOutcomes(t.db, [record], { workerId: 'w1', now: clock.now(), ...HEALTH });
    return record.deliveryId;
  }

  /** A new delivery of `endpointId`, claimed, and the record of an attempt with `outcome`. */
  async function attemptRecord(
    tenantId: string,
    endpointId: string,
    outcome: Outcome,
  ): Promise<AttemptRecord> {
    const { deliveryId } = await publishOne(t.db, tenantId, endpointId, {}, { nextAttemptAt: clock.now() });
    const claimed = (
      await claimDeliveries(t.db, {
        workerId: 'w1',
        limit: 100,
        leaseMs: 30_000,
        defaultTotalTimeoutMs: 15_000,
        now: clock.now(),
      })
    ).deliveries.find((d) => d.id === deliveryId)!;
    assert.ok(claimed, 'claimed');
    const failed = outcome !== 'ok';
    return {
      attemptId: newId('atm'),
      deliveryId,
      tenantId,
      endpointId,
      attemptNumber: claimed.attemptNumber,
      // A 410 disables the endpoint; the delivery waits for it to be enabled again.
      status: outcome === 'ok' ? 'succeeded' : outcome === 'exhaust' ? 'failed' : 'pending',
      // Retried only long after any probe below, which must be the delivery made for it.
      retryInMs: outcome === 'fail' || outcome === 'gone' ? 86_400_000 : null,
      startedAt: clock.now(),
      durationMs: 5,
      statusCode: outcome === 'ok' ? 200 : outcome === 'gone' ? 410 : 503,
      errorKind: failed ? 'http_status' : null,
      errorMessage: failed ? `HTTP ${outcome === 'gone' ? 410 : 503}` : null,
      requestHeaders: null,
      responseHeaders: null,
      responseExcerpt: null,
      endpointGone: outcome === 'gone',
    };
  }

  test('a single failure then a success: nothing to report', async () => {
    const ep = await insertEndpoint(t.db, tenant, { url: URL });
    await attempt(tenant, ep.id, 'fail');
    await attempt(tenant, ep.id, 'ok');
    assert.deepEqual(await drain(), []);
  });

  test('a delivery exhausted, then the success that ends the streak: recovered, once', async () => {
    const ep = await insertEndpoint(t.db, tenant, { url: URL });
    const reportedAt = clock.now().toISOString();
    const deliveryId = await attempt(tenant, ep.id, 'exhaust');
    const [exhausted, ...rest] = await drain();
    assert.deepEqual(rest, []);
    assert.equal(exhausted?.type, 'delivery.exhausted');
    assert.equal(exhausted?.payload['deliveryId'], deliveryId);
    assert.equal(exhausted?.payload['url'], URL);

    clock.advance(1000);
    await attempt(tenant, ep.id, 'ok');
    const recovered = await drain();
    assert.deepEqual(recovered, [
      {
        type: 'endpoint.recovered',
        payload: {
          tenantId: tenant,
          endpointId: ep.id,
          url: URL,
          reportedAt,
          recoveredAt: clock.now().toISOString(),
        },
      },
    ]);
    await attempt(tenant, ep.id, 'ok');
    assert.deepEqual(await drain(), [], 'the next success has nothing to end');
  });

  test('a delivery exhausted and a success after it in one batch: exhausted, then recovered', async () => {
    const ep = await insertEndpoint(t.db, tenant, { url: URL });
    const exhaust = await attemptRecord(tenant, ep.id, 'exhaust');
    const ok = await attemptRecord(tenant, ep.id, 'ok');
    await recordOutcomes(t.db, [exhaust, ok], { workerId: 'w1', now: clock.now(), ...HEALTH });
    assert.deepEqual((await drain()).map((e) => e.type).sort(), ['delivery.exhausted', 'endpoint.recovered']);
    const [row] = await t.db.query<{ trouble_reported_at: Date | null }>(
      'SELECT trouble_reported_at FROM endpoints WHERE id = $1',
      [ep.id],
    );
    assert.equal(row?.trouble_reported_at, null);
    // The other way round, the batch ends failing: exhausted only, and the streak goes on.
    await recordOutcomes(
      t.db,
      [await attemptRecord(tenant, ep.id, 'ok'), await attemptRecord(tenant, ep.id, 'exhaust')],
      { workerId: 'w1', now: clock.now(), ...HEALTH },
    );
    assert.deepEqual(
      (await drain()).map((e) => e.type),
      ['delivery.exhausted'],
    );
  });

  test('the circuit: opened once (a failed probe keeps it open silently), then closed and recovered', async () => {
    const ep = await insertEndpoint(t.db, tenant, { url: URL });
    await attempt(tenant, ep.id, 'fail');
    assert.deepEqual(await drain(), []);
    const openedAt = clock.now().toISOString();
    await attempt(tenant, ep.id, 'fail');
    assert.deepEqual(await drain(), [
      {
        type: 'endpoint.circuit_opened',
        payload: {
          tenantId: tenant,
          endpointId: ep.id,
          url: URL,
          circuitReason: '2 consecutive failed attempts; last: HTTP 503',
          consecutiveFailures: 2,
          circuitOpenedAt: openedAt,
          circuitUntil: new Date(clock.now().getTime() + 30_000).toISOString(),
        },
      },
    ]);
    // Cooled down, the probe fails: open again, for longer, and nothing new to say.
    clock.advance(30_001);
    await attempt(tenant, ep.id, 'fail');
    assert.deepEqual(await drain(), []);
    const [row] = await t.db.query<{ circuit_state: string }>(
      'SELECT circuit_state FROM endpoints WHERE id = $1',
      [ep.id],
    );
    assert.equal(row?.circuit_state, 'open');
    // The next probe succeeds.
    clock.advance(60_001);
    await attempt(tenant, ep.id, 'ok');
    const events = await drain();
    assert.deepEqual(events.map((e) => e.type).sort(), ['endpoint.circuit_closed', 'endpoint.recovered']);
    const closed = events.find((e) => e.type === 'endpoint.circuit_closed')!;
    assert.equal(closed.payload['circuitOpenedAt'], openedAt);
    assert.equal(closed.payload['closedAt'], clock.now().toISOString());
  });

  test('410 Gone: endpoint.disabled with its reason', async () => {
    const ep = await insertEndpoint(t.db, tenant, { url: URL });
    await attempt(tenant, ep.id, 'gone');
    const events = await drain();
    assert.deepEqual(
      events.map((e) => e.type),
      ['endpoint.disabled'],
    );
    assert.equal(events[0]!.payload['reason'], 'gone (HTTP 410)');
    assert.equal(events[0]!.payload['disabledAt'], clock.now().toISOString());
    assert.equal(events[0]!.payload['failingSince'], clock.now().toISOString());
  });

  test('auto-disabled, re-enabled, then a success: recovered', async () => {
    const failingSince = new Date(clock.now().getTime() - 86_400_000);
    const ep = await insertEndpoint(t.db, tenant, { url: URL, failingSince });
    const disabled = await disableEndpointsFailingSince(t.db, {
      now: clock.now(),
      failingSince: clock.now(),
      reason: 'failing continuously for more than 1d',
    });
    assert.deepEqual(
      disabled.map((d) => d.id),
      [ep.id],
    );
    const [event] = await drain();
    assert.equal(event?.type, 'endpoint.disabled');
    assert.equal(event?.payload['failingSince'], failingSince.toISOString());
    // Re-enabling resets its health and failure clock, but not what the operator was told.
    await updateEndpoint(t.db, testSecretBox, tenant, ep.id, { active: true });
    assert.deepEqual(await drain(), [], 're-enabling reports nothing');
    await attempt(tenant, ep.id, 'ok');
    assert.deepEqual(
      (await drain()).map((e) => e.type),
      ['endpoint.recovered'],
    );
  });

  test("the operational tenant's own endpoints: exhausted, circuit, 410, auto-disable — nothing", async () => {
    const ep = await insertEndpoint(t.db, OPERATIONAL_TENANT_ID, { url: URL });
    await attempt(OPERATIONAL_TENANT_ID, ep.id, 'exhaust');
    await attempt(OPERATIONAL_TENANT_ID, ep.id, 'fail'); // the circuit opens
    clock.advance(30_001);
    await attempt(OPERATIONAL_TENANT_ID, ep.id, 'ok'); // and closes
    await attempt(OPERATIONAL_TENANT_ID, ep.id, 'gone');
    await t.db.query('UPDATE endpoints SET active = true, failing_since = $2 WHERE id = $1', [
      ep.id,
      new Date(0),
    ]);
    const disabled = await disableEndpointsFailingSince(t.db, {
      now: clock.now(),
      failingSince: clock.now(),
      reason: 'failing',
    });
    assert.deepEqual(
      disabled.map((d) => d.id),
      [ep.id],
    );
    assert.deepEqual(await drain(), []);
    const [row] = await t.db.query<{ trouble_reported_at: Date | null }>(
      'SELECT trouble_reported_at FROM endpoints WHERE id = $1',
      [ep.id],
    );
    assert.equal(row?.trouble_reported_at, null);
  });

  test('written with the change, in its transaction: rolled back, there is no event either', async () => {
    const ep = await insertEndpoint(t.db, tenant, { url: URL });
    const failing = await insertEndpoint(t.db, tenant, { url: URL, failingSince: new Date(0) });
    const record = await attemptRecord(tenant, ep.id, 'exhaust');
    const recordIn = (tx: Queryable) => recordOutcomes(tx, [record], { workerId: 'w1', now: clock.now() });
    await assert.rejects(
      t.db.transaction(async (tx) => {
        await recordIn(tx);
        await disableEndpointsFailingSince(tx, {
          now: clock.now(),
          failingSince: new Date(1000),
          reason: 'r',
        });
        assert.equal(
          (await tx.query('SELECT 1 FROM operational_events')).length,
          2,
          'written in the transaction',
        );
        throw new Error('roll back');
      }),
      /roll back/,
    );
    assert.deepEqual(await drain(), []);
    const [row] = await t.db.query<{ active: boolean }>('SELECT active FROM endpoints WHERE id = $1', [
      failing.id,
    ]);
    assert.equal(row?.active, true, 'the change rolled back with it');
    // Committed, both are there.
    await t.db.transaction(async (tx) => {
      await recordIn(tx);
      await disableEndpointsFailingSince(tx, { now: clock.now(), failingSince: new Date(1000), reason: 'r' });
    });
    assert.deepEqual((await drain()).map((e) => e.type).sort(), ['delivery.exhausted', 'endpoint.disabled']);
  });
});
