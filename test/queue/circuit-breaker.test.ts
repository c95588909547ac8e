/**
 * Issue 14, delivery isolation: the circuit breaker kept by recording (record-outcomes.ts) and
 * applied by the claim (claim-deliveries.ts): consecutive failed attempts open it, its deliveries
 * then wait without spending attempts, one probe after the cool-down decides (docs/isolation.md).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ClaimedDelivery } from '../../src/queue/claimed-delivery.ts';
import type { AttemptRecord, RecordOptions } from '../../src/queue/record-outcomes.ts';
import { insertEndpoint, insertTenant, manualClock } from '../support/delivery-fixtures.ts';
import {
  assertNextDueInvariant,
  claimAt,
  countByEndpoint,
  insertDue,
  outcome,
  plus,
  recordAt,
  schedulingOf,
  settle,
} from '../support/scheduling.ts';
import { forEachStorage, freshDb, type TestDb } from '../support/storage.ts';

const URL = 'http://127.0.0.1:9/hook';

/** Error kinds of attempts that never reached the receiver (deliver-one.ts, sender.ts). */
const LOCAL_KINDS = [
  'blocked_address',
  'payload_purged',
  'profile_unsupported',
  'render_error',
  'auth_unsupported',
  'oauth_token_error',
  'internal_error',
];

