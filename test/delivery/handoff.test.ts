/**
 * Direct handoff (src/queue/handoff.ts): publishing in the dispatcher's process hands deliveries
 * over to it in memory, under a handoff row that stands in for their rows until their outcomes are
 * recorded (each row written once); nothing is lost when that process dies, and what does not fit
 * or must keep to the claim's rules goes through the queue as usual.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { Agent } from 'undici';
import type { Clock } from '../../src/core/clock.ts';
import { createDispatcher, type DeliveryDispatcher } from '../../src/delivery/dispatcher.ts';
import { type DeliveryLogger, silentLogger } from '../../src/delivery/logger.ts';
import { publishEvents } from '../../src/publish/publish-events.ts';
import type { DeliveryHandoff } from '../../src/queue/handoff.ts';
import {
  attemptsOf,
  deliveryState,
  type EndpointFixture,
  insertEndpoint,
  insertTenant,
  manualClock,
  type Receiver,
  startReceiver,
  testSecretBox,
  waitFor,
} from '../support/delivery-fixtures.ts';
import { forEachStorage, freshDb, type TestDb } from '../support/storage.ts';

forEachStorage('direct handoff', (kind) => {
  let t: TestDb;
  let tenant: string;
  const agent = new Agent({ connect: { timeout: 1000 } });
  const open: Array<{ stop(): Promise<unknown> } | Receiver> = [];
  before(async () => {
    t = await freshDb(kind);
  });
  beforeEach(async () => {
    // Each test its own tenant, so no endpoint of an earlier test gets its events.
    tenant = await insertTenant(t.db);
  });
  afterEach(async () => {
    for (const x of open.splice(0).reverse()) await ('url' in x ? x.close() : x.stop());
    await t.db.query(`DELETE FROM deliveries WHERE status = 'pending'`);
  });
  after(async () => {
    await agent.close();
    await t.close();
  });

  function dispatcher(
    opts: {
      clock?: Clock;
      concurrency?: number;
      leaseMs?: number;
      maxHeldBytes?: number;
      claimAhead?: number;
      maxInFlightPerEndpoint?: number;
      pollIntervalMs?: number;
      logger?: DeliveryLogger;
    } = {},
  ): DeliveryDispatcher {
    const d = createDispatcher({
      db: t.db,
      secretBox: testSecretBox,
      agent,
      ...(opts.clock ? { clock: opts.clock } : {}),
      ...(opts.logger ? { logger: opts.logger } : {}),
      random: () => 0.5,
      // No LISTEN and a long poll: only the handoff can make these deliveries go out quickly.
      listen: false,
      config: {
        pollIntervalMs: opts.pollIntervalMs ?? 60_000,
        ...(opts.concurrency ? { concurrency: opts.concurrency } : {}),
        ...(opts.leaseMs ? { leaseMs: opts.leaseMs } : {}),
        ...(opts.maxHeldBytes ? { maxHeldBytes: opts.maxHeldBytes } : {}),
        ...(opts.claimAhead ? { claimAhead: opts.claimAhead } : {}),
        ...(opts.maxInFlightPerEndpoint ? { maxInFlightPerEndpoint: opts.maxInFlightPerEndpoint } : {}),
      },
    });
    open.push(d);
    return d;
  }

  async function receiver(): Promise<Receiver> {
    const r = await startReceiver();
    open.push(r);
    return r;
  }

  const endpoint = (r: Receiver, e: Partial<EndpointFixture> = {}) =>
    insertEndpoint(t.db, tenant, { url: r.url, ...e });

  const events = (n: number) => Array.from({ length: n }, (_, i) => ({ type: 'invoice.paid', data: { i } }));
  /** The delivery's state once its outcome is recorded as a success. */
  const succeeded = (id: string) =>
    waitFor('recorded', async () => {
      const s = await deliveryState(t.db, id);
      return s.status === 'succeeded' && s;
    });

  test('a published delivery is handed over and sent from memory, signed, and its row written once', async () => {
    const r = await receiver();
    const ep = await endpoint(r);
    const d = dispatcher();
    await d.start();
    // The dispatcher's first claim found nothing; from here on only the handoff can send.
    await waitFor('idle dispatcher', () => d.inFlight === 0);
    const { deliveries } = await publishEvents(t.db, tenant, events(3), { handoff: d.handoff });
    assert.equal(deliveries.length, 3);
    await waitFor('three receipts', () => r.requests.length === 3);
    for (const req of r.requests) {
      const payload = new Webhook(ep.secret).verify(req.body, req.headers as Record<string, string>);
      assert.equal((payload as { type: string }).type, 'invoice.paid');
      assert.equal(req.headers['herald-attempt'], '1');
    }
    assert.deepEqual(r.requests.map((q) => q.headers['herald-sequence']).sort(), ['1', '2', '3']);
    for (const { id } of deliveries) {
      const s = await succeeded(id);
      assert.equal(s.attempt_count, 1);
      assert.equal(s.locked_by, null);
      assert.equal((await attemptsOf(t.db, id)).length, 1);
    }
    // Inserted with its outcome, never updated; the handoff row went with the last record.
    const [row] = await t.db.query<{ written_once: number; handoffs: number }>(
      `SELECT (SELECT count(*) FROM deliveries WHERE id = ANY($1::text[]) AND created_at IS NOT NULL
          AND status = 'succeeded' AND xmax = 0)::int AS written_once,
        (SELECT count(*) FROM handoffs WHERE tenant_id = $2)::int AS handoffs`,
      [deliveries.map((x) => x.id), tenant],
    );
    assert.deepEqual(row, { written_once: 3, handoffs: 0 });
  });

  test('a publish answers before its handed-over deliveries start: their start waits for the answers', async () => {
    const r = await receiver();
    await endpoint(r);
    await endpoint(r);
    const d = dispatcher();
    await d.start();
    await waitFor('idle dispatcher', () => d.inFlight === 0);
    const { deliveries } = await publishEvents(t.db, tenant, events(1), { handoff: d.handoff });
    // This continuation runs in the publish's turn, as the API's answer does: nothing started yet.
    assert.equal(deliveries.length, 2);
    assert.equal(d.inFlight, 0);
    await waitFor('both receipts', () => r.requests.length === 2);
    for (const { id } of deliveries) await succeeded(id);
  });

  test('fifo endpoints and what exceeds the room go through the queue, unclaimed', async () => {
    const r = await receiver();
    const plain = await endpoint(r);
    const fifo = await endpoint(r, { ordering: 'fifo' });
    const accepted: unknown[] = [];
    const reservations: number[] = [];
    const handoff: DeliveryHandoff = {
      workerId: 'w-handoff',
      leaseMs: 30_000,
      defaultTotalTimeoutMs: 15_000,
      queueNow: () => null,
      reserve: (wanted) => wanted.map((_, i) => i < 2),
      accept: (given, reserved) => {
        accepted.push(...given);
        reservations.push(reserved.length);
      },
    };
    const { deliveries } = await publishEvents(t.db, tenant, events(3), { handoff });
    assert.equal(deliveries.length, 6);
    assert.equal(accepted.length, 2);
    assert.deepEqual(reservations, [2]);
    // As the API shows them: the two handed over in flight under the handoff's worker.
    const rows = await t.db.query<{ endpoint_id: string; locked_by: string | null; attempt_count: number }>(
      'SELECT endpoint_id, locked_by, attempt_count FROM all_deliveries WHERE id = ANY($1::text[]) ORDER BY sequence',
      [deliveries.map((x) => x.id)],
    );
    assert.equal(rows.length, 6);
    const claimed = rows.filter((x) => x.locked_by === 'w-handoff');
    assert.equal(claimed.length, 2);
    assert.ok(claimed.every((x) => x.endpoint_id === plain.id && x.attempt_count === 1));
    assert.ok(rows.filter((x) => x.endpoint_id === fifo.id).every((x) => x.locked_by === null));
    // Only the four not handed over have rows yet.
    const [stored] = await t.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM deliveries WHERE id = ANY($1::text[])',
      [deliveries.map((x) => x.id)],
    );
    assert.equal(stored!.n, 4);
  });

  test('a failed publish hands nothing over and gives the room back', async () => {
    let reserved = 0;
    const handoff: DeliveryHandoff = {
      workerId: 'w-handoff',
      leaseMs: 30_000,
      defaultTotalTimeoutMs: 15_000,
      queueNow: () => null,
      reserve: (wanted) => {
        reserved += wanted.length;
        return wanted.map(() => true);
      },
      accept: (given, taken) => {
        assert.equal(given.length, 0);
        reserved -= taken.length;
      },
    };
    const r = await receiver();
    await endpoint(r);
    await assert.rejects(
      publishEvents(t.db, 'no-such-tenant', events(1), { handoff }),
      (err: { code?: string }) => err.code === 'TENANT_NOT_FOUND',
    );
    // An id repeated with other data is refused after the deliveries were planned: rolled back.
    await publishEvents(t.db, tenant, [{ id: 'evt-1', type: 'invoice.paid', data: { a: 1 } }]);
    await assert.rejects(
      publishEvents(
        t.db,
        tenant,
        [
          { id: 'evt-2', type: 'invoice.paid', data: {} },
          { id: 'evt-1', type: 'invoice.paid', data: { a: 2 } },
        ],
        { handoff },
      ),
      (err: { code?: string }) => err.code === 'IDEMPOTENCY_CONFLICT',
    );
    assert.equal(reserved, 0);
  });

  test('a burst past the ahead room of an endpoint heard from is held behind, not left to the queue', async () => {
    const r = await receiver();
    await endpoint(r);
    // One limit's worth ahead, a limit of 4: without holding behind, only 4 of a burst would be
    // handed over and the rest inserted due, for a claim.
    const d = dispatcher({ claimAhead: 1, maxInFlightPerEndpoint: 4 });
    await d.start();
    await waitFor('idle dispatcher', () => d.inFlight === 0);
    const given: string[] = [];
    const accept = d.handoff.accept.bind(d.handoff);
    d.handoff.accept = (deliveries, reserved, bytes) => {
      given.push(...deliveries.map((x) => x.id));
      accept(deliveries, reserved, bytes);
    };
    // Never heard from: it goes no further behind than ahead.
    const first = await publishEvents(t.db, tenant, events(20), { handoff: d.handoff });
    assert.equal(given.length, 4);
    d.wake(); // no LISTEN here: the rest wait for a claim
    await waitFor('the first burst delivered', () => r.requests.length === 20);
    for (const { id } of first.deliveries) await succeeded(id);
    // Heard from, and fast: a burst five times its ahead room is all handed over.
    given.length = 0;
    const { deliveries } = await publishEvents(t.db, tenant, events(40), { handoff: d.handoff });
    assert.equal(given.length, 40);
    const rows = await t.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM deliveries WHERE id = ANY($1::text[]) AND status = 'pending' AND locked_by IS NULL`,
      [deliveries.map((x) => x.id)],
    );
    assert.equal(rows[0]!.n, 0, 'none inserted due for a claim');
    await waitFor('the second burst delivered', () => r.requests.length === 60);
    for (const { id } of deliveries) {
      const s = await succeeded(id);
      assert.equal(s.attempt_count, 1);
    }
  });

  test('the handoff keeps to a memory budget: large payloads go through the queue instead', async () => {
    const r = await receiver();
    await endpoint(r);
    const d = dispatcher({ maxHeldBytes: 1000 });
    await d.start();
    const five = Array.from({ length: 5 }, (_, i) => ({
      tenantId: tenant,
      endpointId: `ep_${i}`,
      limit: null,
    }));
    const count = (taken: boolean[]) => taken.filter(Boolean).length;
    assert.equal(count(d.handoff.reserve(five, 2000)), 0);
    assert.equal(count(d.handoff.reserve(five, 500)), 5);
    assert.equal(count(d.handoff.reserve(five, 600)), 0, 'reserved bytes count against the budget');
    d.handoff.accept([], five, 500);
    assert.equal(count(d.handoff.reserve(five, 600)), 5, 'given back');
    d.handoff.accept([], five, 600);

    const big = { type: 'invoice.paid', data: { blob: 'x'.repeat(2000) } };
    const small = { type: 'invoice.paid', data: { i: 1 } };
    // What the handoff was given (not the rows' locked_by: the dispatcher's own claim, started with
    // it, may already have taken an unclaimed row by the time the test reads it).
    const given: string[] = [];
    const accept = d.handoff.accept.bind(d.handoff);
    d.handoff.accept = (deliveries, reserved, bytes) => {
      given.push(...deliveries.map((x) => x.id));
      accept(deliveries, reserved, bytes);
    };
    const { deliveries } = await publishEvents(t.db, tenant, [big], { handoff: d.handoff });
    const { deliveries: handed } = await publishEvents(t.db, tenant, [small], { handoff: d.handoff });
    assert.deepEqual(given, [handed[0]!.id], 'only the small one was handed over, not the large one');
    assert.notEqual(deliveries[0]!.id, handed[0]!.id);
    d.wake(); // no LISTEN here: the unclaimed one waits for a claim
    await waitFor('both delivered', () => r.requests.length === 2);
    assert.equal((await succeeded(handed[0]!.id)).attempt_count, 1, 'the small one sent as handed over');
  });

  test('a claim held unsent past half its lease is given back and claimed afresh, not sent late', async () => {
    const r = await receiver();
    let first = true;
    r.handle((_req, res) => {
      // The first request holds the only slot for longer than half the 200 ms lease.
      const delay = first ? 400 : 0;
      first = false;
      setTimeout(() => res.end('ok'), delay);
    });
    await endpoint(r);
    const warnings: object[] = [];
    const d = dispatcher({
      concurrency: 1,
      leaseMs: 200,
      logger: { ...silentLogger, warn: (obj) => warnings.push(obj) },
    });
    await d.start();
    // The handoff takes what can start now: the first; the second is held behind it (the dispatcher
    // has no free room left for it to be held ahead), held past half its lease.
    const { deliveries } = await publishEvents(t.db, tenant, events(2), { handoff: d.handoff });
    d.wake();
    const [, second] = deliveries;
    const s = await waitFor('the second delivered', async () => {
      const s = await deliveryState(t.db, second!.id);
      return s.status === 'succeeded' && s;
    });
    assert.equal(r.requests.length, 2);
    // Given back (its handoff claim undone), then claimed again: one attempt in all.
    assert.equal(s.attempt_count, 1);
    assert.equal((await attemptsOf(t.db, second!.id)).length, 1);
    assert.ok(warnings.some((w) => (w as { released?: number }).released === 1));
  });

  test('deliveries handed to a process that died are recovered and claimed by another after the lease', async () => {
    const r = await receiver();
    await endpoint(r);
    const clock = manualClock();
    // A handoff whose dispatcher never sends: the process "dies" right after the commit.
    const dead: DeliveryHandoff = {
      workerId: 'w-dead',
      leaseMs: 30_000,
      defaultTotalTimeoutMs: 15_000,
      queueNow: () => clock.now(),
      reserve: (wanted) => wanted.map(() => true),
      accept: () => {},
    };
    const { deliveries } = await publishEvents(t.db, tenant, events(2), { handoff: dead });
    // Recovery looks for expired handoffs at each poll.
    const d = dispatcher({ clock, pollIntervalMs: 20 });
    await d.start();
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.equal(r.requests.length, 0, 'not before the lease ends');
    assert.equal((await deliveryState(t.db, deliveries[0]!.id)).locked_by, 'w-dead');
    clock.advance(30_000 + 15_000 + 1);
    await waitFor('both delivered', () => r.requests.length === 2);
    for (const { id } of deliveries) {
      const s = await succeeded(id);
      // The dead worker's attempt 1 is recorded as interrupted; the new claim made attempt 2.
      assert.equal(s.attempt_count, 2);
      const attempts = await attemptsOf(t.db, id);
      assert.deepEqual(
        attempts.map((a) => [a.attempt_number, a.error_kind]),
        [
          [1, 'interrupted'],
          [2, null],
        ],
      );
    }
    const [left] = await t.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM handoffs WHERE tenant_id = $1',
      [tenant],
    );
    assert.equal(left!.n, 0);
  });
});
