/**
 * One budget per attempt, one lease rule: the budget is the first timeout set (endpoint, profile,
 * default) clamped to [1, 60 s]; the lease is the budget plus the margin, wherever a lease is set.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ALL_PROFILES } from '../../src/profiles/index.ts';
import type { Profile } from '../../src/profiles/profile.ts';
import type { Candidate } from '../../src/publish/candidates.ts';
import { reserveHandoff } from '../../src/publish/handoff-port.ts';
import type { NewDelivery } from '../../src/publish/publish-sql.ts';
import type { DeliveryHandoff } from '../../src/queue/handoff.ts';
import {
  attemptBudgetMs,
  leaseFor,
  MAX_ATTEMPT_TIMEOUT_MS,
  profileBudgets,
} from '../../src/rules/attempt-budget.ts';

test('the budget is the first set of endpoint, profile and default', () => {
  assert.equal(MAX_ATTEMPT_TIMEOUT_MS, 60_000);
  assert.equal(attemptBudgetMs(2_000, 5_000, 15_000), 2_000);
  assert.equal(attemptBudgetMs(null, 5_000, 15_000), 5_000);
  assert.equal(attemptBudgetMs(null, undefined, 15_000), 15_000);
});

test('the budget is clamped to [1, 60 s], whichever value it came from', () => {
  assert.equal(attemptBudgetMs(300_000, 5_000, 15_000), 60_000, 'a value stored before the limit');
  assert.equal(attemptBudgetMs(60_000, undefined, 15_000), 60_000);
  assert.equal(attemptBudgetMs(60_001, undefined, 15_000), 60_000);
  assert.equal(attemptBudgetMs(null, 120_000, 15_000), 60_000);
  assert.equal(attemptBudgetMs(null, undefined, 90_000), 60_000);
  assert.equal(attemptBudgetMs(0, 5_000, 15_000), 1, 'a set 0 is not skipped, it is clamped');
  assert.equal(attemptBudgetMs(null, undefined, -5), 1);
});

test('the lease covers the whole budget plus the margin', () => {
  assert.equal(leaseFor(15_000, 30_000), 45_000);
  assert.equal(leaseFor(attemptBudgetMs(300_000, undefined, 15_000), 30_000), 90_000);
});

test('profileBudgets: the profiles that set a total timeout, by name', () => {
  const fake = (name: string, timeouts?: Profile['timeouts']) =>
    ({
      name,
      label: name,
      ownedHeaders: [],
      options: {},
      render: () => ({ body: '', headers: {} }),
      ...(timeouts ? { timeouts } : {}),
    }) as unknown as Profile;
  assert.deepEqual(profileBudgets([fake('a', { connectMs: 1_000, totalMs: 7_000 }), fake('b'), fake('c')]), {
    a: 7_000,
  });
  assert.deepEqual(profileBudgets([]), {});
  // What ships today: only ShipStream has its own timeouts.
  const shipped = profileBudgets(ALL_PROFILES);
  assert.deepEqual(shipped, { shipstream: 5_000 });
  // Fit for the claim SQL's jsonb parameter: ($n::jsonb ->> e.profile)::int.
  assert.deepEqual(JSON.parse(JSON.stringify(shipped)), shipped);
});

test('a delivery handed over by publishing gets the same lease as a claim would give it', () => {
  const handoff: DeliveryHandoff = {
    workerId: 'w1',
    leaseMs: 30_000,
    defaultTotalTimeoutMs: 15_000,
    queueNow: () => null,
    reserve: (wanted) => wanted.map(() => true),
    accept: () => {},
  };
  const endpoint = (id: string, profile: string, total: number | null): Candidate => ({
    id,
    event_types: ['*'],
    filter: null,
    ignore_origins: [],
    ordering: 'none',
    profile,
    url: 'https://example.com/hook',
    secret_enc: 'sealed',
    previous_secret_enc: null,
    previous_secret_until: null,
    headers: {},
    profile_options: {},
    auth_enc: null,
    retry_schedule: null,
    connect_timeout_ms: null,
    total_timeout_ms: total,
    concurrency_limit: null,
    circuit_open: false,
    rate_limit_per_second: null,
    active: true,
  });
  const endpoints = new Map<string, Candidate>([
    ['ep_default', endpoint('ep_default', 'standard', null)],
    ['ep_own', endpoint('ep_own', 'shipstream', 2_000)],
    ['ep_profile', endpoint('ep_profile', 'shipstream', null)],
    ['ep_old', endpoint('ep_old', 'standard', 300_000)],
  ]);
  const planned: NewDelivery[] = [...endpoints.keys()].map((endpointId, i) => ({
    id: `dlv_${i}`,
    endpointId,
    eventIds: ['msg_1'],
    eventType: 'invoice.created',
    fifo: false,
  }));
  assert.equal(reserveHandoff('tnt_1', planned, endpoints, handoff, 100).length, 4);
  const leases = Object.fromEntries(planned.map((d) => [d.endpointId, d.leaseMs]));
  assert.deepEqual(leases, {
    ep_default: 45_000,
    ep_own: 32_000,
    ep_profile: 35_000, // ShipStream's own 5 s, which the old rule ignored
    ep_old: 90_000, // 300 s stored before the limit: clamped to 60 s
  });
});