forEachStorage('circuit breaker', (kind) => {
  let t: TestDb;
  before(async () => {
    t = await freshDb(kind);
  });
  after(() => t.close());

  const clock = manualClock();
  const claim = (o: { limit?: number; workerId?: string } = {}) => claimAt(t.db, clock.now(), o);
  /** Records, at the clock's time, `outcomes[i]` (or the last one) for `ds[i]`. */
  const record = (
    ds: readonly ClaimedDelivery[],
    outcomes: Partial<AttemptRecord> | ReadonlyArray<Partial<AttemptRecord>>,
    opts: Partial<RecordOptions> = {},
  ) => recordAt(t.db, clock.now(), ds, outcomes, opts);
  /** A fresh endpoint with `count` deliveries due. */
  async function endpointWithDue(count: number): Promise<{ tenant: string; ep: string }> {
    await settle(t.db);
    clock.advance(3_600_000);
    const tenant = await insertTenant(t.db);
    const ep = (await insertEndpoint(t.db, tenant, { url: URL })).id;
    await insertDue(t.db, { tenantId: tenant, endpointId: ep, count, at: plus(clock.now(), -60_000) });
    return { tenant, ep };
  }
  const attemptCounts = async (ep: string) =>
    (
      await t.db.query<{ id: string; attempt_count: number }>(
        'SELECT id, attempt_count FROM deliveries WHERE endpoint_id = $1 ORDER BY id',
        [ep],
      )
    ).map((r) => [r.id, r.attempt_count]);

  test('20 consecutive failures open it for 30 s: nothing claimed, no attempt spent; then one probe', async () => {
    const { tenant, ep } = await endpointWithDue(40);
    const other = (await insertEndpoint(t.db, tenant, { url: `${URL}/other` })).id;

    // 19 failures: still closed.
    const first = await claim({ limit: 19 });
    assert.equal(first.length, 19);
    const r19 = await record(first, outcome.unavailable);
    assert.deepEqual(
      r19.endpoints.map((e) => [e.endpointId, e.circuitState]),
      [[ep, 'closed']],
    );
    let s = await schedulingOf(t.db, ep);
    assert.deepEqual([s.circuit_state, s.consecutive_failures, s.circuit_until], ['closed', 19, null]);

    // The 20th: open until now + 30 s, with the reason, and the batch says so.
    clock.advance(1000);
    const opensAt = clock.now();
    const r20 = await record(await claim({ limit: 1 }), outcome.timeout);
    assert.deepEqual(r20.endpoints, [
      // 19 × 503 in one batch halved the limit once (32), this timeout again (16).
      { endpointId: ep, concurrencyLimit: 16, circuitState: 'open', circuitUntil: plus(opensAt, 30_000) },
    ]);
    s = await schedulingOf(t.db, ep);
    assert.equal(s.circuit_state, 'open');
    assert.equal(s.consecutive_failures, 20);
    assert.deepEqual(s.circuit_until, plus(opensAt, 30_000));
    assert.deepEqual(s.circuit_opened_at, opensAt);
    assert.equal(s.circuit_trips, 1);
    assert.equal(
      s.circuit_reason,
      '20 consecutive failed attempts; last: timeout: no response within 15000 ms',
    );

    // Open: its due deliveries (20 of them) are left alone, attempt counts unchanged; other
    // endpoints are claimed as usual.
    const before = await attemptCounts(ep);
    await insertDue(t.db, { tenantId: tenant, endpointId: other, count: 3, at: plus(clock.now(), -1) });
    const others: ClaimedDelivery[] = [];
    for (const wait of [0, 10_000, 19_999]) {
      clock.advance(wait);
      const got = await claim();
      assert.ok(
        got.every((d) => d.endpointId !== ep),
        `${clock.now().getTime() - opensAt.getTime()} ms after opening`,
      );
      others.push(...got);
    }
    assert.equal(others.length, 3, "the other endpoint's, at once");
    await record(others, outcome.success);
    assert.deepEqual(await attemptCounts(ep), before, 'no attempt spent while open');
    assert.deepEqual(clock.now(), plus(opensAt, 29_999));

    // At circuit_until: exactly one probe, whatever the batch, and no second while it is out.
    clock.advance(1);
    const probe = await claim();
    assert.equal(probe.length, 1);
    assert.equal(probe[0]!.endpointId, ep);
    assert.equal(probe[0]!.endpoint.maxInFlight, 1, 'claimed as a probe');
    assert.equal((await claim({ workerId: 'w2' })).length, 0, 'one probe at a time');
    await assertNextDueInvariant(t.db, 'probing');

    // The probe fails: open again, twice as long.
    clock.advance(500);
    const reopened = await record(probe, outcome.unavailable);
    assert.deepEqual(reopened.endpoints[0]!.circuitUntil, plus(clock.now(), 60_000));
    s = await schedulingOf(t.db, ep);
    assert.deepEqual(
      [s.circuit_state, s.consecutive_failures, s.circuit_trips, s.circuit_opened_at],
      ['open', 21, 2, opensAt],
      'still the same outage',
    );
    assert.equal(s.circuit_reason, '21 consecutive failed attempts; last: HTTP 503');
    clock.advance(59_999);
    assert.equal((await claim()).length, 0);
    clock.advance(1);
    const probe2 = await claim();
    assert.equal(probe2.length, 1);

    // It succeeds: closed, and the endpoint's deliveries flow again (at its adaptive limit).
    clock.advance(200);
    const closed = await record(probe2, outcome.success);
    assert.deepEqual(closed.endpoints, [
      // Halved by the failed probe (8), one more for the success.
      { endpointId: ep, concurrencyLimit: 9, circuitState: 'closed', circuitUntil: null },
    ]);
    s = await schedulingOf(t.db, ep);
    assert.deepEqual(
      [
        s.circuit_state,
        s.circuit_until,
        s.circuit_reason,
        s.circuit_opened_at,
        s.circuit_trips,
        s.consecutive_failures,
      ],
      ['closed', null, null, null, 0, 0],
    );
    const flowing = await claim();
    assert.deepEqual([...countByEndpoint(flowing)], [[ep, 9]]);
    assert.equal(flowing[0]!.endpoint.maxInFlight, 9);
    await assertNextDueInvariant(t.db, 'closing');
  });

  test('each failed probe doubles the cool-down, up to the most (circuitCooldownMs, circuitMaxCooldownMs)', async () => {
    const { ep } = await endpointWithDue(20);
    const opts = { circuitFailureThreshold: 3, circuitCooldownMs: 1000, circuitMaxCooldownMs: 5000 };
    await record(await claim({ limit: 3 }), outcome.timeout, opts);
    const cooldowns: number[] = [];
    for (let i = 0; i < 6; i++) {
      const s = await schedulingOf(t.db, ep);
      assert.equal(s.circuit_state, 'open');
      cooldowns.push(s.circuit_until!.getTime() - clock.now().getTime());
      clock.advance(s.circuit_until!.getTime() - clock.now().getTime());
      const probe = await claim();
      assert.equal(probe.length, 1, `probe ${i + 1}`);
      await record(probe, outcome.timeout, opts);
    }
    assert.deepEqual(cooldowns, [1000, 2000, 4000, 5000, 5000, 5000]);
  });

  test('a smaller threshold (circuitFailureThreshold); failures before any request do not count', async () => {
    const { ep } = await endpointWithDue(60);
    const opts = { circuitFailureThreshold: 5 };
    // Every kind of failure that never reached the receiver, several times over: nothing counts.
    const local = await claim({ limit: LOCAL_KINDS.length * 3 });
    const res = await record(
      local,
      local.map((_, i) => outcome.local(LOCAL_KINDS[i % LOCAL_KINDS.length]!)),
      opts,
    );
    let s = await schedulingOf(t.db, ep);
    assert.deepEqual([s.circuit_state, s.consecutive_failures, s.concurrency_limit], ['closed', 0, null]);
    assert.ok(res.endpoints.every((e) => e.circuitState === 'closed'));
    // ...and they do not break a run of counted failures either.
    await record(await claim({ limit: 4 }), outcome.badRequest, opts);
    await record(await claim({ limit: 2 }), outcome.local('blocked_address'), opts);
    // A budget the OAuth 2 token fetch used up is recorded as a timeout, but no request went out.
    await record(await claim({ limit: 2 }), { ...outcome.timeout, sentNothing: true }, opts);
    s = await schedulingOf(t.db, ep);
    assert.deepEqual([s.circuit_state, s.consecutive_failures], ['closed', 4]);
    // The fifth counted failure (any status that answered: 400 is not congestion, but a failure).
    const opened = await record(await claim({ limit: 1 }), outcome.badRequest, opts);
    assert.equal(opened.endpoints[0]!.circuitState, 'open');
    s = await schedulingOf(t.db, ep);
    assert.equal(s.consecutive_failures, 5);
    assert.equal(s.circuit_reason, '5 consecutive failed attempts; last: HTTP 400');
    assert.equal(s.concurrency_limit, null, '4xx is no congestion');
    // Every kind that reached the receiver counts.
    const { ep: ep2 } = await endpointWithDue(10);
    await record(
      await claim({ limit: 5 }),
      ['timeout', 'connect_error', 'network_error', 'tls_error', 'http_status'].map((errorKind) => ({
        ...outcome.timeout,
        errorKind,
        statusCode: errorKind === 'http_status' ? 500 : null,
      })),
      opts,
    );
    assert.equal((await schedulingOf(t.db, ep2)).circuit_state, 'open');
  });

  test('a success in the middle of a batch: the count is the failures after it', async () => {
    const { ep } = await endpointWithDue(40);
    const opts = { circuitFailureThreshold: 5 };
    const F = outcome.unavailable;
    const S = outcome.success;
    await record(await claim({ limit: 3 }), F, opts);
    assert.equal((await schedulingOf(t.db, ep)).consecutive_failures, 3);
    // 3 before + 4 = 7 failures, but a success after the fourth: 2 trailing.
    await record(await claim({ limit: 7 }), [F, F, F, F, S, F, F], opts);
    let s = await schedulingOf(t.db, ep);
    assert.deepEqual([s.circuit_state, s.consecutive_failures], ['closed', 2]);
    // Six failures, then a success, in one batch: the receiver answered last; stays closed.
    await record(await claim({ limit: 7 }), [F, F, F, F, F, F, S], opts);
    s = await schedulingOf(t.db, ep);
    assert.deepEqual([s.circuit_state, s.consecutive_failures], ['closed', 0]);
    // A success, then the threshold's worth of failures, in one batch: opens.
    await record(await claim({ limit: 6 }), [S, F, F, F, F, F], opts);
    s = await schedulingOf(t.db, ep);
    assert.deepEqual([s.circuit_state, s.consecutive_failures], ['open', 5]);
  });

  test('outcomes of requests already out when it opened: failures keep it open, a success closes it', async () => {
    const { ep } = await endpointWithDue(20);
    const opts = { circuitFailureThreshold: 3 };
    const out = await claim({ limit: 6 });
    await record(out.slice(0, 3), outcome.timeout, opts);
    const s = await schedulingOf(t.db, ep);
    assert.equal(s.circuit_state, 'open');
    // Late failures while cooling down: counted, but the cool-down is not restarted or doubled.
    clock.advance(5000);
    await record(out.slice(3, 5), outcome.timeout, opts);
    const later = await schedulingOf(t.db, ep);
    assert.deepEqual(
      [later.circuit_state, later.circuit_until, later.circuit_trips, later.consecutive_failures],
      ['open', s.circuit_until, 1, 5],
    );
    // A late success: the receiver answers again, closed at once.
    await record(out.slice(5), outcome.success, opts);
    const closed = await schedulingOf(t.db, ep);
    assert.deepEqual([closed.circuit_state, closed.circuit_until, closed.circuit_trips], ['closed', null, 0]);
    assert.equal((await claim()).length > 0, true);
  });
});
