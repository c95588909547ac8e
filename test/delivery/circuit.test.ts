/**
 * The circuit breaker as the dispatcher lives it (docs/isolation.md): a receiver that keeps failing
 * opens its endpoint's circuit, its deliveries then wait without spending attempts, and after the
 * cool-down a single probe decides. Time is the injected clock throughout.
 */
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { after, afterEach, before, test } from 'node:test';
import { Agent } from 'undici';
import { createDispatcher, type DeliveryDispatcher } from '../../src/delivery/dispatcher.ts';
import {
  insertEndpoint,
  insertTenant,
  type ManualClock,
  manualClock,
  publishOne,
  type Receiver,
  startReceiver,
  testSecretBox,
  waitFor,
} from '../support/delivery-fixtures.ts';
import { forEachStorage, freshDb, type TestDb } from '../support/storage.ts';

forEachStorage('circuit breaker in the dispatcher', (kind) => {
  let t: TestDb;
  let tenant: string;
  const agent = new Agent({ connect: { timeout: 1000 } });
  const open: Array<DeliveryDispatcher | Receiver> = [];
  before(async () => {
    t = await freshDb(kind);
    tenant = await insertTenant(t.db);
  });
  afterEach(async () => {
    for (const x of open.splice(0).reverse()) await ('url' in x ? x.close() : x.stop({ graceMs: 0 }));
  });
  after(async () => {
    await agent.close();
    await t.close();
  });

  function dispatcher(clock: ManualClock): DeliveryDispatcher {
    const d = createDispatcher({
      db: t.db,
      secretBox: testSecretBox,
      agent,
      clock,
      random: () => 0.5,
      listen: false,
      config: {
        pollIntervalMs: 20,
        maxInFlightPerEndpoint: 2,
        circuitFailureThreshold: 3,
        circuitCooldownMs: 30_000,
      },
    });
    open.push(d);
    return d;
  }

  const endpointRow = async (id: string) =>
    (
      await t.db.query<{ circuit_state: string; circuit_until: Date | null; circuit_reason: string | null }>(
        'SELECT circuit_state, circuit_until, circuit_reason FROM endpoints WHERE id = $1',
        [id],
      )
    )[0]!;

  const leased = async (endpointId: string, clock: ManualClock) =>
    (
      await t.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM deliveries
         WHERE endpoint_id = $1 AND locked_by IS NOT NULL AND next_attempt_at > $2`,
        [endpointId, clock.now()],
      )
    )[0]!.n;

  test('failures open the circuit: deliveries wait unspent, then one probe closes it', async () => {
    const clock = manualClock();
    let healthy = false;
    const held: ServerResponse[] = [];
    const r = await startReceiver((_req, res) => {
      if (!healthy) res.writeHead(503).end('down');
      else held.push(res);
    });
    open.push(r);
    // A retry a minute (60 s) later: only the circuit can stop the first attempts of all twenty.
    const ep = await insertEndpoint(t.db, tenant, { url: r.url, retrySchedule: [60] });
    const ids: string[] = [];
    for (let i = 0; i < 20; i++)
      ids.push((await publishOne(t.db, tenant, ep.id, {}, { nextAttemptAt: clock.now() })).deliveryId);
    const d = dispatcher(clock);
    await d.start();

    const opened = await waitFor('the circuit open', async () => {
      const row = await endpointRow(ep.id);
      return row.circuit_state === 'open' && row;
    });
    assert.equal(opened.circuit_until?.getTime(), clock.now().getTime() + 30_000);
    assert.match(opened.circuit_reason ?? '', /consecutive failed attempts; last: HTTP 503/);
    // Everything it held is given back or recorded: nothing leased, and every attempt counted is a
    // request the receiver saw (given-back claims restore their count).
    await waitFor('nothing leased', async () => (await leased(ep.id, clock)) === 0 && d.inFlight === 0);
    const [spent] = await t.db.query<{ attempts: number; counted: number }>(
      `SELECT (SELECT count(*)::int FROM attempts WHERE endpoint_id = $1) AS attempts,
              (SELECT sum(attempt_count)::int FROM deliveries WHERE endpoint_id = $1) AS counted`,
      [ep.id],
    );
    assert.equal(spent!.counted, spent!.attempts);
    assert.equal(r.requests.length, spent!.attempts);
    assert.ok(spent!.attempts < 20, `the circuit stopped the attempts (${spent!.attempts} of 20)`);

    // Cooled down: exactly one probe goes out while the receiver holds it.
    healthy = true;
    const before = r.requests.length;
    clock.advance(30_001);
    d.wake();
    await waitFor('the probe out', () => held.length === 1);
    assert.equal(await leased(ep.id, clock), 1, 'half-open: one request in flight, no more');
    assert.equal(r.requests.length, before + 1);
    held.shift()!.end('ok');
    await waitFor('the circuit closed', async () => (await endpointRow(ep.id)).circuit_state === 'closed');
    // Closed: the rest flow (the receiver answers them at once now).
    r.handle((_req, res) => res.end('ok'));
    for (const res of held.splice(0)) res.end('ok');
    clock.advance(60_000); // the failed ones' retries fall due
    d.wake();
    await waitFor('all delivered', async () => {
      const [row] = await t.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM deliveries WHERE endpoint_id = $1 AND status = 'succeeded'`,
        [ep.id],
      );
      return row!.n === ids.length;
    });
  });

  test('a failed probe opens the circuit again for twice as long', async () => {
    const clock = manualClock();
    const r = await startReceiver((_req, res) => res.writeHead(500).end());
    open.push(r);
    // Retried 10 s after the first failure, so something is due when the circuit cools down
    // however many of the ten the dispatcher sent before the circuit opened (it holds them ahead).
    const ep = await insertEndpoint(t.db, tenant, { url: r.url, retrySchedule: [10] });
    for (let i = 0; i < 10; i++) await publishOne(t.db, tenant, ep.id, {}, { nextAttemptAt: clock.now() });
    const d = dispatcher(clock);
    await d.start();
    await waitFor('the circuit open', async () => (await endpointRow(ep.id)).circuit_state === 'open');
    await waitFor('nothing leased', async () => (await leased(ep.id, clock)) === 0 && d.inFlight === 0);
    const first = r.requests.length;
    clock.advance(30_001);
    const probeAt = clock.now().getTime();
    d.wake();
    await waitFor('the probe failed', async () => {
      const row = await endpointRow(ep.id);
      return row.circuit_until !== null && row.circuit_until.getTime() > probeAt && row;
    });
    assert.equal(r.requests.length, first + 1, 'one probe');
    assert.equal((await endpointRow(ep.id)).circuit_until?.getTime(), probeAt + 60_000);
  });
});
